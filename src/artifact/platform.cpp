// Platform detection: VERSION_CODENAME from os-release, else `lsb_release -cs`.
#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "artifact/artifact.h"
#include "core/unique_fd.h"

extern char** environ;

namespace l3afd::artifact {
namespace {

constexpr std::size_t kMaxLsbOutput = 4096;

std::string trim(std::string_view s) {
  const char* ws = " \t\r\n";
  const std::size_t b = s.find_first_not_of(ws);
  if (b == std::string_view::npos) return {};
  const std::size_t e = s.find_last_not_of(ws);
  return std::string(s.substr(b, e - b + 1));
}

/// os-release value syntax: optional single or double quotes; in double quotes a backslash
/// escapes the next character.
std::string unquote(std::string_view v) {
  if (v.size() >= 2 && v.front() == '\'' && v.back() == '\'') {
    return std::string(v.substr(1, v.size() - 2));
  }
  if (v.size() >= 2 && v.front() == '"' && v.back() == '"') {
    std::string out;
    for (std::size_t i = 1; i + 1 < v.size(); ++i) {
      if (v[i] == '\\' && i + 2 < v.size()) ++i;
      out.push_back(v[i]);
    }
    return out;
  }
  return std::string(v);
}

/// Returns the codename, "" when absent; an error only when the file exists but cannot be read.
Result<std::string> codename_from_os_release(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) {
    const int err = errno;
    if (err == ENOENT) return std::string{};
    return fail(Errc::Io, "open " + path.string(), err);
  }
  std::string line;
  std::string value;
  while (std::getline(in, line)) {
    const std::string t = trim(line);
    if (t.rfind("VERSION_CODENAME=", 0) == 0) {
      value = trim(unquote(t.substr(std::strlen("VERSION_CODENAME="))));
    }
  }
  if (in.bad()) return fail(Errc::Io, "read " + path.string(), errno);
  return value;
}

Result<std::string> codename_from_lsb_release(const std::string& program) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return fail(Errc::Io, "pipe for " + program, errno);
  UniqueFd rd(fds[0]);
  UniqueFd wr(fds[1]);

  posix_spawn_file_actions_t actions;
  if (int rc = posix_spawn_file_actions_init(&actions); rc != 0) {
    return fail(Errc::Io, "posix_spawn_file_actions_init", rc);
  }
  int rc = posix_spawn_file_actions_adddup2(&actions, wr.get(), STDOUT_FILENO);
  if (rc == 0)
    rc = posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  if (rc != 0) {
    posix_spawn_file_actions_destroy(&actions);
    return fail(Errc::Io, "posix_spawn_file_actions", rc);
  }
  std::string arg0 = program;
  std::string arg1 = "-cs";
  char* argv[] = {arg0.data(), arg1.data(), nullptr};
  pid_t pid = -1;
  rc = ::posix_spawnp(&pid, program.c_str(), &actions, nullptr, argv, environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) return fail(Errc::Io, "spawn " + program, rc);
  wr.reset();

  std::string out;
  char buf[512];
  int read_errno = 0;
  for (;;) {
    const ssize_t n = ::read(rd.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      read_errno = errno;
      break;
    }
    if (n == 0) break;
    if (out.size() < kMaxLsbOutput) out.append(buf, static_cast<std::size_t>(n));
  }
  rd.reset();
  int wstatus = 0;
  while (::waitpid(pid, &wstatus, 0) < 0) {
    if (errno != EINTR) return fail(Errc::Io, "wait for " + program, errno);
  }
  if (read_errno != 0) return fail(Errc::Io, "read output of " + program, read_errno);
  if (!WIFEXITED(wstatus) || WEXITSTATUS(wstatus) != 0) {
    return fail(Errc::Io, program + " -cs failed (wait status " + std::to_string(wstatus) + ")");
  }
  return trim(out);
}

}  // namespace

Result<std::string> detect_platform(const std::filesystem::path& os_release,
                                    const std::string& lsb_release) {
  auto from_file = codename_from_os_release(os_release);
  std::string why_not_file;
  if (from_file && !from_file->empty()) {
    if (auto st = validate_component("platform", *from_file); !st)
      return fail(std::move(st.error()));
    return *from_file;
  }
  why_not_file =
      from_file ? "no VERSION_CODENAME in " + os_release.string() : from_file.error().to_string();
  auto from_lsb = codename_from_lsb_release(lsb_release);
  if (!from_lsb) {
    return fail(Errc::Io,
                "cannot detect platform: " + why_not_file + "; " + from_lsb.error().to_string());
  }
  if (from_lsb->empty()) {
    return fail(Errc::Io, "cannot detect platform: " + why_not_file + "; " + lsb_release +
                              " -cs printed nothing");
  }
  if (auto st = validate_component("platform", *from_lsb); !st) return fail(std::move(st.error()));
  return *from_lsb;
}

}  // namespace l3afd::artifact
