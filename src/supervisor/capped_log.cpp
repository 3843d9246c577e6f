#include "supervisor/capped_log.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>

namespace l3afd::supervisor {

Status CappedLog::open_locked() {
  fd_.reset(::open(path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640));
  if (!fd_) return fail(Errc::Io, "open companion log " + path_.string(), errno);
  struct stat st {};
  if (::fstat(fd_.get(), &st) != 0) return fail(Errc::Io, "stat " + path_.string(), errno);
  size_ = static_cast<std::uint64_t>(st.st_size);
  return ok();
}

Status CappedLog::append(std::string_view data) {
  if (data.empty()) return ok();
  std::lock_guard lock(mu_);
  if (!fd_) {
    if (auto st = open_locked(); !st) return st;
  }
  if (size_ > 0 && size_ + data.size() > cap_) {
    const auto older = path_.string() + ".1";
    if (::rename(path_.c_str(), older.c_str()) != 0) {
      return fail(Errc::Io, "rotate companion log " + path_.string(), errno);
    }
    if (auto st = open_locked(); !st) return st;
  }
  while (!data.empty()) {
    const ssize_t n = ::write(fd_.get(), data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail(Errc::Io, "write companion log " + path_.string(), errno);
    }
    size_ += static_cast<std::uint64_t>(n);
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return ok();
}

}  // namespace l3afd::supervisor
