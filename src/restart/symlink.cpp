// Symbolic link primitives: lstat/readlink, symlink + rename(2), unlink.
#include "restart/symlink.h"

#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <random>
#include <vector>

namespace l3afd::restart {
namespace {

namespace fs = std::filesystem;

/// Attempts at a fresh temporary name before giving up (a collision needs a concurrent writer
/// that picked the same 64 random bits).
constexpr int kNameAttempts = 16;

std::string random_hex() {
  std::random_device rd;
  const unsigned long long v = (static_cast<unsigned long long>(rd()) << 32) ^ rd();
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", v);
  return buf;
}

}  // namespace

Result<std::optional<std::string>> read_link(const fs::path& link) {
  struct stat st {};
  if (::lstat(link.c_str(), &st) != 0) {
    if (errno == ENOENT) return std::optional<std::string>{};
    return fail(Errc::Io, "lstat " + link.string(), errno);
  }
  if (!S_ISLNK(st.st_mode)) return fail(Errc::Io, link.string() + " is not a symbolic link");
  // st_size is the target's length, but the link may change between lstat and readlink: grow
  // the buffer until the target fits with room to spare (readlink does not say it truncated).
  std::vector<char> buf(static_cast<std::size_t>(st.st_size) + 2);
  for (;;) {
    const ssize_t n = ::readlink(link.c_str(), buf.data(), buf.size());
    if (n < 0) return fail(Errc::Io, "readlink " + link.string(), errno);
    if (static_cast<std::size_t>(n) < buf.size()) {
      return std::optional<std::string>(std::string(buf.data(), static_cast<std::size_t>(n)));
    }
    buf.resize(buf.size() * 2);
  }
}

Status replace_symlink(const fs::path& link, const std::string& target) {
  const fs::path dir = link.parent_path();
  const std::string stem = "." + link.filename().string() + ".new-";
  for (int i = 0; i < kNameAttempts; ++i) {
    const fs::path tmp = dir / (stem + random_hex());
    if (::symlink(target.c_str(), tmp.c_str()) != 0) {
      if (errno == EEXIST) continue;
      return fail(Errc::Io, "create symbolic link " + tmp.string() + " -> " + target, errno);
    }
    if (::rename(tmp.c_str(), link.c_str()) != 0) {
      const int err = errno;
      ::unlink(tmp.c_str());
      return fail(Errc::Io,
                  "rename " + tmp.string() + " over " + link.string() + " (-> " + target + ")",
                  err);
    }
    return ok();
  }
  return fail(Errc::Io, "no free temporary name for a new link beside " + link.string());
}

Status remove_symlink(const fs::path& link) {
  auto current = read_link(link);
  if (!current) return fail(std::move(current.error()));
  if (!current->has_value()) return ok();
  if (::unlink(link.c_str()) != 0 && errno != ENOENT) {
    return fail(Errc::Io, "remove " + link.string(), errno);
  }
  return ok();
}

}  // namespace l3afd::restart
