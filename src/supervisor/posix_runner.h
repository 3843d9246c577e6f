// Starting and stopping companion processes on Linux (issue 9, runner part): fork + execve of a
// CommandLine — never a shell — with exactly the environment given (none by default), no
// inherited fds, stdout/stderr appended to a per-program log file, the working directory in the
// package, rlimits set in the child before exec, no blocked signals (the daemon's mask is not
// inherited), optionally another user, groups and ambient capabilities (issue 12), always
// no_new_privs, and a pidfd for every child so that exits are noticed and reaped without polling
// and a recycled pid is never signalled.
//
// Thread-safety: the functions are safe to call from any thread; a Child is owned by one
// thread. fork() in a multi-threaded daemon is safe here because the child only makes
// async-signal-safe calls (and raw system calls) between fork and execve: everything it needs —
// argv, environment, groups, capability sets — is computed before the fork.
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

/// Who the child becomes before exec (docs/compatibility.md §11.7), in this order: supplementary
/// groups, gid, uid (real, effective and saved), then — with `ambient` — exactly those
/// capabilities as permitted, effective, inheritable and ambient, so that they survive the exec
/// of a binary without file capabilities; without `ambient` the change of uid leaves none.
struct Credentials {
  uid_t uid = 0;
  gid_t gid = 0;
  std::vector<gid_t> groups;  ///< the whole supplementary group list (setgroups)
  std::uint64_t ambient = 0;  ///< bit n = capability n (capabilities(7) numbers)
  bool operator==(const Credentials&) const = default;
};

/// Every child gets, whatever the options: /dev/null as stdin, no fd beyond stderr, no blocked
/// signal, and PR_SET_NO_NEW_PRIVS (no set-user-ID bit or file capability of what it executes
/// can raise its privileges).
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
  /// The user, groups and capabilities to take (after joining the cgroup and setting the
  /// rlimits, before the chdir, so that the package directory is entered as that user);
  /// nullopt: the daemon's own.
  std::optional<Credentials> credentials;
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
/// job. A step of the child that fails (setuid, chdir, execve, ...) is reported as an error here
/// (Io, with the step's name and its errno), not as an exit of a process that never ran: a
/// close-on-exec pipe carries them back.
Result<Child> spawn(const CommandLine& cmd, const SpawnOptions& options);

/// Waits up to `timeout` for the child to exit and reaps it. nullopt when it is still running
/// after the timeout. Errors: Kernel (waitid/poll failed).
Result<std::optional<Exit>> wait_exit(const Child& child, std::chrono::milliseconds timeout);

/// Stops the child: SIGTERM, waits up to `grace`, then SIGKILL and waits for it; always reaps.
/// Signals go through the pidfd, so a pid reused by another process is never signalled.
Result<Exit> stop(const Child& child, std::chrono::milliseconds grace);

}  // namespace l3afd::supervisor
