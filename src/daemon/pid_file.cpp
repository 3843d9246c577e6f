#include "daemon/pid_file.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

namespace l3afd::daemon {

namespace {

namespace fs = std::filesystem;

std::string octal_mode(mode_t m) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%04o", static_cast<unsigned>(m & 07777));
  return buf;
}

/// The rule of PidFile::acquire for one directory `dir` (stat result `st`) on the way to the
/// PID file: a directory owned by root or by us, not writable by group or others unless it
/// has the sticky bit.
Status check_directory(const fs::path& dir, const struct stat& st) {
  if (!S_ISDIR(st.st_mode))
    return fail(Errc::Io, "directory " + dir.string() + " is not a directory");
  const uid_t me = ::geteuid();
  if (st.st_uid != 0 && st.st_uid != me) {
    return fail(Errc::Io, "directory " + dir.string() + " is owned by uid " +
                              std::to_string(st.st_uid) + ", not by root or this user (uid " +
                              std::to_string(me) + ")");
  }
  if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0 && (st.st_mode & S_ISVTX) == 0) {
    return fail(Errc::Io, "directory " + dir.string() +
                              " is writable by group or others without the sticky bit (mode " +
                              octal_mode(st.st_mode) + ")");
  }
  return ok();
}

/// Checks `dir` and every ancestor of its canonical path with check_directory; returns the
/// canonical path.
Result<fs::path> check_tree(const fs::path& dir) {
  std::error_code ec;
  const fs::path real = fs::canonical(dir, ec);
  if (ec) return fail(Errc::Io, "directory " + dir.string() + ": " + ec.message());
  for (fs::path p = real;; p = p.parent_path()) {
    struct stat st {};
    if (::lstat(p.c_str(), &st) != 0) return fail(Errc::Io, "stat " + p.string(), errno);
    if (auto c = check_directory(p, st); !c) return fail(std::move(c.error()));
    if (p == p.parent_path()) break;
  }
  return real;
}

/// Creates `dir` if missing, after checking its deepest existing ancestor (nothing is created
/// under an unsafe directory), then checks it and opens it.
Result<UniqueFd> open_checked_directory(const fs::path& dir) {
  std::error_code ec;
  fs::path existing = dir;
  while (!fs::exists(existing, ec) && existing.has_relative_path())
    existing = existing.parent_path();
  if (existing.empty()) existing = ".";
  if (existing != dir) {
    if (auto t = check_tree(existing); !t) return fail(std::move(t.error()));
    fs::create_directories(dir, ec);  // a failure shows up in check_tree below
  }
  auto real = check_tree(dir);
  if (!real) return fail(std::move(real.error()));
  // The canonical path has no symlink left; O_NOFOLLOW refuses one swapped in meanwhile.
  UniqueFd dfd(::open(real->c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!dfd) return fail(Errc::Io, "open directory " + real->string(), errno);
  struct stat st {};
  if (::fstat(dfd.get(), &st) != 0) return fail(Errc::Io, "stat " + real->string(), errno);
  if (auto c = check_directory(*real, st); !c) return fail(std::move(c.error()));
  return dfd;
}

/// Refuses an existing entry at the PID path that is not a plain file of ours (see acquire).
Status check_file(const struct stat& st) {
  if (S_ISLNK(st.st_mode)) return fail(Errc::Io, "is a symbolic link (refusing to follow it)");
  if (!S_ISREG(st.st_mode)) return fail(Errc::Io, "is not a regular file");
  if (st.st_uid != ::geteuid()) {
    return fail(Errc::Io, "is owned by uid " + std::to_string(st.st_uid) +
                              ", not by this user (uid " + std::to_string(::geteuid()) + ")");
  }
  if (st.st_nlink != 1) {
    return fail(Errc::Io, "has " + std::to_string(st.st_nlink) + " hard links (expected 1)");
  }
  return ok();
}

}  // namespace

