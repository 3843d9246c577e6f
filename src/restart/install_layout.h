// The install layout of the daemon's releases (compat §16.1, docs/operations.md "Installing")
// and the steps of a graceful restart that change it (compat §16.2 step 3):
//
//   <basepath>/latest/l3afd     -> <basepath>/<ver>/l3afd/l3afd      (see latest_links.h)
//   <basepath>/latest/l3afd.cfg -> <basepath>/<ver>/l3afd/l3afd.cfg
//   <basepath>/<ver>/            the extracted `<restart-artifacts-url>/<ver>/l3afd.tar.gz`
//
// Paths are compared lexically (after making basepath absolute): a basepath reached through a
// symbolic link must be configured the way the links spell it.
//
// Thread-safety: no shared state. The functions change files under basepath; the caller runs one
// restart at a time (concurrent stage/remove of the same version are not safe).
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "artifact/artifact.h"
#include "core/result.h"

namespace l3afd::restart {

/// The only name a daemon package is fetched under (D39 f: no .zip).
inline constexpr std::string_view kReleaseArchive = "l3afd.tar.gz";

/// `<basepath>/latest/l3afd`, the path the daemon is started from. Pure.
std::filesystem::path latest_binary(const std::filesystem::path& basepath);
/// `<basepath>/latest/l3afd.cfg`, the configuration it is started with. Pure.
std::filesystem::path latest_config(const std::filesystem::path& basepath);
/// `<basepath>/<version>`, where a release is installed. Pure.
std::filesystem::path release_dir(const std::filesystem::path& basepath, std::string_view version);
/// `<basepath>/<version>/l3afd/l3afd`. Pure.
std::filesystem::path release_binary(const std::filesystem::path& basepath,
                                     std::string_view version);
/// `<basepath>/<version>/l3afd/l3afd.cfg`. Pure.
std::filesystem::path release_config(const std::filesystem::path& basepath,
                                     std::string_view version);

/// `basepath` made absolute (against the current directory) and lexically normal, without a
/// trailing separator: the form every path of the layout is built from and compared with.
/// Errors: InvalidPayload for an empty basepath, Io when the current directory is unknown.
Result<std::filesystem::path> absolute_basepath(const std::filesystem::path& basepath);

/// Checks that `version` can name a release directory: one path component (no '/', no "..",
/// not empty or "."), not "latest", not starting with '.' (reserved for staging directories).
/// The restart handler has already checked the vX.Y.Z form (version.h); this is the file system
/// rule. Errors: InvalidPayload naming the field `version`. Pure.
Status validate_release_name(std::string_view version);

/// The running version: the path component right after `<basepath>/` in the target of
/// `<basepath>/latest/l3afd` (a relative target is resolved against `<basepath>/latest`), after
/// lexical normalisation; never a character trim of the path (D39 d). The target file itself
/// need not exist. nullopt when `latest/l3afd` does not exist.
/// Errors: Io, the message naming the link and its target, when it exists but is not a
/// symbolic link, or its target is not exactly `<basepath>/<ver>/l3afd/l3afd` with `<ver>` a
/// valid release name, or the link cannot be read.
Result<std::optional<std::string>> running_version(const std::filesystem::path& basepath);

/// Installs release `version` at `<basepath>/<version>`:
///  1. refuses the running version (InvalidPayload): its installation is never deleted (D39 d);
///     a running version that cannot be determined fails the call too;
///  2. creates the private staging directory `<basepath>/.staging-<version>-XXXXXX`;
///  3. fetches `<artifacts_url>/<version>/l3afd.tar.gz` (joined like url.JoinPath; file://,
///     http://, https://) and extracts it with artifact::fetch_archive: the `.sha256` companion
///     verified when present (`limits.require_checksum` makes it mandatory), the signed
///     SHA256SUMS of `<artifacts_url>/<version>/` under the signature policy of `artifacts_url`
///     (`limits.trust`; artifact/trust.h) checked before extraction, entries checked
///     one by one (no links, "..", devices; size and entry caps of `limits`);
///  4. requires `l3afd/` to be a directory, `l3afd/l3afd` a regular file with an execute bit,
///     `l3afd/l3afd.cfg` a regular file (Unavailable otherwise);
///  5. puts the extracted tree at `<basepath>/<version>` (rename, or an atomic exchange with an
///     existing directory); the old tree is removed only after the new one is in place.
/// `<basepath>` must exist. On error nothing is left behind: no staging directory, and
/// `<basepath>/<version>` is unchanged (absent, or the previous tree).
/// Errors: InvalidPayload (bad version, the running version, unusable URL), NotFound (no such
/// package), Timeout, PackageIntegrity (checksum or signature), Unavailable (HTTP status,
/// malformed or malicious archive,
/// required files missing), Io (local file system; also an existing `<basepath>/<version>`
/// that is not a directory). Messages name the URL or path and the reason.
Status stage_release(const std::filesystem::path& basepath, std::string_view version,
                     std::string_view artifacts_url, const artifact::FetchOptions& limits);

/// Removes `<basepath>/<version>` (the undo of stage_release when the restart is rolled back);
/// absent is success. Refuses the running version (InvalidPayload) and fails when the running
/// version cannot be determined. Errors: InvalidPayload, Io.
Status remove_release(const std::filesystem::path& basepath, std::string_view version);

}  // namespace l3afd::restart
