// Symbolic links that are read, replaced atomically and removed, never followed. Used for the
// `<basepath>/latest/` links of the install layout (compat §16.1).
// Thread-safety: no shared state; concurrent changes of the same link must be serialised by the
// caller (a reader sees the old or the new target, never no link, while a replace runs).
#pragma once

#include <filesystem>
#include <optional>
#include <string>

#include "core/result.h"

namespace l3afd::restart {

/// The target of the symbolic link `link`, exactly as stored (readlink(2)); nullopt when `link`
/// does not exist. Errors: Io when `link` exists but is not a symbolic link, or lstat/readlink
/// fails (errno attached); the message names `link`.
Result<std::optional<std::string>> read_link(const std::filesystem::path& link);

/// Makes `link` a symbolic link to `target` in one step: a new link is created beside it
/// (`.<name>.new-<random>` in the same directory) and renamed over `link` (rename(2) replaces
/// atomically, so `link` never disappears). `link` must be absent or a non-directory.
/// On error the temporary link is removed and `link` is unchanged.
/// Errors: Io (errno attached), naming `link` and `target`.
Status replace_symlink(const std::filesystem::path& link, const std::string& target);

/// Removes the symbolic link `link`; absent is success. Errors: Io when `link` is not a
/// symbolic link (it is left alone) or unlink fails.
Status remove_symlink(const std::filesystem::path& link);

}  // namespace l3afd::restart
