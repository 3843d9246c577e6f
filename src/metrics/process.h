// process_* metrics of this process, as the Go Prometheus client's process collector exports
// them (docs/compatibility.md §13: "Ours SHOULD export process_*"): CPU seconds, resident and
// virtual memory, open and maximum file descriptors, start time. Read from /proc/self.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/result.h"
#include "metrics/exposition.h"

namespace l3afd::metrics {

struct ProcessStats {
  double cpu_seconds = 0;         ///< utime + stime
  double resident_bytes = 0;      ///< rss pages × page size
  double virtual_bytes = 0;       ///< vsize
  double virtual_max_bytes = -1;  ///< RLIMIT_AS soft limit; -1 = unlimited (as Go)
  double open_fds = 0;            ///< entries of /proc/self/fd
  double max_fds = 0;             ///< RLIMIT_NOFILE soft limit
  double start_time_seconds = 0;  ///< unix seconds
  bool operator==(const ProcessStats&) const = default;
};

/// The fields of a /proc/<pid>/stat line this collector uses (parsed after the last ')', so a
/// command name with spaces or parentheses cannot shift them). Errors: InvalidPayload.
struct StatFields {
  std::uint64_t utime_ticks = 0, stime_ticks = 0, start_ticks = 0, vsize = 0, rss_pages = 0;
};
Result<StatFields> parse_proc_stat(std::string_view line);

/// This process now. Errors: Io (a /proc file unreadable).
Result<ProcessStats> read_process_stats();

/// Adds the seven process_* families of `s` (names, HELP texts and types as the Go client's,
/// no labels).
void add_process(Exposition& out, const ProcessStats& s);

}  // namespace l3afd::metrics
