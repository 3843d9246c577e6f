// Makes sure tracefs is mounted, so that objects with classic tracepoint programs (attached by
// name: libbpf reads the event id from tracefs) load on hosts that have not mounted it
// (docs/compatibility.md §1.6: the original mounts it too). Call before the first load: libbpf
// 1.1 decides once per process whether it uses /sys/kernel/debug/tracing or /sys/kernel/tracing.
#pragma once

#include <filesystem>

#include "core/result.h"

namespace l3afd::daemon {

/// Returns the tracefs directory in use: /sys/kernel/debug/tracing if it exists (debugfs
/// mounted; libbpf 1.1 prefers it), else `tracing` (normally /sys/kernel/tracing), where
/// tracefs is mounted if that directory is not a tracefs mount yet.
/// Errors: Io with errno (e.g. EPERM without CAP_SYS_ADMIN, ENOENT without the directory);
/// the caller logs them and goes on — only objects with classic tracepoints need tracefs.
Result<std::filesystem::path> ensure_tracefs(
    const std::filesystem::path& tracing = "/sys/kernel/tracing",
    const std::filesystem::path& debug_tracing = "/sys/kernel/debug/tracing");

}  // namespace l3afd::daemon
