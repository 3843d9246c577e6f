// Re-pointing `<basepath>/latest/l3afd` and `<basepath>/latest/l3afd.cfg` to a release, and
// putting them back (compat §16.2 step 3: "any failure: restore the symlinks").
// Thread-safety: a LatestLinks is a value; one restart at a time changes the links.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "core/result.h"

namespace l3afd::restart {

/// The state of both `latest/` links before a repoint, and the means to restore it.
class LatestLinks {
 public:
  /// Points both links at release `version`: targets are the absolute paths
  /// `<basepath>/<version>/l3afd/l3afd` and `.../l3afd.cfg`, which must exist as regular files
  /// (NotFound otherwise). Creates `<basepath>/latest` if missing. Each link is switched
  /// atomically (a new link beside it, renamed over it), the binary first. Existing entries
  /// must be symbolic links (Io otherwise, nothing changed); their targets are remembered byte
  /// for byte. If the second link cannot be switched, the first is restored (and a `latest/`
  /// directory created by this call removed) before the error is returned.
  /// Errors: InvalidPayload (bad version), NotFound, Io; messages name the paths.
  static Result<LatestLinks> repoint(const std::filesystem::path& basepath,
                                     std::string_view version);

  /// Restores the state before repoint: each link points at its previous target again, a link
  /// that did not exist is removed, and a `latest/` directory created by repoint is removed if
  /// empty. Tries both links even if the first fails; returns the first error (Io). Calling it
  /// again restores the same state.
  Status rollback();

  /// The previous targets, as readlink returned them; nullopt: the link did not exist.
  const std::optional<std::string>& previous_binary() const noexcept { return prev_binary_; }
  const std::optional<std::string>& previous_config() const noexcept { return prev_config_; }

 private:
  LatestLinks(std::filesystem::path basepath, std::optional<std::string> prev_binary,
              std::optional<std::string> prev_config, bool created_dir);

  std::filesystem::path basepath_;  ///< absolute, lexically normal
  std::optional<std::string> prev_binary_;
  std::optional<std::string> prev_config_;
  bool created_dir_ = false;  ///< repoint created `<basepath>/latest`
};

}  // namespace l3afd::restart
