// RepositorySource: download into a staging directory, verify, extract, rename into the cache.
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <functional>
#include <mutex>
#include <string>
#include <system_error>
#include <utility>

#include "artifact/artifact.h"
#include "artifact/error_context.h"
#include "artifact/release.h"
#include "artifact/url_parts.h"
#include "core/log.h"

namespace l3afd::artifact {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kLatest = "latest";

/// Runs a cleanup action on scope exit unless dismissed.
class ScopeExit {
 public:
  explicit ScopeExit(std::function<void()> fn) : fn_(std::move(fn)) {}
  ScopeExit(const ScopeExit&) = delete;
  ScopeExit& operator=(const ScopeExit&) = delete;
  ~ScopeExit() {
    if (fn_) fn_();
  }
  void dismiss() { fn_ = nullptr; }

 private:
  std::function<void()> fn_;
};

enum class Kind { Missing, Directory, Other };

Result<Kind> lstat_kind(const fs::path& p) {
  struct stat st {};
  if (::lstat(p.c_str(), &st) != 0) {
    if (errno == ENOENT) return Kind::Missing;
    return fail(Errc::Io, "lstat " + p.string(), errno);
  }
  return S_ISDIR(st.st_mode) ? Kind::Directory : Kind::Other;
}

/// Creates `p` unless it exists; an existing entry must be a real directory (not a symlink).
/// Sets `created` when this call made it.
Status ensure_real_dir(const fs::path& p, bool& created) {
  created = false;
  if (::mkdir(p.c_str(), 0755) == 0) {
    created = true;
    return ok();
  }
  if (errno != EEXIST) return fail(Errc::Io, "create directory " + p.string(), errno);
  auto kind = lstat_kind(p);
  if (!kind) return fail(std::move(kind.error()));
  if (*kind != Kind::Directory) {
    return fail(Errc::Io, p.string() + " exists and is not a directory");
  }
  return ok();
}

void remove_tree_logged(const fs::path& p) {
  std::error_code ec;
  fs::remove_all(p, ec);
  if (ec) spdlog::warn("artifact: cannot remove path={}: {}", p.string(), ec.message());
}

void rmdir_if_empty(const fs::path& p) {
  if (::rmdir(p.c_str()) != 0 && errno != ENOTEMPTY && errno != EEXIST && errno != ENOENT) {
    spdlog::warn("artifact: cannot remove path={}: {}", p.string(), std::strerror(errno));
  }
}

Status validate_ref(const ArtifactRef& ref) {
  if (auto st = validate_component("name", ref.name); !st) return st;
  if (auto st = validate_component("version", ref.version); !st) return st;
  return validate_component("artifact", ref.artifact);
}

}  // namespace

namespace {

/// The source record of a cache entry, `<version>/.source-<stem>`: the artifact URL on the first
/// line, and "signed-by <key file>" on the second when the package's SHA256SUMS signature was
/// verified when it was fetched (records written before signed repositories have no second
/// line: not verified).
struct Stamp {
  std::string url;  ///< "" when there is no record
  bool signature_verified = false;
};

Stamp read_stamp(const fs::path& stamp) {
  std::ifstream in(stamp, std::ios::binary);
  Stamp out;
  std::getline(in, out.url);
  std::string second;
  if (std::getline(in, second)) out.signature_verified = second.starts_with("signed-by ");
  return out;
}

/// Records the source of a cache entry (temporary file + rename).
Status write_stamp(const fs::path& stamp, const std::string& url, const std::string& signed_by) {
  const fs::path tmp = stamp.string() + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << url << '\n';
    if (!signed_by.empty()) out << "signed-by " << signed_by << '\n';
    if (!out) return fail(Errc::Io, "write " + tmp.string());
  }
  if (::rename(tmp.c_str(), stamp.c_str()) != 0)
    return fail(Errc::Io, "rename " + tmp.string(), errno);
  return ok();
}

/// A failed verification names the payload field it concerns, so that the API's error body
/// locates it (engine/failure.h fills in interface and program).
Error blame_artifact(Error e) {
  if (e.code == Errc::PackageIntegrity && e.items.empty()) {
    e.items.push_back(ErrorItem{.field = "artifact", .message = e.to_string()});
  }
  return e;
}

}  // namespace

RepositorySource::RepositorySource(FetchOptions options) : options_(std::move(options)) {}

