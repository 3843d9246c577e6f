#include "daemon/tracefs.h"

#include <sys/mount.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <cerrno>

#include <spdlog/spdlog.h>

namespace l3afd::daemon {

namespace {
constexpr long kTracefsMagic = 0x74726163;  // TRACEFS_MAGIC
}

Result<std::filesystem::path> ensure_tracefs(const std::filesystem::path& tracing,
                                             const std::filesystem::path& debug_tracing) {
  // Same test as libbpf 1.1's use_debugfs(): the debugfs path wins whenever it exists.
  if (::faccessat(AT_FDCWD, debug_tracing.c_str(), F_OK, AT_EACCESS) == 0) return debug_tracing;
  struct statfs st {};
  if (::statfs(tracing.c_str(), &st) != 0) {
    return fail(Errc::Io, "statfs " + tracing.string(), errno);
  }
  if (static_cast<long>(st.f_type) == kTracefsMagic) return tracing;
  if (::mount("tracefs", tracing.c_str(), "tracefs", 0, nullptr) != 0) {
    return fail(Errc::Io, "mount tracefs at " + tracing.string(), errno);
  }
  spdlog::info("mounted tracefs path={}", tracing.string());
  return tracing;
}

}  // namespace l3afd::daemon
