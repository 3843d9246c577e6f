// The install layout: paths, the running version, staging and removal of a release.
#include "restart/install_layout.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "artifact/release.h"
#include "core/log.h"
#include "restart/symlink.h"

namespace l3afd::restart {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kLatestDir = "latest";
constexpr std::string_view kPackageDir = "l3afd";
constexpr std::string_view kBinaryName = "l3afd";
constexpr std::string_view kConfigName = "l3afd.cfg";

enum class Kind { Missing, Directory, Regular, Other };

Result<Kind> lstat_kind(const fs::path& p, mode_t* mode = nullptr) {
  struct stat st {};
  if (::lstat(p.c_str(), &st) != 0) {
    if (errno == ENOENT) return Kind::Missing;
    return fail(Errc::Io, "lstat " + p.string(), errno);
  }
  if (mode != nullptr) *mode = st.st_mode;
  if (S_ISDIR(st.st_mode)) return Kind::Directory;
  if (S_ISREG(st.st_mode)) return Kind::Regular;
  return Kind::Other;
}

/// The path components of a relative path.
std::vector<std::string> components(const fs::path& rel) {
  std::vector<std::string> out;
  for (const auto& c : rel) out.push_back(c.string());
  return out;
}

/// Step 4 of stage_release: the package must hold the binary (executable) and its config.
Status check_package(const fs::path& tree, const std::string& url) {
  const fs::path pkg = tree / kPackageDir;
  const std::string where = "package " + artifact::redact_userinfo(url) + ": ";
  auto pkg_kind = lstat_kind(pkg);
  if (!pkg_kind) return fail(std::move(pkg_kind.error()));
  if (*pkg_kind != Kind::Directory) {
    return fail(Errc::Unavailable, where + "no directory 'l3afd/'");
  }
  mode_t mode = 0;
  auto bin = lstat_kind(pkg / kBinaryName, &mode);
  if (!bin) return fail(std::move(bin.error()));
  if (*bin == Kind::Missing) return fail(Errc::Unavailable, where + "no file 'l3afd/l3afd'");
  if (*bin != Kind::Regular) {
    return fail(Errc::Unavailable, where + "'l3afd/l3afd' is not a regular file");
  }
  if ((mode & (S_IXUSR | S_IXGRP | S_IXOTH)) == 0) {
    return fail(Errc::Unavailable, where + "'l3afd/l3afd' is not executable");
  }
  auto cfg = lstat_kind(pkg / kConfigName);
  if (!cfg) return fail(std::move(cfg.error()));
  if (*cfg == Kind::Missing) return fail(Errc::Unavailable, where + "no file 'l3afd/l3afd.cfg'");
  if (*cfg != Kind::Regular) {
    return fail(Errc::Unavailable, where + "'l3afd/l3afd.cfg' is not a regular file");
  }
  return ok();
}

/// Step 5 of stage_release: puts `fresh` at `target` (a directory or absent). An existing tree
/// ends up at `fresh` (exchange) or at `aside`, both inside the staging directory, which the
/// caller removes afterwards.
Status put_in_place(const fs::path& fresh, const fs::path& target, const fs::path& aside) {
  auto kind = lstat_kind(target);
  if (!kind) return fail(std::move(kind.error()));
  if (*kind == Kind::Missing) {
    if (::rename(fresh.c_str(), target.c_str()) != 0) {
      return fail(Errc::Io, "rename " + fresh.string() + " to " + target.string(), errno);
    }
    return ok();
  }
  if (*kind != Kind::Directory) {
    return fail(Errc::Io, target.string() + " exists and is not a directory");
  }
  // Readers see the old or the new tree, never none.
  return artifact::swap_tree(fresh, target, aside);
}

/// Refuses `version` when it is the running one (or the running one is unknown).
Status refuse_running(const fs::path& base, std::string_view version, std::string_view action) {
  auto running = running_version(base);
  if (!running) {
    Error e = std::move(running.error());
    e.message = "determine the running version: " + e.message;
    return fail(std::move(e));
  }
  if (running->has_value() && **running == version) {
    return fail(Errc::InvalidPayload,
                "version \"" + std::string(version) + "\" is the running version (" +
                    latest_binary(base).string() + "): its installation " +
                    release_dir(base, version).string() + " is never " + std::string(action));
  }
  return ok();
}

}  // namespace

fs::path latest_binary(const fs::path& basepath) {
  return basepath / kLatestDir / kBinaryName;
}

fs::path latest_config(const fs::path& basepath) {
  return basepath / kLatestDir / kConfigName;
}

fs::path release_dir(const fs::path& basepath, std::string_view version) {
  return basepath / version;
}

