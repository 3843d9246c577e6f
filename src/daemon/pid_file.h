// PID file with a single-instance lock (docs/compatibility.md §1.4, Ours): the file holds the
// decimal PID without a newline, mode 0640. An exclusive flock on it is held for the process
// lifetime, so a second daemon on the same file fails fast without touching it.
#pragma once

#include <filesystem>

#include "core/result.h"
#include "core/unique_fd.h"

namespace l3afd::daemon {

class PidFile {
 public:
  /// Locks and writes `path`. Before anything is written (or a missing directory created),
  /// refuses with Io, naming the path and the reason, a path another user could redirect to
  /// another file (issue 8: the PID file was written through a symlink):
  ///  * the directory of the file and every ancestor of its canonical path must be owned by
  ///    root or by this user (euid), and must not be writable by group or others unless the
  ///    sticky bit is set (/tmp is fine, a 0777 or group-writable directory is not);
  ///  * an existing entry at `path` must be a regular file owned by this user with one link
  ///    (a symbolic link is never followed: the file is opened O_NOFOLLOW | O_CLOEXEC relative
  ///    to the checked directory, and what was opened is checked again).
  /// A missing directory is created once its deepest existing ancestor passes that rule.
  /// Conflict if another live process holds the lock (the message names its PID; the file is
  /// not changed). Io on other file errors.
  static Result<PidFile> acquire(const std::filesystem::path& path);
  /// Graceful restart, new process: takes over the predecessor's open, locked descriptor
  /// (`fd`, handed over; the flock belongs to the shared open file description, so the lock is
  /// never free between the two processes). Refuses (Io) a descriptor that is not the regular
  /// file now at `path` (device and inode compared, `path` not followed if a symlink) or that
  /// does not hold the lock. Writes nothing: write_own() does, once the process is ready.
  static Result<PidFile> adopt(const std::filesystem::path& path, UniqueFd fd);
  PidFile(PidFile&&) noexcept = default;
  PidFile& operator=(PidFile&&) noexcept = default;
  /// Removes the file too: every exit path after acquire() leaves no stale PID file.
  ~PidFile();
  /// Removes the file (D40) and releases the lock.
  void remove();
  /// Writes this process's PID (the new process of a graceful restart when ready; the old one
  /// again after a rollback). Errors: Io.
  Status write_own();
  /// The locked descriptor, to hand to a successor (it stays owned here).
  int fd() const { return fd_.get(); }
  /// Graceful restart, old process: forgets the file without removing it; the successor holds
  /// the lock through its copy of the descriptor and has written its PID.
  void leave_to_successor() { fd_.reset(); }

 private:
  PidFile(std::filesystem::path p, UniqueFd fd) : path_(std::move(p)), fd_(std::move(fd)) {}
  std::filesystem::path path_;
  UniqueFd fd_;
};

/// Kernel gate (§1.5): true if /proc/version's release is at least major.minor; leading digits
/// of each part are used (6.8-rc1 is 6.8). Errors: Io (unreadable), InvalidPayload (unparsable).
Result<bool> kernel_at_least(long major, long minor,
                             const std::filesystem::path& proc_version = "/proc/version");

}  // namespace l3afd::daemon
