// Running a companion command to its end with a deadline (issue 9): one-shot cmd_start,
// cmd_stop, cmd_status and cmd_update. The output (stdout and stderr, through a pipe) is
// appended to the program's capped log and its tail kept for error messages and for the status
// check. On the calling thread: poll(2) on the pidfd and the pipe until the deadline; past it,
// the process is SIGKILLed through its pidfd and reaped before Timeout is returned.
//
// Thread-safety: free function; safe from any thread (`log` is thread-safe).
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "core/result.h"
#include "supervisor/capped_log.h"
#include "supervisor/posix_runner.h"

namespace l3afd::supervisor {

struct CommandOutcome {
  Exit exit;
  std::string output;  ///< the last kOutputKept bytes of stdout and stderr
};

inline constexpr std::size_t kOutputKept = 8 * 1024;

/// Spawns `cmd` (options.output_pipe is forced) and waits up to `timeout` for it to end.
/// Errors: as spawn(); Timeout (killed and reaped; the message holds the last output lines);
/// Kernel (poll, waitid).
Result<CommandOutcome> run_to_end(const CommandLine& cmd, SpawnOptions options,
                                  std::chrono::milliseconds timeout, CappedLog* log);

/// The last `n` non-empty lines of `text`, joined with " | " (for one-line error messages).
std::string last_lines(std::string_view text, std::size_t n);

}  // namespace l3afd::supervisor
