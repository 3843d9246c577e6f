// USDT probes (docs/tracing.md): statically defined tracepoints of the provider `l3afd`, over
// <sys/sdt.h> (Debian's systemtap-sdt-dev; CMake refuses to configure without it).
//
// A probe site compiles to one `nop` plus a note in the binary's .note.stapsdt section naming
// the probe and where each argument lives (a register, a stack slot or a constant). A tracer
// (bpftrace `usdt:`, perf, SystemTap) attaches a uprobe at the nop; with nothing attached the
// site costs the nop and keeping its arguments computed. There are no semaphores: the arguments
// are always evaluated, so keep them cheap (nothing that allocates per packet; per plan step or
// per command is fine).
//
// Contract for callers:
// * Only L3AFD_USDT(name, args...) places a probe. The provider is always `l3afd`; `name` is a
//   lower_snake_case identifier documented with its arguments in docs/tracing.md (the test
//   lint.usdt_probes compares the binary's notes with that document).
// * 1 to 6 arguments (more does not compile): integers (up to 64 bits; pass flags as int 0/1)
//   or `const char*`. Durations are nanoseconds as std::int64_t.
// * A `const char*` argument is NUL-terminated and alive until the L3AFD_USDT statement ends,
//   and points to memory the process has written (a std::string's c_str(), a stack buffer),
//   not to a string literal: the tracer reads user memory without faulting pages in, so a
//   read-only data page the process never touched reads as an empty string.
// * Thread-safe: a probe site has no state.
#pragma once

#include <sys/sdt.h>

/// Places the probe `l3afd:<name>` with 1 to 6 arguments (see the contract above).
#define L3AFD_USDT(name, ...)                                                                      \
  L3AFD_USDT_SELECT_(__VA_ARGS__, STAP_PROBE6, STAP_PROBE5, STAP_PROBE4, STAP_PROBE3, STAP_PROBE2, \
                     STAP_PROBE1)                                                                  \
  (l3afd, name, __VA_ARGS__)

// Picks STAP_PROBE<n> for n arguments. With 7 or more an argument lands where the macro name
// should be, and with none STAP_PROBE1 lacks its argument: both fail to compile.
#define L3AFD_USDT_SELECT_(a1, a2, a3, a4, a5, a6, probe, ...) probe
