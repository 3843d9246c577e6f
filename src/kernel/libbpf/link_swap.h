// Compare-and-swap of the program behind a BPF link (XDP, TCX), as the libbpf adapter's
// replace path uses it. Pure functions over fds; thread-safe (the kernel serialises updates
// of one link).
#pragma once

#include <cstdint>

#include "core/result.h"

namespace l3afd::kernel::libbpf {

/// Switches link `link_fd` to program `new_prog_fd` only if it still runs `expected_prog_fd`:
/// BPF_LINK_UPDATE with BPF_F_REPLACE, so the kernel compares and swaps atomically and a
/// program another tool put on the link is never silently overwritten.
/// Errors: Conflict when the link runs another program (the kernel answers EPERM), with a
/// message naming the link id, the program id found and the one expected; Kernel for any
/// other refusal (EINVAL: program type does not fit the link, ENOLINK: link detached).
Status swap_link_program(int link_fd, int new_prog_fd, int expected_prog_fd);

/// Kernel id of the program `prog_fd` refers to; 0 if it cannot be read.
uint32_t program_id_of(int prog_fd);

}  // namespace l3afd::kernel::libbpf
