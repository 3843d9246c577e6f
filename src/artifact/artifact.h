// The artifact port: fetch an eBPF package from the package repository into the local cache
// (docs/compatibility.md §9) and remove it again. Pure helpers for the repository URL, the platform
// name and the archive naming rules live here too.
//
// Error codes used by this module:
//   InvalidPayload  something that came from the request is unusable: a name/version/artifact
//                   that is not a safe path component, an unknown artifact suffix, an unknown
//                   url scheme;
//   Unavailable     the repository could not be reached or served something unusable (HTTP
//                   status other than 200, curl error, size cap, malicious or malformed
//                   archive, missing top-level directory);
//   PackageIntegrity the download failed verification: `.sha256` missing (when required),
//                   malformed or mismatching, or the signed SHA256SUMS check of trust.h failed
//                   (unsigned under require, bad signature, no trusted key, not listed, digest
//                   mismatch); nothing of the download was extracted;
//   Timeout         the download exceeded FetchOptions::timeout;
//   NotFound        the repository has no such artifact (HTTP 404, missing local file);
//   Io              a local file system or process operation failed (errno attached).
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "artifact/trust.h"
#include "core/result.h"

namespace l3afd::artifact {

/// Identifies one package in the repository: `<repo_url>/<name>/<version>/<platform>/<artifact>`.
struct ArtifactRef {
  std::string repo_url;  ///< ebpf_package_repo_url, else [ebpf-repo] url
  std::string name;      ///< program name (a single path component)
  std::string version;   ///< program version (a single path component); "latest" is re-fetched
  std::string artifact;  ///< file name ending in .tar.gz or .zip
};

/// Limits and locations for RepositorySource. Value type.
struct FetchOptions {
  std::filesystem::path cache_root;          ///< [l3afd] bpf-dir; must be non-empty
  std::string platform;                      ///< e.g. "bookworm" (see detect_platform)
  std::chrono::milliseconds timeout{30000};  ///< whole download (connect + headers + body)
  uint64_t max_download_bytes = 256ull << 20;
  uint64_t max_extracted_bytes = 1ull << 30;  ///< sum of regular file sizes
  uint64_t max_entries = 10000;               ///< archive entries of any type
  /// When true, `<artifact url>.sha256` must exist; when false a missing one (HTTP 404, or
  /// ENOENT for file://) only skips the verification.
  bool require_checksum = false;
  /// Signature policies and trusted keys (trust.h); null: no signature is checked (policy Off
  /// for every repository), the behaviour before signed repositories existed.
  std::shared_ptr<const RepositoryTrust> trust;
};

/// Where a fetched package lives.
struct FetchedPackage {
  std::filesystem::path package_dir;  ///< <cache_root>/<name>/<version>/<stem>
  bool from_cache = false;            ///< true when no download happened
};

/// Archive formats, chosen by the artifact's suffix.
enum class ArchiveFormat { TarGz, Zip };

/// Joins `<repo>/<name>/<version>/<platform>/<artifact>` like Go's url.JoinPath: the base's
/// scheme, authority, query and fragment are kept; the path elements are joined with single
/// '/', '.' elements dropped and '..' elements removing their predecessor (never above the
/// root). Characters outside RFC 3986 path characters in the elements are percent-encoded.
/// Deviation: a base with an authority but an empty host (`file://`) yields an absolute path
/// (`file:///name/...`), where Go would produce `file://name/...` (name read back as host).
/// Errors: InvalidPayload for an empty repo URL or one containing control characters or spaces.
/// Pure; thread-safe.
Result<std::string> artifact_url(const ArtifactRef& ref, std::string_view platform);

/// The platform name: VERSION_CODENAME from `os_release`; if the file or the key is absent or
/// empty, the trimmed stdout of `<lsb_release> -cs` (posix_spawnp, no shell, PATH searched when
/// the name has no '/'). The result is validated as a path component.
/// Errors: Io when neither source yields a name (message names both causes); InvalidPayload
/// when the name found is not a safe path component.
/// Thread-safe (spawns a child process when falling back).
Result<std::string> detect_platform(const std::filesystem::path& os_release = "/etc/os-release",
                                    const std::string& lsb_release = "lsb_release");

/// The package directory name: the artifact file name up to its first '.'
/// (`l3af_ratelimiting.tar.gz` -> `l3af_ratelimiting`). Errors: InvalidPayload when it is empty
/// or the artifact is not a valid path component. Pure.
Result<std::string> artifact_stem(std::string_view artifact);

/// The format by suffix: `.tar.gz` or `.zip`. Errors: InvalidPayload "unknown artifact format".
/// Pure.
Result<ArchiveFormat> artifact_format(std::string_view artifact);

/// Checks that `value` can be used as one path component: not empty, not ".", no '/', no NUL,
/// no ".." anywhere. `what` names the field in the error. Errors: InvalidPayload. Pure.
Status validate_component(std::string_view what, std::string_view value);

/// Port: obtains packages. Implementations document their own thread-safety.
class ArtifactSource {
 public:
  virtual ~ArtifactSource() = default;
  /// Returns the package directory <cache_root>/<name>/<version>/<stem>, downloading and
  /// extracting if needed. On error nothing new is left in the cache.
  /// Errors: see the list at the top of this header; NotFound when the repository has no
  /// such artifact (HTTP 404, missing local file).
  virtual Result<FetchedPackage> fetch(const ArtifactRef& ref) = 0;
  /// Removes <cache_root>/<name>/<version>/ (and <name>/ if then empty). Succeeds when absent.
  /// Only name and version are used (and validated); the artifact may be empty.
  /// Errors: InvalidPayload for unsafe components, Io for file system failures (also when
  /// <cache_root>/<name> is not a real directory, e.g. a symlink).
  virtual Status remove(const ArtifactRef& ref) = 0;
};

/// The package repository adapter (file://, http://, https://; .tar.gz and .zip).
///
/// Cache: an existing <cache_root>/<name>/<version>/<stem> directory is used without
/// downloading when its source record names the same artifact URL, except for version "latest",
/// which is downloaded and extracted into a fresh staging directory on every fetch and swapped
/// in atomically (renameat2 RENAME_EXCHANGE, or rename-aside when the file system lacks it); the
/// old tree is then removed. Signatures: a cache hit is not verified again; under a Require
/// policy an entry is a hit only if its record says it was verified by signature when it was
/// fetched (otherwise it is re-fetched and swapped in like "latest"). A failed verification of
/// a re-fetch leaves the previous tree in place and fails the fetch.
///
/// Thread-safety: fetch/remove of any refs may run concurrently. Concurrent fetches of the same
/// non-latest ref are safe (the loser of the final rename reports a cache hit). A fetch and a
/// remove of the same package never interleave between the fetch's directory set-up and its
/// move (downloads happen in a staging directory of the cache root); a remove that comes after
/// the move removes what the fetch installed (the engine orders its own fetches and removes).
class RepositorySource final : public ArtifactSource {
 public:
  explicit RepositorySource(FetchOptions options);
  Result<FetchedPackage> fetch(const ArtifactRef& ref) override;
  Status remove(const ArtifactRef& ref) override;

  const FetchOptions& options() const noexcept { return options_; }

 private:
  FetchOptions options_;
  /// Serialises remove() with the part of fetch() that makes <name>/<version> and moves the
  /// package in (never held while downloading).
  std::mutex dirs_mu_;
};

}  // namespace l3afd::artifact
