#include "supervisor/proc_identity.h"

#include "core/proc_stat.h"

#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <fstream>
#include <sstream>
#include <string>

namespace l3afd::supervisor {

namespace {

std::filesystem::path proc_dir(pid_t pid) {
  return std::filesystem::path("/proc") / std::to_string(pid);
}

}  // namespace

std::optional<ProcStat> parse_proc_stat(std::string_view text) {
  const auto fields = proc_stat_fields(text);
  if (!fields || fields->empty() || fields->front().size() != 1) return std::nullopt;
  const auto start = proc_stat_number(*fields, 22);
  if (!start) return std::nullopt;
  return ProcStat{.state = fields->front().front(), .start_time = *start};
}

Result<ProcStat> proc_stat(pid_t pid) {
  if (pid <= 0) return fail(Errc::NotFound, "no process " + std::to_string(pid));
  const auto path = proc_dir(pid) / "stat";
  std::ifstream in(path);
  if (!in) {
    const int err = errno;
    if (err == ENOENT || err == ESRCH) {
      return fail(Errc::NotFound, "no process " + std::to_string(pid));
    }
    return fail(Errc::Io, "read " + path.string(), err);
  }
  std::stringstream text;
  text << in.rdbuf();
  auto parsed = parse_proc_stat(text.str());
  if (!parsed) {
    // A process that ended while being read leaves an empty text.
    if (text.str().empty()) return fail(Errc::NotFound, "no process " + std::to_string(pid));
    return fail(Errc::Io, "malformed " + path.string());
  }
  return *parsed;
}

Result<std::filesystem::path> proc_executable(pid_t pid) {
  std::error_code ec;
  auto exe = std::filesystem::read_symlink(proc_dir(pid) / "exe", ec);
  if (ec) {
    if (ec == std::errc::no_such_file_or_directory) {
      return fail(Errc::NotFound, "no process " + std::to_string(pid));
    }
    return fail(Errc::Io, "read /proc/" + std::to_string(pid) + "/exe", ec.value());
  }
  return exe;
}

Result<UniqueFd> open_if_same(pid_t pid, std::uint64_t start_time) {
  auto is_it = [&]() {
    auto st = proc_stat(pid);
    return st && st->start_time == start_time && st->state != 'Z';
  };
  if (!is_it()) return fail(Errc::NotFound, "process " + std::to_string(pid) + " is gone");
  UniqueFd fd(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
  if (!fd) {
    if (errno == ESRCH) return fail(Errc::NotFound, "process " + std::to_string(pid) + " is gone");
    return fail(Errc::Kernel, "pidfd_open " + std::to_string(pid), errno);
  }
  // The pid may have been recycled between the check and the open: the pidfd names whatever
  // process held the pid at the open, so the check is repeated now that it is pinned.
  if (!is_it()) return fail(Errc::NotFound, "process " + std::to_string(pid) + " is gone");
  return fd;
}

}  // namespace l3afd::supervisor
