// Internal to the libbpf adapter: companion programs of an object (libbpf_companions.cpp).
#pragma once

#include <filesystem>
#include <string_view>

#include "core/result.h"
#include "kernel/libbpf/libbpf_kernel.h"

namespace l3afd::kernel::libbpf {

/// Sections of programs attached automatically at load (tracepoint family).
bool is_companion_section(std::string_view sec);
/// Sections of iterator programs, run by run_iterators().
bool is_iterator_section(std::string_view sec);
/// Attaches every companion program of a just-loaded entry and pins its link in
/// spec.companion_link_dir (if set); records links, ids and pins (pins also in pins_created).
/// The links are owned by Entry::companion_links: releasing them closes our fds only, a pinned
/// link stays attached until its pin is removed (K10), which discard()/unload() decide.
Status attach_companions(LibbpfKernel::Entry& e);
/// Takes over the `*_tp` link pins in `dir` for an adopted entry (fds owned, pins recorded).
void adopt_companions(LibbpfKernel::Entry& e, const std::filesystem::path& dir);

}  // namespace l3afd::kernel::libbpf
