#include "api/status.h"

namespace l3afd::api {

int http_status(Errc c) noexcept {
  switch (c) {
    case Errc::InvalidJson:
    case Errc::InvalidPayload:
    case Errc::WrongHost:
    case Errc::UnknownInterface: return 400;
    case Errc::Conflict: return 409;
    case Errc::PayloadTooLarge: return 413;
    case Errc::NotReady:
    case Errc::RestartInProgress: return 503;
    case Errc::NotFound:
    case Errc::Unavailable:
    case Errc::Kernel:
    case Errc::Io:
    case Errc::Timeout:
    case Errc::RestartFailed:
    case Errc::Internal: return 500;
    // Bad Gateway: the upstream (the package repository) answered with something untrustworthy.
    case Errc::PackageIntegrity: return 502;
  }
  return 500;
}

const char* api_code(Errc c) noexcept {
  switch (c) {
    case Errc::InvalidJson: return "invalid_json";
    case Errc::InvalidPayload: return "invalid_payload";
    case Errc::WrongHost: return "wrong_host";
    case Errc::UnknownInterface: return "unknown_interface";
    case Errc::Conflict: return "conflict";
    case Errc::PayloadTooLarge: return "payload_too_large";
    case Errc::NotReady: return "not_ready";
    case Errc::NotFound:
    case Errc::Unavailable:
    case Errc::Kernel:
    case Errc::Io:
    case Errc::Timeout: return "apply_failed";
    case Errc::Internal: return "internal";
    case Errc::RestartInProgress: return "restart_in_progress";
    case Errc::RestartFailed: return "restart_failed";
    case Errc::PackageIntegrity: return "package_integrity";
  }
  return "internal";
}

std::string error_body(const Error& e) {
  std::string out = "{\"code\":";
  http::append_json_string(out, api_code(e.code));
  out += ",\"message\":";
  http::append_json_string(out, e.to_string());
  out += ",\"errors\":[";
  bool first = true;
  for (const auto& it : e.items) {
    if (!first) out += ',';
    first = false;
    out += '{';
    bool f2 = true;
    auto member = [&](const char* k, const std::string& v) {
      if (v.empty()) return;
      if (!f2) out += ',';
      f2 = false;
      http::append_json_string(out, k);
      out += ':';
      http::append_json_string(out, v);
    };
    member("iface", it.iface);
    member("direction", it.direction);
    member("program", it.program);
    member("field", it.field);
    if (!f2) out += ',';
    out += "\"message\":";
    http::append_json_string(out, it.message);
    out += '}';
  }
  out += ']';
  if (!e.step.empty()) {
    out += ",\"step\":";
    http::append_json_string(out, e.step);
  }
  if (e.sys_errno != 0) out += ",\"errno\":" + std::to_string(e.sys_errno);
  out += '}';
  return out;
}

http::Response error_response(const Error& e) {
  http::Response r;
  r.status = http_status(e.code);
  r.body = error_body(e);
  r.log_detail = e.to_string();
  if (r.status == 503) r.headers.emplace_back("Retry-After", "1");
  return r;
}

}  // namespace l3afd::api
