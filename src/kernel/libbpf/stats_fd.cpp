#include "kernel/libbpf/stats_fd.h"

#include <bpf/bpf.h>
#include <linux/bpf.h>

#include <cerrno>

namespace l3afd::kernel::libbpf {

Result<UniqueFd> open_run_time_stats() {
  const int fd = bpf_enable_stats(BPF_STATS_RUN_TIME);
  if (fd < 0) return fail(Errc::Kernel, "enable BPF run-time statistics (BPF_ENABLE_STATS)", errno);
  return UniqueFd(fd);
}

}  // namespace l3afd::kernel::libbpf
