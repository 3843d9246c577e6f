// The kernel's switch for BPF run-time statistics, as libbpf exposes it.
#pragma once

#include "core/result.h"
#include "core/unique_fd.h"

namespace l3afd::kernel::libbpf {

/// bpf_enable_stats(BPF_STATS_RUN_TIME): while the returned fd is open, the kernel counts
/// run_cnt and run_time_ns of every BPF program on the machine (two clock reads per run).
/// Holders are counted: stats stay on while any process holds such an fd or sysctl
/// kernel.bpf_stats_enabled is 1. Closing the fd (also by the process dying) gives the hold
/// back. Thread-safe (one syscall, no adapter state). Errors: Kernel with errno (EPERM without
/// CAP_SYS_ADMIN, EINVAL on a kernel without BPF_ENABLE_STATS).
Result<UniqueFd> open_run_time_stats();

}  // namespace l3afd::kernel::libbpf
