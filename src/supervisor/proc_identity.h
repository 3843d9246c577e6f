// Which process a pid names (issue 9): a pid is recycled, a pid with its start time (field 22
// of /proc/<pid>/stat, clock ticks since boot) names one process for ever. Used to adopt or stop
// a companion recorded by a previous run of the daemon without ever touching a process that
// merely reuses its pid. Its credentials (proc_credentials) tell whether it runs as the user
// and group a program's companion settings ask for.
//
// Thread-safety: free functions without state; safe from any thread.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string_view>

#include "core/result.h"
#include "core/unique_fd.h"

namespace l3afd::supervisor {

/// What /proc/<pid>/stat says about a process that matters here.
struct ProcStat {
  char state = '?';              ///< field 3: R, S, D, Z, ...
  std::uint64_t start_time = 0;  ///< field 22
  bool operator==(const ProcStat&) const = default;
};

/// Parses the text of /proc/<pid>/stat. The command name (field 2) may hold spaces and
/// parentheses, so the fields are counted after the last ')'. nullopt when malformed.
std::optional<ProcStat> parse_proc_stat(std::string_view text);

/// Reads /proc/<pid>/stat. Errors: NotFound (no such process), Io (unreadable or malformed).
Result<ProcStat> proc_stat(pid_t pid);

/// The real path of the program the process runs (/proc/<pid>/exe). Errors: NotFound, Io.
Result<std::filesystem::path> proc_executable(pid_t pid);

/// Real and effective user and group of a process (the Uid: and Gid: lines of
/// /proc/<pid>/status: real, effective, saved, filesystem).
struct ProcCredentials {
  uid_t uid = 0;
  uid_t euid = 0;
  gid_t gid = 0;
  gid_t egid = 0;
  bool operator==(const ProcCredentials&) const = default;
};

/// Parses the text of /proc/<pid>/status. nullopt when its Uid: or Gid: line is missing or
/// malformed.
std::optional<ProcCredentials> parse_proc_status(std::string_view text);

/// Reads /proc/<pid>/status. Errors: NotFound (no such process), Io (unreadable or malformed).
Result<ProcCredentials> proc_credentials(pid_t pid);

/// A pidfd for `pid` if it is still the process that started at `start_time` and not a zombie.
/// The start time is read again after pidfd_open, so a pid recycled between the first check and
/// the open is never taken for it. Errors: NotFound (gone, a zombie or another process), Kernel.
Result<UniqueFd> open_if_same(pid_t pid, std::uint64_t start_time);

}  // namespace l3afd::supervisor
