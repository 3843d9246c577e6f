#include "kernel/libbpf/pins.h"

#include <bpf/bpf.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <string>

namespace l3afd::kernel::libbpf {
namespace fs = std::filesystem;

namespace {
constexpr mode_t kDirMode = 0750;

bool same_device(const fs::path& a, const fs::path& b) {
  struct stat sa {};
  struct stat sb {};
  return ::stat(a.c_str(), &sa) == 0 && ::stat(b.c_str(), &sb) == 0 && sa.st_dev == sb.st_dev;
}
}  // namespace

bool on_bpffs(const fs::path& path) {
  struct statfs st {};
  return ::statfs(path.c_str(), &st) == 0 && st.f_type == BPF_FS_MAGIC;
}

Result<std::vector<fs::path>> make_dirs(const fs::path& dir) {
  std::vector<fs::path> missing;
  for (fs::path p = dir; !p.empty() && p != p.root_path(); p = p.parent_path()) {
    std::error_code ec;
    if (fs::exists(p, ec)) break;
    missing.push_back(p);
  }
  std::vector<fs::path> created;
  for (auto it = missing.rbegin(); it != missing.rend(); ++it) {
    if (::mkdir(it->c_str(), kDirMode) != 0) {
      if (errno == EEXIST) continue;
      const int e = errno;
      remove_dirs_if_empty(created);
      return fail(Errc::Io, "create directory " + it->string(), e);
    }
    // mkdir applies the umask; the layout requires exactly 0750.
    (void)::chmod(it->c_str(), kDirMode);
    created.push_back(*it);
  }
  return created;
}

void remove_dirs_if_empty(const std::vector<fs::path>& dirs) {
  for (auto it = dirs.rbegin(); it != dirs.rend(); ++it) (void)::rmdir(it->c_str());
}

void remove_empty_ancestors(const fs::path& dir) {
  if (!on_bpffs(dir)) return;
  for (fs::path p = dir; p.has_parent_path() && p != p.root_path(); p = p.parent_path()) {
    // The mount root is the topmost directory on the same device; never remove it.
    if (!same_device(p, p.parent_path())) return;
    if (::rmdir(p.c_str()) != 0) return;
  }
}

Status pin_replace(int fd, const fs::path& path) {
  static std::atomic<unsigned> counter{0};
  fs::path tmp = path;
  // bpffs refuses names with a dot (reserved by the kernel), hence underscores.
  tmp += "_l3afd_tmp_" + std::to_string(::getpid()) + "_" + std::to_string(counter++);
  if (bpf_obj_pin(fd, tmp.c_str()) != 0) {
    return fail(Errc::Io, "pin " + tmp.string(), errno);
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    const int e = errno;
    (void)::unlink(tmp.c_str());
    return fail(Errc::Io, "rename pin to " + path.string(), e);
  }
  return ok();
}

Status unpin(const fs::path& path) {
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
    return fail(Errc::Io, "remove pin " + path.string(), errno);
  }
  return ok();
}

}  // namespace l3afd::kernel::libbpf
