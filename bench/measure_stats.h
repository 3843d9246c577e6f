// §8 of the bench: what the kernel's BPF run statistics cost a packet. The same small XDP
// program (bench_pass) under BPF_PROG_TEST_RUN with statistics off and on (the bench holds a
// bpf_enable_stats(BPF_STATS_RUN_TIME) fd only around the "on" samples); see bench/README.md.
// Not thread-safe: call from the main thread, inside the bench's private namespaces.
#pragma once

#include <filesystem>
#include <string>

#include "measure_chain.h"
#include "report.h"

namespace l3afd::bench {

/// Rows bpf_stats_off and bpf_stats_on (ns/pkt), bpf_stats_cost (ns/pkt, on - off of the same
/// round) and bpf_stats_ratio (x, on / off of the same round) into `out`: sizes.rounds rounds,
/// each one off and one on sample (order alternating), each a test run of at least 10^6
/// repeats calibrated to sizes.sample_ms. Every sample checks the program's run_cnt: on adds
/// exactly the repeat; off adds nothing unless statistics were on elsewhere (sysctl or another
/// process's fd, seen in /proc), which a note then reports. `objects` holds bench_pass.bpf.o.
/// Returns "" or why it failed. The stats fd is closed on every path.
std::string measure_stats_cost(const std::filesystem::path& objects, const ChainSizes& sizes,
                               Table& out);

}  // namespace l3afd::bench
