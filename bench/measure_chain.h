// §4/§5 of the bench: the per-packet cost of an XDP tail-call chain as l3afd builds it (xdp_root
// -> program 1 -> … -> program N, each tail-calling slot 0 of its own PROG_ARRAY). Loads the BPF
// objects itself with libbpf (no daemon involved); see bench/README.md for what every row means.
// Not thread-safe: call from the main thread, inside the bench's private namespaces (it creates
// a veth pair and a network namespace, and loads programs that it never pins).
#pragma once

#include <filesystem>
#include <string>

#include "report.h"

namespace l3afd::bench {

/// Sizes of the chain measurement; the defaults keep it at about 30-40 s on 2 cores.
struct ChainSizes {
  int rounds = 5;          ///< test-run rounds (every configuration once per round)
  int sample_ms = 200;     ///< target duration of one test-run sample; sets its repeat
  int traffic_rounds = 8;  ///< veth rounds (single, chain n4, chain n16 once per round)
  int traffic_ms = 600;    ///< sending time of one veth run
};

/// §4: BPF_PROG_TEST_RUN of a 64-byte UDP/IPv4 frame through the root with a chain of N = 1, 2,
/// 4, 8, 16 programs, the same work inlined N times in one program, and one program alone; rows
/// single_testrun, chain_testrun_nN, inline_testrun_nN, chain_overhead_nN (ns/pkt) and
/// chain_overhead_per_prog (ns) into `testrun`.
/// §5: the chain of 4 and of 16 programs vs the single program attached to the receiving end of
/// a veth pair, under UDP traffic from a packet socket in another namespace; rows single_pps,
/// chain_pps_nN (pps) and chain_pps_ratio_nN (x) into `traffic`.
/// `objects` holds xdp_root.bpf.o and bench_chain_work.bpf.o. Returns "" or why it failed (the
/// tables are then incomplete). Everything it created is gone when it returns, on any path.
std::string measure_chain(const std::filesystem::path& objects, const ChainSizes& sizes,
                          Table& testrun, Table& traffic);

}  // namespace l3afd::bench