Result<FetchedPackage> RepositorySource::fetch(const ArtifactRef& ref) {
  if (auto st = validate_ref(ref); !st) return fail(std::move(st.error()));
  auto format = artifact_format(ref.artifact);
  if (!format) return fail(std::move(format.error()));
  auto stem = artifact_stem(ref.artifact);
  if (!stem) return fail(std::move(stem.error()));
  if (auto st = validate_component("platform", options_.platform); !st)
    return fail(std::move(st.error()));
  if (options_.cache_root.empty()) return fail(Errc::InvalidPayload, "empty cache root");
  auto url = artifact_url(ref, options_.platform);
  if (!url) return fail(std::move(url.error()));

  const fs::path name_dir = options_.cache_root / ref.name;
  const fs::path version_dir = name_dir / ref.version;
  const fs::path target = version_dir / *stem;
  const bool latest = ref.version == kLatest;

  // Each cache entry records the URL it was fetched from: an entry is only reused for the same
  // source, so a package from another (or a missing) repository is never substituted for it.
  // Under a require policy it must also have been verified by signature when it was fetched: an
  // entry cached while the policy was weaker is not trusted now.
  const fs::path stamp = version_dir / (".source-" + *stem);
  const bool require_signature =
      options_.trust && options_.trust->policy_for(ref.repo_url) == SignaturePolicy::Require;
  auto existing = lstat_kind(target);
  if (!existing) return fail(std::move(existing.error()));
  if (*existing == Kind::Other) return fail(Errc::Io, target.string() + " is not a directory");
  if (*existing == Kind::Directory && !latest) {
    const Stamp record = read_stamp(stamp);
    if (record.url == *url && (record.signature_verified || !require_signature)) {
      return FetchedPackage{target, true};
    }
  }
  // Re-fetched and swapped in: "latest" always, any version whose source differs or whose
  // signature a require policy wants and the record lacks.
  const bool refresh = latest || *existing == Kind::Directory;

  std::error_code ec;
  fs::create_directories(options_.cache_root, ec);
  if (ec)
    return fail(Errc::Io, "create " + options_.cache_root.string() + ": " + ec.message(),
                ec.value());
  // Downloaded and extracted in a staging directory of the cache root, outside <name>/<version>:
  // a concurrent remove() of this package (the engine releasing an older instance while a
  // request prefetches on its own thread) can then neither delete it nor the directories it is
  // about to be moved into, which are made under dirs_mu_ right before the move.
  std::string tmpl = (options_.cache_root / ".staging-XXXXXX").string();
  if (::mkdtemp(tmpl.data()) == nullptr) return fail(Errc::Io, "mkdtemp " + tmpl, errno);
  const fs::path staging = tmpl;
  ScopeExit drop_staging([&] { remove_tree_logged(staging); });

  const fs::path tree = staging / "tree";
  if (::mkdir(tree.c_str(), 0700) != 0) return fail(Errc::Io, "create " + tree.string(), errno);
  auto verified = fetch_archive(*url, ref.repo_url, *format, tree, options_);
  if (!verified) return fail(blame_artifact(std::move(verified.error())));
  const fs::path fresh = tree / *stem;
  auto top = lstat_kind(fresh);
  if (!top) return fail(std::move(top.error()));
  if (*top != Kind::Directory) {
    return fail(Errc::Unavailable, "extract " + detail::redact_url(*url) +
                                       ": archive does not contain the top-level directory '" +
                                       *stem + "/'");
  }

  std::lock_guard lock(dirs_mu_);
  bool made_name = false;
  bool made_version = false;
  if (auto st = ensure_real_dir(name_dir, made_name); !st) return fail(std::move(st.error()));
  ScopeExit drop_name([&] {
    if (made_name) rmdir_if_empty(name_dir);
  });
  if (auto st = ensure_real_dir(version_dir, made_version); !st) return fail(std::move(st.error()));
  ScopeExit drop_version([&] {
    if (made_version) rmdir_if_empty(version_dir);
  });
  FetchedPackage out{target, false};
  if (::rename(fresh.c_str(), target.c_str()) != 0) {
    const int err = errno;
    if (err != EEXIST && err != ENOTEMPTY) {
      return fail(Errc::Io, "rename " + fresh.string() + " to " + target.string(), err);
    }
    if (refresh) {
      if (auto st = swap_tree(fresh, target, staging / "old"); !st)
        return fail(std::move(st.error()));
    } else {
      out.from_cache = true;  // a concurrent fetch of the same package installed it first
    }
  }
  if (auto st = write_stamp(stamp, *url, verified->signed_by); !st)
    return fail(std::move(st.error()));
  made_name = false;
  made_version = false;
  return out;
}

Status RepositorySource::remove(const ArtifactRef& ref) {
  if (auto st = validate_component("name", ref.name); !st) return st;
  if (auto st = validate_component("version", ref.version); !st) return st;
  if (options_.cache_root.empty()) return fail(Errc::InvalidPayload, "empty cache root");
  const fs::path name_dir = options_.cache_root / ref.name;
  const fs::path version_dir = name_dir / ref.version;
  if (version_dir.lexically_normal().lexically_relative(options_.cache_root.lexically_normal()) !=
      fs::path(ref.name) / ref.version) {
    return fail(Errc::InvalidPayload, version_dir.string() + " is not below the cache root");
  }
  std::lock_guard lock(dirs_mu_);  // never between a fetch's directories and its move
  auto name_kind = lstat_kind(name_dir);
  if (!name_kind) return fail(std::move(name_kind.error()));
  if (*name_kind == Kind::Missing) return ok();
  if (*name_kind != Kind::Directory) {
    return fail(Errc::Io, name_dir.string() + " is not a directory; refusing to remove below it");
  }
  std::error_code ec;
  fs::remove_all(version_dir, ec);
  if (ec) return fail(Errc::Io, "remove " + version_dir.string() + ": " + ec.message(), ec.value());
  if (::rmdir(name_dir.c_str()) != 0 && errno != ENOTEMPTY && errno != EEXIST && errno != ENOENT) {
    return fail(Errc::Io, "remove " + name_dir.string(), errno);
  }
  return ok();
}

}  // namespace l3afd::artifact
