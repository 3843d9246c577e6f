#include "supervisor/proc_identity.h"

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
  const auto close = text.rfind(')');
  if (close == std::string_view::npos) return std::nullopt;
  std::string_view rest = text.substr(close + 1);
  // Field 3 (state) is the first after the name; field 22 is the 20th.
  ProcStat out;
  int field = 2;
  while (!rest.empty()) {
    while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
    if (rest.empty()) break;
    auto end = rest.find_first_of(" \n");
    if (end == std::string_view::npos) end = rest.size();
    const auto token = rest.substr(0, end);
    rest.remove_prefix(end);
    if (!rest.empty() && rest.front() == '\n') rest = {};
    ++field;
    if (field == 3) {
      if (token.size() != 1) return std::nullopt;
      out.state = token.front();
    } else if (field == 22) {
      const auto [p, ec] =
          std::from_chars(token.data(), token.data() + token.size(), out.start_time);
      if (ec != std::errc() || p != token.data() + token.size()) return std::nullopt;
      return out;
    }
  }
  return std::nullopt;
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
