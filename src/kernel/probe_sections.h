// Probe programs by section name (docs/packages.md §1.4): the one classification both kernel
// adapters use for probe_sections(), load_probes() and adopt_probes(), so that the fake and the
// real kernel refuse the same objects with the same words. Pure functions; thread-safe.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "kernel/kernel.h"

namespace l3afd::kernel {

/// The kind of a probe section, from libbpf's section prefixes: `tracepoint/`, `tp/` ->
/// Tracepoint; `raw_tracepoint/`, `raw_tp/` (and their writable `.w` forms) -> RawTracepoint;
/// `tp_btf/` -> TpBtf; `uprobe/`, `uprobe.s/` -> Uprobe; `uretprobe/`, `uretprobe.s/` ->
/// Uretprobe; `kprobe/`, `ksyscall/`, `kprobe.multi/` -> Kprobe; `kretprobe/`, `kretsyscall/`,
/// `kretprobe.multi/` -> Kretprobe. The bare prefix (`SEC("uprobe")`) is a probe of that kind
/// too (which cannot be attached automatically). nullopt: not a probe (xdp, tc, iter/, ...).
std::optional<ProbeKind> probe_kind_of_section(std::string_view section);

/// True for kinds that need the kernel's kprobe support (kprobe, kretprobe).
bool needs_kprobes(ProbeKind kind) noexcept;

/// Empty if libbpf 1.1 can attach `section` by itself (bpf_program__attach()); otherwise why
/// not, in words naming the section and the expected form: a bare prefix, `tracepoint/<event>`
/// without a category, `uprobe/<binary>` without `:<function>`, a uretprobe with an offset.
std::string auto_attach_problem(ProbeKind kind, std::string_view section);

/// One program of an object: its C function name and its section name.
struct ObjectProgram {
  std::string function;
  std::string section;
};

/// Whether (and how it was found out) the kernel can attach kprobes.
struct KprobeSupport {
  bool supported = true;
  std::string evidence;  ///< e.g. "no kprobe PMU in /sys/bus/event_source/devices ..."
};

/// InvalidPayload with an ErrorItem whose field is "object_file" (so the API answers 400).
tl::unexpected<Error> invalid_object_file(std::string message);

/// The probe programs among `programs` (in their order), or InvalidPayload on "object_file"
/// when there is none, when one needs kprobes and `kprobes.supported` is false (naming the
/// section, saying the kernel has no kprobe support and how that was found out), or when one
/// cannot be attached automatically (auto_attach_problem()). `object_file` only names the file
/// in the messages.
Result<std::vector<ProbeSection>> classify_probe_programs(
    const std::filesystem::path& object_file, const std::vector<ObjectProgram>& programs,
    const KprobeSupport& kprobes);

/// Name of the link pin of a probe in its link directory: `<function>_<kind name>`.
std::string probe_link_pin_name(const ProbeSection& probe);

/// The (function, kind) a link pin name can stand for (probe_link_pin_name() reversed); more
/// than one when a function name ends like a kind (`f_raw` + `_tracepoint` vs `f` +
/// `_raw_tracepoint`), longest kind first. Empty: not a probe link pin name.
std::vector<std::pair<std::string, ProbeKind>> parse_probe_link_pin_name(std::string_view name);

}  // namespace l3afd::kernel
