#include "supervisor/proc_identity.h"

#include "core/proc_stat.h"

#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
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

/// The first two numbers after "<key>:" on the line of `text` that starts with the key.
std::optional<std::pair<std::uint32_t, std::uint32_t>> status_pair(std::string_view text,
                                                                   std::string_view key) {
  std::size_t at = 0;
  while (at < text.size()) {
    const auto end = std::min(text.find('\n', at), text.size());
    std::string_view line = text.substr(at, end - at);
    at = end + 1;
    if (!line.starts_with(key) || line.size() <= key.size() || line[key.size()] != ':') continue;
    line.remove_prefix(key.size() + 1);
    std::uint32_t v[2] = {0, 0};
    for (auto& x : v) {
      while (!line.empty() && (line.front() == ' ' || line.front() == '\t')) line.remove_prefix(1);
      const auto [ptr, ec] = std::from_chars(line.data(), line.data() + line.size(), x);
      if (ec != std::errc() || ptr == line.data()) return std::nullopt;
      line.remove_prefix(static_cast<std::size_t>(ptr - line.data()));
    }
    return std::make_pair(v[0], v[1]);
  }
  return std::nullopt;
}

}  // namespace

std::optional<ProcCredentials> parse_proc_status(std::string_view text) {
  const auto uid = status_pair(text, "Uid");
  const auto gid = status_pair(text, "Gid");
  if (!uid || !gid) return std::nullopt;
  return ProcCredentials{
      .uid = uid->first, .euid = uid->second, .gid = gid->first, .egid = gid->second};
}

namespace {

/// Parses /proc/<pid>/<name> with `parse`. NotFound when the process does not exist (or ended
/// while being read: an empty text), Io when the file cannot be read or does not parse.
template <class T, class Parse>
Result<T> read_proc_file(pid_t pid, const char* name, Parse parse) {
  if (pid <= 0) return fail(Errc::NotFound, "no process " + std::to_string(pid));
  const auto path = proc_dir(pid) / name;
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
  auto parsed = parse(text.str());
  if (!parsed) {
    if (text.str().empty()) return fail(Errc::NotFound, "no process " + std::to_string(pid));
    return fail(Errc::Io, "malformed " + path.string());
  }
  return *parsed;
}

}  // namespace

Result<ProcCredentials> proc_credentials(pid_t pid) {
  return read_proc_file<ProcCredentials>(pid, "status",
                                         [](const std::string& t) { return parse_proc_status(t); });
}

std::optional<ProcStat> parse_proc_stat(std::string_view text) {
  const auto fields = proc_stat_fields(text);
  if (!fields || fields->empty() || fields->front().size() != 1) return std::nullopt;
  const auto start = proc_stat_number(*fields, 22);
  if (!start) return std::nullopt;
  return ProcStat{.state = fields->front().front(), .start_time = *start};
}

Result<ProcStat> proc_stat(pid_t pid) {
  return read_proc_file<ProcStat>(pid, "stat",
                                  [](const std::string& t) { return parse_proc_stat(t); });
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
