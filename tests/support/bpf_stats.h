// Test helpers around the machine-global BPF run-statistics switch: who holds it on, as far as
// a test can see. An fd from BPF_ENABLE_STATS is an anonymous inode named "bpf-stats"; the
// sysctl file shows only the sysctl's own setting, not those fds.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <system_error>

namespace l3afd::testing {

/// Number of BPF stats holds (fds linking to "anon_inode:bpf-stats") process `pid` has open.
inline int bpf_stats_fds(pid_t pid) {
  namespace fs = std::filesystem;
  int n = 0;
  std::error_code ec;
  for (const auto& fd : fs::directory_iterator("/proc/" + std::to_string(pid) + "/fd", ec)) {
    std::error_code lec;
    if (fs::read_symlink(fd.path(), lec).string() == "anon_inode:bpf-stats") ++n;
  }
  return n;
}

/// /proc/sys/kernel/bpf_stats_enabled reads 1.
inline bool bpf_stats_sysctl_on() {
  std::ifstream in("/proc/sys/kernel/bpf_stats_enabled");
  std::string v;
  return in && (in >> v) && v == "1";
}

/// True if statistics are on machine-wide as far as /proc shows: the sysctl, or any visible
/// process holding a stats fd (processes of other PID namespaces are not visible).
inline bool bpf_stats_on_anywhere() {
  if (bpf_stats_sysctl_on()) return true;
  std::error_code ec;
  for (const auto& p : std::filesystem::directory_iterator("/proc", ec)) {
    const std::string name = p.path().filename().string();
    if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) continue;
    if (bpf_stats_fds(static_cast<pid_t>(std::stol(name))) > 0) return true;
  }
  return false;
}

}  // namespace l3afd::testing
