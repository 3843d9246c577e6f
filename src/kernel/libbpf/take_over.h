// Internal to the libbpf adapter: taking over a program instance that is already in the kernel
// (by an fd on its program) instead of loading it. Shared by adopt() (libbpf_adopt.cpp: the pins
// a previous run left) and take_self_loaded() (libbpf_self_loaded.cpp: a program a package
// binary loaded itself).
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

#include "core/result.h"
#include "core/unique_fd.h"
#include "kernel/libbpf/libbpf_kernel.h"

namespace l3afd::kernel::libbpf {

struct TakeOver {
  std::string what;                       ///< the program, for messages (e.g. its pin path)
  uint32_t want_type = 0;                 ///< kernel enum bpf_prog_type the program must have
  std::string want_name;                  ///< its function name (truncated as the kernel does);
                                          ///< empty: not checked
  std::filesystem::path map_pin_dir;      ///< maps pinned here that the program uses are taken
  std::string private_map;                ///< the next array's name ("" = none) ...
  std::filesystem::path private_map_pin;  ///< ... and its pin
};

/// The kernel enum bpf_prog_type a program on `hook` has (XDP or SCHED_CLS).
uint32_t prog_type_of(model::Hook hook);

/// Takes over the program `prog` into `e`: checks its type (and name), then opens every map
/// pinned in t.map_pin_dir that the program uses and the next array at t.private_map_pin (it
/// must be a PROG_ARRAY the program uses), records them in e.maps / e.loaded.maps (with their
/// pins) and sets e.loaded.prog_id and e.prog_fd; e owns every fd. Changes nothing in the
/// kernel or bpffs. Errors: Conflict (type or name, next array not the program's), NotFound
/// (map directory unreadable, next array not pinned), Kernel (program info).
Status take_over_program(LibbpfKernel::Entry& e, UniqueFd prog, const TakeOver& t);

}  // namespace l3afd::kernel::libbpf
