#include "daemon/pid_file.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <sstream>
#include <string>

namespace l3afd::daemon {

Result<PidFile> PidFile::acquire(const std::filesystem::path& path) {
  std::error_code ec;
  if (path.has_parent_path()) std::filesystem::create_directories(path.parent_path(), ec);
  UniqueFd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0640));
  if (!fd) return fail(Errc::Io, "open pid file " + path.string(), errno);
  if (::flock(fd.get(), LOCK_EX | LOCK_NB) != 0) {
    const int err = errno;
    std::ifstream in(path);
    std::string other;
    std::getline(in, other);
    if (err == EWOULDBLOCK) {
      return fail(Errc::Conflict, "another l3afd (pid " + (other.empty() ? "unknown" : other) +
                                      ") is running with pid file " + path.string());
    }
    return fail(Errc::Io, "lock pid file " + path.string(), err);
  }
  const std::string pid = std::to_string(::getpid());
  if (::ftruncate(fd.get(), 0) != 0 || ::pwrite(fd.get(), pid.data(), pid.size(), 0) !=
                                           static_cast<ssize_t>(pid.size())) {
    return fail(Errc::Io, "write pid file " + path.string(), errno);
  }
  ::fchmod(fd.get(), 0640);
  return PidFile(path, std::move(fd));
}

PidFile::~PidFile() { remove(); }

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
