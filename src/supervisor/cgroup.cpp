#include "supervisor/cgroup.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include <spdlog/spdlog.h>

namespace l3afd::supervisor {

namespace {

constexpr long kCgroup2Magic = 0x63677270;  // CGROUP2_SUPER_MAGIC (linux/magic.h)

bool is_cgroup2(const std::filesystem::path& p) {
  struct statfs fs {};
  return ::statfs(p.c_str(), &fs) == 0 && static_cast<long>(fs.f_type) == kCgroup2Magic;
}

/// Writes `text` with one write(2) (cgroup files take one value per write). Errors: Io.
Status write_value(const std::filesystem::path& p, const std::string& text) {
  // O_CREAT only matters for a plain directory standing in for cgroupfs (tests).
  const int fd = ::open(p.c_str(), O_WRONLY | O_CLOEXEC | O_TRUNC | O_CREAT, 0644);
  if (fd < 0) return fail(Errc::Io, "open " + p.string(), errno);
  const ssize_t n = ::write(fd, text.data(), text.size());
  const int err = errno;
  ::close(fd);
  if (n != static_cast<ssize_t>(text.size())) {
    return fail(Errc::Io, "write " + text + " to " + p.string(), n < 0 ? err : EIO);
  }
  return ok();
}

std::string read_text(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

bool has_word(const std::string& text, std::string_view word) {
  std::istringstream in(text);
  std::string w;
  while (in >> w) {
    if (w == word) return true;
  }
  return false;
}

}  // namespace

Cgroups Cgroups::probe(const Options& options) {
  Cgroups c;
  c.root_ = options.root;
  auto unavailable = [&](std::string why) {
    c.reason_ = std::move(why);
    spdlog::info("companions: cgroup limits not used, rlimits only path={}: {}",
                 options.root.string(), c.reason_);
    return c;
  };
  if (options.root.empty()) return unavailable("no cgroup root configured");
  const auto parent = options.root.parent_path();
  if (options.require_cgroup2_fs && !is_cgroup2(parent)) {
    return unavailable("cgroup v2 is not mounted at " + parent.string());
  }
  if (::mkdir(options.root.c_str(), 0755) != 0 && errno != EEXIST) {
    return unavailable(std::string("mkdir: ") + std::strerror(errno));
  }
  const auto controllers = read_text(options.root / "cgroup.controllers");
  if (!has_word(controllers, "memory")) {
    return unavailable("the memory controller is not available to the root");
  }
  c.pids_ = has_word(controllers, "pids");
  if (auto st = write_value(options.root / "cgroup.subtree_control",
                            c.pids_ ? "+memory +pids" : "+memory");
      !st) {
    return unavailable(st.error().to_string());
  }
  c.available_ = true;
  spdlog::info("companions: cgroup v2 limits used path={}", options.root.string());
  return c;
}

std::string Cgroups::group_name(std::string_view id) {
  std::string out = "c-";
  for (const char ch : id) {
    const bool keep = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                      (ch >= '0' && ch <= '9') || ch == '.' || ch == '_' || ch == '-';
    out += keep ? ch : '_';
  }
  std::uint64_t h = 1469598103934665603ull;  // FNV-1a 64
  for (const char ch : id) {
    h ^= static_cast<unsigned char>(ch);
    h *= 1099511628211ull;
  }
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(h));
  return out + "-" + hex;
}

Result<std::filesystem::path> Cgroups::prepare(std::string_view id,
                                               const CgroupLimits& limits) const {
  if (!available_) return fail(Errc::Unavailable, "cgroups not used: " + reason_);
  const auto dir = root_ / group_name(id);
  if (::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) {
    return fail(Errc::Io, "mkdir " + dir.string(), errno);
  }
  auto value = [](const std::optional<std::uint64_t>& v) {
    return v ? std::to_string(*v) : std::string("max");
  };
  if (auto st = write_value(dir / "memory.max", value(limits.memory_max)); !st) {
    return fail(std::move(st.error()));
  }
  if (pids_) {
    if (auto st = write_value(dir / "pids.max", value(limits.pids_max)); !st) {
      return fail(std::move(st.error()));
    }
  }
  return dir;
}

void Cgroups::remove(std::string_view id) const {
  if (!available_) return;
  const auto dir = root_ / group_name(id);
  if (::rmdir(dir.c_str()) != 0 && errno != ENOENT && errno != EBUSY) {
    spdlog::warn("companions: cgroup not removed path={}: {}", dir.string(), std::strerror(errno));
  }
}

}  // namespace l3afd::supervisor
