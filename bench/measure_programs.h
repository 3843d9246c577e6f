// §6 of the bench: the per-packet cost of our XDP programs under BPF_PROG_TEST_RUN, next to a
// program that only returns XDP_PASS. Loads the BPF objects itself with libbpf (no daemon, no
// pinning); see bench/README.md for what every row means.
// Not thread-safe: call from the main thread, inside the bench's private namespaces.
#pragma once

#include <filesystem>
#include <string>

#include "measure_chain.h"
#include "report.h"

namespace l3afd::bench {

/// Rows xdp_pass_only (bench_pass.bpf.o), rl_udp_pass, rl_syn_allowed and rl_syn_dropped
/// (ratelimiting.bpf.o), all ns/pkt, into `out`. Uses sizes.rounds rounds of one sample per row
/// (rotating order), each sample a test run whose repeat is calibrated to sizes.sample_ms.
/// Every sample checks the verdict and the rate limiter's counters, which proves that the
/// intended path ran. `objects` holds both objects. Returns "" or why it failed (the table is
/// then incomplete). Everything it loaded is released when it returns, on any path.
std::string measure_programs(const std::filesystem::path& objects, const ChainSizes& sizes,
                             Table& out);

}  // namespace l3afd::bench
