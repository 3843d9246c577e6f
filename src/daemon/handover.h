// The wire of a graceful restart between two l3afd processes (docs/operations.md "Graceful
// restart", docs/compatibility.md §16.3 "Ours"). No socket path: the old process makes a
// socketpair and starts the new one with one end as its fd 3 (L3AFD_HANDOVER_FD=3), so nobody
// else can connect, squat a name or leave a stale socket file behind (D39 c).
//
//   old -> new  one message: a fixed header (magic, format, descriptor count, lengths) carrying
//               the descriptors in SCM_RIGHTS, then the descriptor names ('\n'-separated, in
//               the order of the descriptors) and the state (handover_state.h)
//   new -> old  "ready\n" once the new process serves (PID file written), or
//               "failed: <reason>\n" before it exits
//
// Descriptor names: "api", "metrics", "debug" (listening sockets), "pid" (the locked PID file),
// "companion-output:<pid>" (the read end of a supervised companion's output pipe).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "core/result.h"
#include "core/unique_fd.h"

namespace l3afd::daemon {

inline constexpr const char* kHandoverFdEnv = "L3AFD_HANDOVER_FD";

struct HandoverMessage {
  std::string state;
  std::vector<std::pair<std::string, UniqueFd>> fds;  ///< named descriptors, in order
};

/// Sends `state` and the descriptors `fds` (name, fd: the fds stay owned by the caller; the
/// receiver gets its own copies). At most 64 descriptors. Gives up after `timeout` (a new
/// process that does not read). Errors: Io, Timeout, InvalidPayload (too many descriptors).
Status send_handover(int sock, const std::string& state,
                     const std::vector<std::pair<std::string, int>>& fds,
                     std::chrono::milliseconds timeout);

/// Receives what send_handover() sent; the descriptors arrive close-on-exec. Errors: Io,
/// Timeout, InvalidPayload (not our header or format, names and descriptors disagree).
Result<HandoverMessage> receive_handover(int sock, std::chrono::milliseconds timeout);

/// New process: "ready\n" or "failed: <reason>\n". Errors: Io.
Status send_verdict(int sock, bool ready, const std::string& reason = {});

/// A started successor.
struct Successor {
  pid_t pid = -1;
  UniqueFd pidfd;    ///< pidfd_open of pid (its exit is seen by poll)
  UniqueFd channel;  ///< the old process's end of the socketpair
};

/// Starts `binary --config <config>` detached (setsid), with the default signal mask and
/// dispositions, the current environment plus L3AFD_HANDOVER_FD=3, fd 3 the other end of a new
/// socketpair and every other descriptor above 2 closed. No shell, no PATH search.
/// Errors: Io (naming the binary and errno).
Result<Successor> spawn_successor(const std::filesystem::path& binary,
                                  const std::filesystem::path& config);

/// Old process: waits until the successor says ready (ok), says failed or exits or closes the
/// channel (RestartFailed with its reason or exit status), or `timeout` passes (Timeout).
Status wait_ready(const Successor& s, std::chrono::milliseconds timeout);

/// Kills the successor (SIGKILL through its pidfd) and reaps it. Idempotent.
void kill_successor(Successor& s);

}  // namespace l3afd::daemon
