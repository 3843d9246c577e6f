#include "kernel/libbpf/link_swap.h"

#include <bpf/bpf.h>
#include <linux/bpf.h>

#include <cerrno>
#include <string>

namespace l3afd::kernel::libbpf {

uint32_t program_id_of(int prog_fd) {
  bpf_prog_info info{};
  uint32_t len = sizeof(info);
  return bpf_obj_get_info_by_fd(prog_fd, &info, &len) == 0 ? info.id : 0;
}

Status swap_link_program(int link_fd, int new_prog_fd, int expected_prog_fd) {
  LIBBPF_OPTS(bpf_link_update_opts, opts, .flags = BPF_F_REPLACE,
              .old_prog_fd = static_cast<uint32_t>(expected_prog_fd));
  if (bpf_link_update(link_fd, new_prog_fd, &opts) == 0) return ok();
  const int err = errno;
  bpf_link_info info{};
  uint32_t len = sizeof(info);
  const bool have_info = bpf_obj_get_info_by_fd(link_fd, &info, &len) == 0;
  const std::string link = "link " + (have_info ? std::to_string(info.id) : std::string("?"));
  if (err == EPERM) {
    // The kernel's BPF_F_REPLACE mismatch answer (bpf_xdp_link_update, tcx_link_update).
    return fail(Errc::Conflict,
                link + " runs program " + (have_info ? std::to_string(info.prog_id) : "?") +
                    ", expected program " + std::to_string(program_id_of(expected_prog_fd)) +
                    ": changed by another tool");
  }
  return fail(Errc::Kernel, "update " + link, err);
}

}  // namespace l3afd::kernel::libbpf
