// LatestLinks: switch both `latest/` links to a release, remember and restore their old targets.
#include "restart/latest_links.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "core/log.h"
#include "restart/install_layout.h"
#include "restart/symlink.h"

namespace l3afd::restart {
namespace {

namespace fs = std::filesystem;

/// `file` must exist as a regular file: a link is never pointed at nothing.
Status require_regular(const fs::path& file) {
  struct stat st {};
  if (::lstat(file.c_str(), &st) != 0) {
    const int err = errno;
    return fail(err == ENOENT ? Errc::NotFound : Errc::Io, "link target " + file.string(), err);
  }
  if (!S_ISREG(st.st_mode)) {
    return fail(Errc::Io, "link target " + file.string() + " is not a regular file");
  }
  return ok();
}

/// Creates `dir` unless it exists; an existing one must be a real directory. Sets `created`.
Status ensure_dir(const fs::path& dir, bool& created) {
  created = false;
  if (::mkdir(dir.c_str(), 0755) == 0) {
    created = true;
    return ok();
  }
  if (errno != EEXIST) return fail(Errc::Io, "create directory " + dir.string(), errno);
  struct stat st {};
  if (::lstat(dir.c_str(), &st) != 0) return fail(Errc::Io, "lstat " + dir.string(), errno);
  if (!S_ISDIR(st.st_mode)) return fail(Errc::Io, dir.string() + " is not a directory");
  return ok();
}

/// Puts `link` back to `previous`: that target again, or no link at all.
Status restore(const fs::path& link, const std::optional<std::string>& previous) {
  return previous ? replace_symlink(link, *previous) : remove_symlink(link);
}

/// Removes `dir` if this restart created it and it is empty again.
void drop_created_dir(const fs::path& dir, bool created) {
  if (!created) return;
  if (::rmdir(dir.c_str()) != 0 && errno != ENOENT && errno != ENOTEMPTY && errno != EEXIST) {
    spdlog::warn("restart: cannot remove path={}: {}", dir.string(), std::strerror(errno));
  }
}

}  // namespace

LatestLinks::LatestLinks(fs::path basepath, std::optional<std::string> prev_binary,
                         std::optional<std::string> prev_config, bool created_dir)
    : basepath_(std::move(basepath)),
      prev_binary_(std::move(prev_binary)),
      prev_config_(std::move(prev_config)),
      created_dir_(created_dir) {}

Result<LatestLinks> LatestLinks::repoint(const fs::path& basepath, std::string_view version) {
  if (auto st = validate_release_name(version); !st) return fail(std::move(st.error()));
  auto base = absolute_basepath(basepath);
  if (!base) return fail(std::move(base.error()));
  const fs::path bin_target = release_binary(*base, version);
  const fs::path cfg_target = release_config(*base, version);
  if (auto st = require_regular(bin_target); !st) return fail(std::move(st.error()));
  if (auto st = require_regular(cfg_target); !st) return fail(std::move(st.error()));

  const fs::path bin_link = latest_binary(*base);
  const fs::path cfg_link = latest_config(*base);
  const fs::path dir = bin_link.parent_path();
  bool created = false;
  if (auto st = ensure_dir(dir, created); !st) return fail(std::move(st.error()));
  // Read both before changing either: an entry that is not a link stops the repoint untouched.
  auto prev_bin = read_link(bin_link);
  if (!prev_bin) {
    drop_created_dir(dir, created);
    return fail(std::move(prev_bin.error()));
  }
  auto prev_cfg = read_link(cfg_link);
  if (!prev_cfg) {
    drop_created_dir(dir, created);
    return fail(std::move(prev_cfg.error()));
  }

  if (auto st = replace_symlink(bin_link, bin_target.string()); !st) {
    drop_created_dir(dir, created);
    return fail(std::move(st.error()));
  }
  if (auto st = replace_symlink(cfg_link, cfg_target.string()); !st) {
    if (auto undo = restore(bin_link, *prev_bin); !undo) {
      spdlog::error("restart: cannot restore link={}: {}", bin_link.string(),
                    undo.error().to_string());
    }
    drop_created_dir(dir, created);
    return fail(std::move(st.error()));
  }
  spdlog::info("restart: latest links repointed version={} binary={} config={}", version,
               bin_target.string(), cfg_target.string());
  return LatestLinks(std::move(*base), std::move(*prev_bin), std::move(*prev_cfg), created);
}

Status LatestLinks::rollback() {
  // Reverse order of repoint; both are attempted, the first failure is reported.
  Status first = restore(latest_config(basepath_), prev_config_);
  Status second = restore(latest_binary(basepath_), prev_binary_);
  drop_created_dir(latest_binary(basepath_).parent_path(), created_dir_);
  if (!first) return first;
  if (!second) return second;
  spdlog::info("restart: latest links restored binary={} config={}",
               prev_binary_.value_or("<none>"), prev_config_.value_or("<none>"));
  return ok();
}

}  // namespace l3afd::restart
