// Starting and stopping companion processes on Linux (issue 9, runner part): fork + execve of a
// CommandLine — never a shell — with a cleared environment, no inherited fds, stdout/stderr
// appended to a per-program log file, the working directory in the package, rlimits set in the
// child before exec, no blocked signals (the daemon's mask is not inherited), and a pidfd for every
// child so that exits are noticed and reaped without polling and a recycled pid is never signalled.
//
// Thread-safety: the functions are safe to call from any thread; a Child is owned by one
// thread. fork() in a multi-threaded daemon is safe here because the child only makes
// async-signal-safe calls between fork and execve.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "core/result.h"
#include "core/unique_fd.h"
#include "supervisor/command_line.h"

namespace l3afd::supervisor {

struct SpawnOptions {
  std::filesystem::path cwd;                  ///< the package directory
  std::vector<std::string> env;               ///< the whole environment ("K=V"); empty = none
  std::filesystem::path log_file;             ///< stdout and stderr appended here (0640); empty =
                                              ///< /dev/null
  std::optional<std::uint64_t> memory_bytes;  ///< RLIMIT_AS, soft = hard (payload `memory`)
  std::optional<std::uint64_t> cpu_seconds;   ///< RLIMIT_CPU, soft = hard (payload `cpu`)
  /// stdout and stderr go to a pipe instead of `log_file`: its read end (close-on-exec,
  /// non-blocking) comes back as Child::output, for a reader that caps the log's size. The child
  /// then ignores SIGPIPE, so that it survives the reader's end (a daemon restart): its writes
  /// fail with EPIPE instead.
  bool output_pipe = false;
  /// A cgroup v2 directory the child joins before exec (it writes to `<cgroup>/cgroup.procs`,
  /// opened before the fork); empty = stay in the daemon's cgroup. A failure to join fails the
  /// spawn (Io).
  std::filesystem::path cgroup;
};

/// A started process: its pid and a pidfd that stays valid (and names exactly this process)
/// until the Child is destroyed, even after the process exited.
struct Child {
  pid_t pid = -1;
  UniqueFd pidfd;
  UniqueFd output;  ///< with SpawnOptions::output_pipe: the read end of stdout/stderr
};

/// How a process ended.
struct Exit {
  bool signaled = false;
  int code = 0;  ///< exit status, or the signal number when signaled
  bool operator==(const Exit&) const = default;
};

/// Starts `cmd`. Before the fork: with a `cwd`, the executable's real path (symbolic links
/// resolved) must lie inside the real `cwd` (InvalidPayload); it must exist (NotFound) and be a
/// regular file with an execute bit (InvalidPayload). Naming the payload field is the caller's
/// job. A failed execve in the child is reported as an error here, not as an exit
/// of a process that never ran (a close-on-exec pipe carries its errno back).
Result<Child> spawn(const CommandLine& cmd, const SpawnOptions& options);

/// Waits up to `timeout` for the child to exit and reaps it. nullopt when it is still running
/// after the timeout. Errors: Kernel (waitid/poll failed).
Result<std::optional<Exit>> wait_exit(const Child& child, std::chrono::milliseconds timeout);

/// Stops the child: SIGTERM, waits up to `grace`, then SIGKILL and waits for it; always reaps.
/// Signals go through the pidfd, so a pid reused by another process is never signalled.
Result<Exit> stop(const Child& child, std::chrono::milliseconds grace);

}  // namespace l3afd::supervisor
