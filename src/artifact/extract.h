// Internal: safe extraction of a package archive into a private staging directory.
// Thread-safe (no shared state); the destination must not be shared with other writers.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "artifact/artifact.h"
#include "core/result.h"

namespace l3afd::artifact::detail {

struct ExtractLimits {
  uint64_t max_entries = 10000;     ///< archive entries of any type, skipped ones included
  uint64_t max_bytes = 1ull << 30;  ///< sum of bytes written to regular files
};

/// Cleans an archive member name into a relative path "a/b/c" (leading "./", repeated '/'
/// and '.' components removed). Returns nullopt when the name denotes the extraction root
/// itself ("./", "."). Errors (Unavailable): empty name, absolute name, ".." anywhere in it
/// (the Original rule, stricter than a ".." component).
Result<std::optional<std::string>> normalize_entry_name(std::string_view name);

/// Extracts `archive_file` (format chosen by the caller from the suffix) entry by entry below
/// the existing directory `dest`. Accepts only regular files and directories; rejects
/// absolute names, "..", links, devices, fifos and sockets, more than max_entries entries and
/// more than max_bytes of file data; a directory entry resolving to `dest` itself is skipped.
/// Missing parents are created (0755). Files keep the archive's rwx bits for user, group and
/// other (no setuid/setgid/sticky); directories keep them too, plus u+rwx so that the daemon
/// can always manage its cache. .tar.gz archives must really be gzip-compressed.
/// On error `dest` may hold partial output; the caller removes it.
/// Errors: Unavailable for archive problems (message names the entry), Io for local failures.
Status extract_archive(const std::filesystem::path& archive_file, ArchiveFormat format,
                       const std::filesystem::path& dest, const ExtractLimits& limits);

}  // namespace l3afd::artifact::detail