fs::path release_binary(const fs::path& basepath, std::string_view version) {
  return basepath / version / kPackageDir / kBinaryName;
}

fs::path release_config(const fs::path& basepath, std::string_view version) {
  return basepath / version / kPackageDir / kConfigName;
}

Result<fs::path> absolute_basepath(const fs::path& basepath) {
  if (basepath.empty()) return fail(Errc::InvalidPayload, "empty basepath");
  std::error_code ec;
  fs::path abs = fs::absolute(basepath, ec);
  if (ec) return fail(Errc::Io, "absolute path of " + basepath.string(), ec.value());
  abs = abs.lexically_normal();
  if (!abs.has_filename() && abs != abs.root_path()) abs = abs.parent_path();
  return abs;
}

Status validate_release_name(std::string_view version) {
  if (auto st = artifact::validate_component("version", version); !st) return st;
  if (version == kLatestDir) {
    return fail(Errc::InvalidPayload, "version \"latest\" cannot name a release directory");
  }
  if (version.front() == '.') {
    return fail(Errc::InvalidPayload,
                "version \"" + std::string(version) + "\" must not start with '.'");
  }
  return ok();
}

Result<std::optional<std::string>> running_version(const fs::path& basepath) {
  auto base = absolute_basepath(basepath);
  if (!base) return fail(std::move(base.error()));
  const fs::path link = latest_binary(*base);
  auto target = read_link(link);
  if (!target) return fail(std::move(target.error()));
  if (!target->has_value()) return std::optional<std::string>{};
  const fs::path to(**target);
  const fs::path resolved = (to.is_absolute() ? to : link.parent_path() / to).lexically_normal();
  const auto parts = components(resolved.lexically_relative(*base));
  const auto bad = [&](const std::string& why) {
    return fail(Errc::Io, link.string() + " -> " + **target + ": " + why);
  };
  if (parts.size() != 3 || parts[1] != kPackageDir || parts[2] != kBinaryName) {
    return bad("not a link to " + (*base / "<version>" / kPackageDir / kBinaryName).string());
  }
  if (auto st = validate_release_name(parts[0]); !st) return bad(st.error().message);
  return std::optional<std::string>(parts[0]);
}

Status stage_release(const fs::path& basepath, std::string_view version,
                     std::string_view artifacts_url, const artifact::FetchOptions& limits) {
  if (auto st = validate_release_name(version); !st) return st;
  auto base = absolute_basepath(basepath);
  if (!base) return fail(std::move(base.error()));
  auto url = artifact::url_join_path(artifacts_url, {version, kReleaseArchive});
  if (!url) {
    Error e = std::move(url.error());
    e.message = "restart artifacts url: " + e.message;
    return fail(std::move(e));
  }
  if (auto st = refuse_running(*base, version, "replaced"); !st) return st;

  std::string tmpl = (*base / (".staging-" + std::string(version) + "-XXXXXX")).string();
  if (::mkdtemp(tmpl.data()) == nullptr) return fail(Errc::Io, "mkdtemp " + tmpl, errno);
  const fs::path staging = tmpl;
  const artifact::ScopedTree staging_remover(staging);

  // The tree becomes <basepath>/<version>: its mode is the installed directory's.
  const fs::path tree = staging / "tree";
  if (::mkdir(tree.c_str(), 0755) != 0) return fail(Errc::Io, "create " + tree.string(), errno);
  // The signature policy is that of the release repository, restart-artifacts-url.
  auto verified =
      artifact::fetch_archive(*url, artifacts_url, artifact::ArchiveFormat::TarGz, tree, limits);
  if (!verified) return fail(std::move(verified.error()));
  if (auto st = check_package(tree, *url); !st) return st;
  const fs::path target = release_dir(*base, version);
  if (auto st = put_in_place(tree, target, staging / "old"); !st) return st;
  spdlog::info("restart: release staged version={} url={} path={} signed-by={}", version,
               artifact::redact_userinfo(*url), target.string(),
               verified->signed_by.empty() ? "-" : verified->signed_by);
  return ok();
}

Status remove_release(const fs::path& basepath, std::string_view version) {
  if (auto st = validate_release_name(version); !st) return st;
  auto base = absolute_basepath(basepath);
  if (!base) return fail(std::move(base.error()));
  if (auto st = refuse_running(*base, version, "removed"); !st) return st;
  const fs::path target = release_dir(*base, version);
  std::error_code ec;
  fs::remove_all(target, ec);
  if (ec) return fail(Errc::Io, "remove " + target.string() + ": " + ec.message(), ec.value());
  spdlog::info("restart: release removed version={} path={}", version, target.string());
  return ok();
}

}  // namespace l3afd::restart
