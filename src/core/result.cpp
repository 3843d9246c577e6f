#include "core/result.h"

#include <cstring>

namespace l3afd {

const char* errc_name(Errc c) noexcept {
  switch (c) {
    case Errc::InvalidJson: return "invalid_json";
    case Errc::InvalidPayload: return "invalid_payload";
    case Errc::WrongHost: return "wrong_host";
    case Errc::UnknownInterface: return "unknown_interface";
    case Errc::Conflict: return "conflict";
    case Errc::NotFound: return "not_found";
    case Errc::NotReady: return "not_ready";
    case Errc::PayloadTooLarge: return "payload_too_large";
    case Errc::Unavailable: return "unavailable";
    case Errc::Kernel: return "kernel";
    case Errc::Io: return "io";
    case Errc::Timeout: return "timeout";
    case Errc::Internal: return "internal";
    case Errc::RestartInProgress: return "restart_in_progress";
    case Errc::RestartFailed: return "restart_failed";
    case Errc::PackageIntegrity: return "package_integrity";
  }
  return "internal";
}

std::string Error::to_string() const {
  std::string out;
  for (const auto& c : context) {
    out += c;
    out += ": ";
  }
  out += message;
  if (sys_errno != 0) {
    out += ": ";
    out += std::strerror(sys_errno);
  }
  return out;
}

}  // namespace l3afd
