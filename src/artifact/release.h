// One archive fetched outside the package repository layout, for example the daemon's own
// release package (compat §16.1): URL construction, then download, verification (checksum and
// signed SHA256SUMS) and
// extraction with exactly the rules packages get (README.md, "Fetch sequence" steps 4 to 6, and
// "Extraction rules"). RepositorySource uses fetch_archive for its packages too.
//
// Error codes: those listed at the top of artifact.h.
// Thread-safety: no shared state; concurrent calls must use different destinations.
#pragma once

#include <filesystem>
#include <initializer_list>
#include <string>
#include <string_view>

#include "artifact/artifact.h"
#include "core/result.h"

namespace l3afd::artifact {

/// `<base>/<e1>/<e2>/...` joined like artifact_url (Go url.JoinPath): scheme, authority, query
/// and fragment of `base` are kept; '.' elements are dropped, '..' removes its predecessor
/// (never above the root); characters outside RFC 3986 path characters are percent-encoded.
/// Errors: InvalidPayload for an empty base or one containing control characters or spaces
/// (the message does not say what the base is: the caller adds that). Pure.
Result<std::string> url_join_path(std::string_view base,
                                  std::initializer_list<std::string_view> elements);

/// `url` with any userinfo replaced by "***" (`https://***@host/...`), for logs and error
/// messages; a URL that cannot be split is returned unchanged. Pure.
std::string redact_userinfo(std::string_view url);

/// What fetch_archive verified before extracting.
struct ArchiveVerification {
  bool checksum = false;  ///< `<url>.sha256` was published and matched
  /// The policy applied to the repository (Off when `options.trust` is null).
  SignaturePolicy policy = SignaturePolicy::Off;
  /// The trusted key file that signed the SHA256SUMS listing the archive with its digest;
  /// empty when no signature was checked (policy Off, or IfPresent without SHA256SUMS).
  std::string signed_by;
};

/// Downloads the archive at `url` (file://, http://, https://) from the repository `repo_url`
/// and extracts it into `dest`:
///  * the download is capped at `options.max_download_bytes` and each transfer at
///    `options.timeout`; http/https accept only status 200;
///  * checksum: `<url>.sha256` (the suffix appended to the URL's path). Present: its first token
///    must be the hex SHA-256 of the download. Absent (HTTP 404, missing local file): no
///    verification, unless `options.require_checksum`, which makes it an error. Any other
///    failure to read it fails the call: a verifier is never skipped silently;
///  * signature: under `options.trust->policy_for(repo_url)` (Off when `options.trust` is null),
///    the signed `SHA256SUMS` of the archive's directory (trust.h, signed_listing.h);
///  * only then extraction entry by entry, `format` as given, limited by `options.max_entries` and
///    `options.max_extracted_bytes`; only regular files and directories, no absolute names,
///    no "..", setuid/setgid/sticky dropped.
/// `options.cache_root` and `options.platform` are not used.
/// `dest` must be an existing, empty directory private to the caller. The downloaded archive is
/// kept in a temporary directory `.fetch-XXXXXX` created beside `dest` (in its parent), which is
/// removed before returning, on success and on error. On error `dest` may hold partial output:
/// the caller removes it.
/// Errors: InvalidPayload (unknown url scheme), NotFound (no such archive), Timeout,
/// PackageIntegrity (checksum required but missing, malformed or mismatching; every signature
/// failure: nothing was extracted), Unavailable (HTTP status, size cap, malformed or malicious
/// archive), Io (local file system). Messages name the URL (userinfo redacted).
Result<ArchiveVerification> fetch_archive(const std::string& url, std::string_view repo_url,
                                          ArchiveFormat format, const std::filesystem::path& dest,
                                          const FetchOptions& options);

/// Removes a directory tree when it goes out of scope (a failure is logged: the caller's result
/// is already decided). Used for staging directories.
class ScopedTree {
 public:
  explicit ScopedTree(std::filesystem::path p) : path_(std::move(p)) {}
  ScopedTree(const ScopedTree&) = delete;
  ScopedTree& operator=(const ScopedTree&) = delete;
  ~ScopedTree();

 private:
  std::filesystem::path path_;
};

/// Puts the directory `fresh` in place of the existing directory `target`, so that readers see
/// the old or the new tree, never none: renameat2(RENAME_EXCHANGE) (the old tree then is at
/// `fresh`), or, where the file system cannot exchange, the old tree moved to `aside` and the new
/// one renamed in (moved back on failure). The caller removes what is left at `fresh`/`aside`.
/// Errors: Io (naming the paths).
Status swap_tree(const std::filesystem::path& fresh, const std::filesystem::path& target,
                 const std::filesystem::path& aside);

}  // namespace l3afd::artifact
