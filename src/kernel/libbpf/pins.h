// bpffs file helpers of the libbpf adapter: directories with mode 0750, atomic pin replacement
// and bounded removal of empty directories. Pure functions over the file system; thread-safe
// as far as the file system is.
#pragma once

#include <filesystem>
#include <vector>

#include "core/result.h"

namespace l3afd::kernel::libbpf {

/// Creates `dir` and its missing parents with mode 0750. Returns the directories it created,
/// outermost first (to be removed in reverse). Errors: Io.
Result<std::vector<std::filesystem::path>> make_dirs(const std::filesystem::path& dir);

/// Removes the given directories in reverse order while they are empty; never fails (a
/// directory that is not empty or already gone is left alone).
void remove_dirs_if_empty(const std::vector<std::filesystem::path>& dirs);

/// Removes `dir` and then its parents while they are empty, stopping below the root of the
/// bpffs mount that holds `dir` (the mount root itself is never removed). Nothing happens if
/// `dir` is not on a bpffs.
void remove_empty_ancestors(const std::filesystem::path& dir);

/// Pins `fd` at `path`, replacing whatever is pinned there atomically: pins under a temporary
/// name in the same directory, then renames over `path`. Errors: Io (with errno).
Status pin_replace(int fd, const std::filesystem::path& path);

/// Removes a pin file; a missing file is not an error. Errors: Io.
Status unpin(const std::filesystem::path& path);

/// True if `path` (which must exist) lies on a bpf file system.
bool on_bpffs(const std::filesystem::path& path);

}  // namespace l3afd::kernel::libbpf
