// One BPF_PROG_TEST_RUN of an XDP program, timed by the calling thread's CPU clock: the shared
// measuring step of §4 (tail-call chain) and §8 (BPF stats cost). Thread-safe (no state).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>

namespace l3afd::bench {

/// CLOCK_THREAD_CPUTIME_ID in ns.
std::int64_t thread_cpu_ns();

struct TestRun {
  double ns_per_pkt = 0;        ///< CPU time of this thread in the syscall / repeat
  std::uint32_t kernel_ns = 0;  ///< the kernel's own figure (integer ns, rounded down)
};

/// Runs `frame` through XDP program `prog` `repeat` times. The thread's CPU time (not wall
/// time) is used: the kernel loop yields when another task needs the CPU, and on a shared
/// 2-core machine wall time would then count the other task's time too. The kernel's own
/// duration is also kept, but it has a resolution of 1 ns per packet. nullopt (and `error`)
/// when the run fails or the verdict is not XDP_PASS.
std::optional<TestRun> xdp_test_run(int prog, std::span<const std::uint8_t> frame,
                                    std::uint32_t repeat, std::string& error);

}  // namespace l3afd::bench
