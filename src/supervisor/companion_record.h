// The record of companion processes this daemon started (issue 9), kept across daemon restarts
// so that the next run adopts them (same pid, same start time, same executable) or stops them
// (stop_unclaimed) — and never touches a process it cannot prove it started. A text file, one
// process per line:
//
//   # l3afd companions v1
//   <pid> TAB <start_time> TAB running|stopping TAB <id> TAB <executable>
//
// with '%', TAB, CR, LF and other control characters of id and executable written as %XX.
// Written atomically (temporary file, fsync, rename, fsync of the directory), mode 0600.
//
// Thread-safety: free functions; callers serialise writes of one file.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace l3afd::supervisor {

struct CompanionRecord {
  std::string id;
  int pid = 0;
  std::uint64_t start_time = 0;
  std::filesystem::path executable;  ///< real path
  bool stopping = false;             ///< a stop was in progress: never adopted, only stopped
  bool operator==(const CompanionRecord&) const = default;
};

std::string encode_records(const std::vector<CompanionRecord>& records);
/// Errors: InvalidPayload (not a record file, or a malformed line).
Result<std::vector<CompanionRecord>> decode_records(std::string_view text);

/// A missing file is an empty record. Errors: Io, InvalidPayload.
Result<std::vector<CompanionRecord>> load_records(const std::filesystem::path& file);
/// Replaces the file atomically and durably. Errors: Io.
Status save_records(const std::filesystem::path& file, const std::vector<CompanionRecord>& records);

}  // namespace l3afd::supervisor
