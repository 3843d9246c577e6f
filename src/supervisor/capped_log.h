// A companion's log file with a size cap (issue 9): output is appended to `<path>`; before an
// append would take the file over the cap, `<path>` is renamed to `<path>.1` (replacing the
// older one) and a new file is started. So at most about twice the cap is kept per program.
//
// Thread-safety: append() may be called from any thread (a mutex serialises it); the watcher
// thread writes a daemon companion's output and the engine thread the output of its commands
// to the same CappedLog, which is why one object per path is shared (std::shared_ptr).
#pragma once

#include <cstdint>
#include <filesystem>
#include <mutex>
#include <string_view>

#include "core/result.h"
#include "core/unique_fd.h"

namespace l3afd::supervisor {

inline constexpr std::uint64_t kDefaultLogCap = 10ull << 20;

class CappedLog {
 public:
  CappedLog(std::filesystem::path path, std::uint64_t cap) : path_(std::move(path)), cap_(cap) {}

  /// Appends `data` (opened on first use, 0640, created when missing). A single append larger
  /// than the cap is written whole into a fresh file. Errors: Io.
  Status append(std::string_view data);

  const std::filesystem::path& path() const { return path_; }

 private:
  Status open_locked();

  const std::filesystem::path path_;
  const std::uint64_t cap_;
  std::mutex mu_;
  UniqueFd fd_;
  std::uint64_t size_ = 0;
};

}  // namespace l3afd::supervisor
