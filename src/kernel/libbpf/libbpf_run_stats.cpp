// program_run_stats() of LibbpfKernel: the kernel's run_cnt and run_time_ns of a key's programs
// (bpf_prog_info), under the adapter mutex, so the metrics thread may call
// it while the engine thread loads and unloads.
#include <bpf/bpf.h>
#include <linux/bpf.h>

#include <cerrno>

#include "core/unique_fd.h"
#include "kernel/libbpf/libbpf_kernel.h"

namespace l3afd::kernel::libbpf {
namespace {

/// Adds the run statistics of program `prog_fd` to `sum`. Errors: Kernel (info call).
Status add_stats(int prog_fd, RunStats& sum) {
  bpf_prog_info info{};
  uint32_t len = sizeof(info);
  if (bpf_obj_get_info_by_fd(prog_fd, &info, &len) != 0) {
    return fail(Errc::Kernel, "read program info", errno);
  }
  sum.run_count += info.run_cnt;
  sum.run_time_ns += info.run_time_ns;
  return ok();
}

/// Adds the statistics of the program behind link `link_id` (a probe link this key holds an
/// fd on, so the id cannot be reused meanwhile).
Status add_link_program(uint32_t link_id, RunStats& sum) {
  UniqueFd link(bpf_link_get_fd_by_id(link_id));
  if (!link) return fail(Errc::Kernel, "open link " + std::to_string(link_id), errno);
  bpf_link_info li{};
  uint32_t len = sizeof(li);
  if (bpf_obj_get_info_by_fd(link.get(), &li, &len) != 0) {
    return fail(Errc::Kernel, "read info of link " + std::to_string(link_id), errno);
  }
  UniqueFd prog(bpf_prog_get_fd_by_id(li.prog_id));
  if (!prog) return fail(Errc::Kernel, "open program " + std::to_string(li.prog_id), errno);
  return add_stats(prog.get(), sum);
}

}  // namespace

Result<RunStats> LibbpfKernel::program_run_stats(const std::string& key) {
  std::lock_guard lock(mutex_);
  const Entry* e = find(key);
  if (e == nullptr) return fail(Errc::NotFound, "key " + key + " is not loaded");
  RunStats sum;
  if (e->prog_fd >= 0) {
    // A data-path object (loaded or adopted): its entry program only.
    if (auto s = add_stats(e->prog_fd, sum); !s) return fail(std::move(s.error()));
    return sum;
  }
  // A probe key has no entry program; its programs are those of its links.
  for (uint32_t id : e->companion_link_ids) {
    if (auto s = add_link_program(id, sum); !s) return fail(std::move(s.error()));
  }
  return sum;
}

}  // namespace l3afd::kernel::libbpf