Result<PidFile> PidFile::acquire(const std::filesystem::path& path) {
  const std::string where = "pid file " + path.string();
  const auto refuse = [&where](Error e) {
    e.message = where + ": " + e.message;
    return fail(std::move(e));
  };
  const std::string name = path.filename().string();
  if (name.empty() || name == "." || name == "..")
    return fail(Errc::Io, where + ": not a file name");
  const fs::path dir = path.has_parent_path() ? path.parent_path() : fs::path(".");
  auto dfd = open_checked_directory(dir);
  if (!dfd) return refuse(std::move(dfd.error()));

  struct stat st {};
  if (::fstatat(dfd->get(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0) {
    if (auto c = check_file(st); !c) return refuse(std::move(c.error()));
  } else if (errno != ENOENT) {
    return fail(Errc::Io, "stat " + where, errno);
  }
  UniqueFd fd(::openat(dfd->get(), name.c_str(),
                       O_RDWR | O_CREAT | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK | O_CLOEXEC, 0640));
  if (!fd) {
    if (errno == ELOOP)
      return fail(Errc::Io, where + ": is a symbolic link (refusing to follow it)");
    return fail(Errc::Io, "open " + where, errno);
  }
  // Checked again on what was opened: the entry may have been replaced since fstatat.
  if (::fstat(fd.get(), &st) != 0) return fail(Errc::Io, "stat " + where, errno);
  if (auto c = check_file(st); !c) return refuse(std::move(c.error()));

  if (::flock(fd.get(), LOCK_EX | LOCK_NB) != 0) {
    const int err = errno;
    if (err == EWOULDBLOCK) {
      char buf[32] = {};
      const ssize_t n = ::pread(fd.get(), buf, sizeof buf - 1, 0);
      std::string other = n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : "";
      other = other.substr(0, other.find('\n'));
      return fail(Errc::Conflict, "another l3afd (pid " + (other.empty() ? "unknown" : other) +
                                      ") is running with pid file " + path.string());
    }
    return fail(Errc::Io, "lock " + where, err);
  }
  const std::string pid = std::to_string(::getpid());
  if (::ftruncate(fd.get(), 0) != 0 ||
      ::pwrite(fd.get(), pid.data(), pid.size(), 0) != static_cast<ssize_t>(pid.size())) {
    return fail(Errc::Io, "write " + where, errno);
  }
  ::fchmod(fd.get(), 0640);
  return PidFile(path, std::move(fd));
}

Result<PidFile> PidFile::adopt(const std::filesystem::path& path, UniqueFd fd) {
  const std::string where = "pid file " + path.string() + " (handed over)";
  struct stat held {};
  struct stat named {};
  if (!fd || ::fstat(fd.get(), &held) != 0) return fail(Errc::Io, "stat " + where, errno);
  if (::lstat(path.c_str(), &named) != 0) return fail(Errc::Io, "stat " + where, errno);
  if (!S_ISREG(named.st_mode) || held.st_dev != named.st_dev || held.st_ino != named.st_ino) {
    return fail(Errc::Io, where + ": the descriptor handed over is not this file");
  }
  // flock on a descriptor whose open file description holds the lock succeeds at once; a
  // descriptor of another description would fail with EWOULDBLOCK while the old process runs.
  if (::flock(fd.get(), LOCK_EX | LOCK_NB) != 0) return fail(Errc::Io, "lock " + where, errno);
  return PidFile(path, std::move(fd));
}

Status PidFile::write_own() {
  const std::string pid = std::to_string(::getpid());
  if (!fd_) return fail(Errc::Internal, "pid file " + path_.string() + ": not held");
  if (::ftruncate(fd_.get(), 0) != 0 ||
      ::pwrite(fd_.get(), pid.data(), pid.size(), 0) != static_cast<ssize_t>(pid.size())) {
    return fail(Errc::Io, "write pid file " + path_.string(), errno);
  }
  return ok();
}

PidFile::~PidFile() {
  remove();
}

void PidFile::remove() {
  if (fd_) {
    ::unlink(path_.c_str());
    fd_.reset();
  }
}

Result<bool> kernel_at_least(long major, long minor, const std::filesystem::path& proc_version) {
  std::ifstream in(proc_version);
  if (!in) return fail(Errc::Io, "read " + proc_version.string(), errno);
  std::string a, b, release;
  in >> a >> b >> release;
  auto leading = [](const std::string& s, std::size_t& pos) -> long {
    std::size_t start = pos;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') ++pos;
    if (pos == start || pos - start > 6) return -1;
    return std::stol(s.substr(start, pos - start));
  };
  std::size_t pos = 0;
  long ma = leading(release, pos);
  if (ma < 0 || pos >= release.size() || release[pos] != '.') {
    return fail(Errc::InvalidPayload, "cannot parse kernel release '" + release + "'");
  }
  ++pos;
  long mi = leading(release, pos);
  if (mi < 0) return fail(Errc::InvalidPayload, "cannot parse kernel release '" + release + "'");
  return ma > major || (ma == major && mi >= minor);
}

}  // namespace l3afd::daemon
