#include "daemon/bpffs.h"

#include <sys/mount.h>
#include <sys/statfs.h>

#include <cerrno>

#include <spdlog/spdlog.h>

namespace l3afd::daemon {

namespace {
constexpr long kBpfFsMagic = 0xcafe4a11;
}

Status ensure_bpffs(const std::filesystem::path& base) {
  std::error_code ec;
  std::filesystem::create_directories(base, ec);
  if (ec) return fail(Errc::Io, "create " + base.string() + ": " + ec.message());
  struct statfs st {};
  if (::statfs(base.c_str(), &st) != 0) return fail(Errc::Io, "statfs " + base.string(), errno);
  if (static_cast<long>(st.f_type) == kBpfFsMagic) return ok();
  if (::mount("bpf", base.c_str(), "bpf", 0, "mode=0700") != 0) {
    return fail(Errc::Io, "mount bpffs at " + base.string(), errno);
  }
  spdlog::info("mounted bpffs path={}", base.string());
  return ok();
}

}  // namespace l3afd::daemon
