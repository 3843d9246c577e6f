// A cgroup v2 group per companion (issue 9), for what rlimits cannot hold: memory.max (payload
// `memory`, bytes; RLIMIT_AS stays too, as in the reference) and pids.max (a safety cap). The
// payload's `cpu` is RLIMIT_CPU seconds in the reference, which the runner sets; it is not
// mapped to cpu.max. Groups live under one root (default /sys/fs/cgroup/l3afd), named from the
// companion id so that no id can escape the root. When cgroup v2 is not mounted there, the root
// cannot be created, or the memory controller cannot be enabled for its children, groups are not
// used (available() is false) and companions run with rlimits only.
//
// Thread-safety: after probe(), the object is read-only; prepare() and remove() touch only the
// file system and may be called from any thread.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "core/result.h"

namespace l3afd::supervisor {

inline constexpr const char* kDefaultCgroupRoot = "/sys/fs/cgroup/l3afd";

struct CgroupLimits {
  std::optional<std::uint64_t> memory_max;  ///< memory.max, bytes
  std::optional<std::uint64_t> pids_max;    ///< pids.max (when the pids controller is there)
};

class Cgroups {
 public:
  struct Options {
    std::filesystem::path root = kDefaultCgroupRoot;  ///< empty: never use cgroups
    /// Tests point `root` at a plain directory and clear this to exercise the file writes.
    bool require_cgroup2_fs = true;
  };

  /// Creates the root (0755) when missing and enables the memory (and pids) controller for its
  /// children. Never fails: an unusable root leaves available() false, with reason() saying why
  /// (logged once here).
  static Cgroups probe(const Options& options);

  bool available() const { return available_; }
  const std::string& reason() const { return reason_; }
  const std::filesystem::path& root() const { return root_; }

  /// The directory name of `id`'s group: characters outside [A-Za-z0-9._-] become '_', plus a
  /// hash of the whole id (so "a/b" and "a_b" differ); never "." or "..", never holds '/'.
  static std::string group_name(std::string_view id);

  /// Creates (or reuses) the group of `id` and writes its limits (an unset limit is "max").
  /// Errors: Io; Unavailable when !available().
  Result<std::filesystem::path> prepare(std::string_view id, const CgroupLimits& limits) const;

  /// Removes the group of `id`; a group that still holds a process (EBUSY) is left in place.
  void remove(std::string_view id) const;

 private:
  std::filesystem::path root_;
  bool available_ = false;
  bool pids_ = false;
  std::string reason_;
};

}  // namespace l3afd::supervisor
