// The bpffs change lock of the libbpf adapter: an exclusive flock() on a directory, as libxdp
// flocks its bpffs directory. flock() locks belong to an open file description, so the lock is
// exclusive across processes and also between two opens in one process. Thread-safe.
#pragma once

#include <chrono>
#include <filesystem>

#include "core/result.h"
#include "kernel/kernel.h"

namespace l3afd::kernel::libbpf {

/// Opens `dir` (O_RDONLY | O_DIRECTORY | O_CLOEXEC) and takes flock(LOCK_EX | LOCK_NB) on it,
/// retrying with a short growing sleep (1 ms, doubling up to 50 ms) until `timeout` has passed.
/// The returned ChangeLock owns the fd: closing it releases the lock.
/// Errors: Timeout ("bpffs directory <dir> is locked by another process"), Io (open or flock
/// failed otherwise).
Result<ChangeLock> lock_directory(const std::filesystem::path& dir,
                                  std::chrono::milliseconds timeout);

}  // namespace l3afd::kernel::libbpf
