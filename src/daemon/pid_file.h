// PID file with a single-instance lock (l3af-compat.md §1.4, Ours): the file holds the decimal
// PID without a newline, mode 0640. An exclusive flock on it is held for the process
// lifetime, so a second daemon on the same file fails fast without touching it.
#pragma once

#include <filesystem>

#include "core/result.h"
#include "core/unique_fd.h"

namespace l3afd::daemon {

class PidFile {
 public:
  /// Locks and writes `path`. Conflict if another live process holds the lock (the message
  /// names its PID); Io on file errors.
  static Result<PidFile> acquire(const std::filesystem::path& path);
  PidFile(PidFile&&) noexcept = default;
  PidFile& operator=(PidFile&&) noexcept = default;
  /// Removes the file too: every exit path after acquire() leaves no stale PID file.
  ~PidFile();
  /// Removes the file (D40) and releases the lock.
  void remove();

 private:
  PidFile(std::filesystem::path p, UniqueFd fd) : path_(std::move(p)), fd_(std::move(fd)) {}
  std::filesystem::path path_;
  UniqueFd fd_;
};

/// Kernel gate (§1.5): true if /proc/version's release is at least major.minor; leading digits
/// of each part are used (6.8-rc1 is 6.8). Errors: Io (unreadable), InvalidPayload (unparsable).
Result<bool> kernel_at_least(long major, long minor, const std::filesystem::path& proc_version = "/proc/version");

}  // namespace l3afd::daemon
