// Makes sure the bpffs base ([l3afd] BpfMapDefaultPath) is a mounted bpf file system
// (docs/compatibility.md §1.6: the original mounts it when missing).
#pragma once

#include <filesystem>

#include "core/result.h"

namespace l3afd::daemon {

/// If `base` is not on a bpf file system, creates it and mounts bpffs there (mode 0700).
/// Errors: Io with errno (e.g. EPERM without CAP_SYS_ADMIN).
Status ensure_bpffs(const std::filesystem::path& base);

}  // namespace l3afd::daemon
