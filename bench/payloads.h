// JSON request bodies for the L3AF API (docs/compatibility.md §3–§4) deploying the packages of the
// local repository (bpf/README.md): xdp-counter on xdp_ingress, tc-counter on the TC hooks, and
// the chain test packages chain-a … chain-f on xdp_ingress (for a daemon with chaining on), and
// test-companion (xdp_counter with a supervised test_companion process) on xdp_ingress, and
// bench-monitor (an XDP pass program with large counter arrays) with many monitor_maps keys.
// Pure functions; thread-safe.
#pragma once

#include <string>
#include <vector>

namespace l3afd::bench {

enum class Hook { XdpIngress, TcIngress, TcEgress };

/// The hooks of one interface that a request touches.
struct IfaceHooks {
  std::string iface;
  std::vector<Hook> hooks;
};

/// POST …/add body: one entry per element of `entries`, one enabled program (seq_id 1,
/// version latest, loaded by the daemon from its object file) per listed hook.
std::string add_payload(const std::string& host, const std::vector<IfaceHooks>& entries);

/// POST …/delete body naming the program of every listed hook.
std::string delete_payload(const std::string& host, const std::vector<IfaceHooks>& entries);

/// One program of an XDP chain: package chain-<letter> ('a' … 'f', version 1.0) at `seq_id`
/// (>= 1, unique per interface; the chain runs in ascending seq_id).
struct ChainLink {
  char letter;
  int seq_id;
};

/// Body for POST …/add or …/update with one entry for `iface` whose xdp_ingress lists `links`
/// (in the given order; the daemon orders them by seq_id). Every program is enabled, has
/// map_name chain_next (so it may sit anywhere in the chain) and is loaded from
/// xdp_chain_counter.bpf.o. With /update the listed programs become exactly the chain.
std::string chain_payload(const std::string& host, const std::string& iface,
                          const std::vector<ChainLink>& links);

/// POST …/delete body naming chain-<letter> for each of `letters` on xdp_ingress of `iface`.
std::string chain_delete_payload(const std::string& host, const std::string& iface,
                                 const std::string& letters);

/// POST …/add body for one program of the test-companion package (version 1.0: xdp_counter on
/// xdp_ingress of `iface`) with a supervised companion: cmd_start test_companion,
/// user_program_daemon true, start_args {"pid-file": pid_file, "sleep-ms": "-1"}, so the
/// companion writes its pid to `pid_file` first and then runs until a signal ends it.
std::string companion_add_payload(const std::string& host, const std::string& iface,
                                  const std::string& pid_file);

/// POST …/delete body naming test-companion on xdp_ingress of `iface`.
std::string companion_delete_payload(const std::string& host, const std::string& iface);

/// Series per monitor_maps entry of monitor_add_payload (the daemon allows at most 256 keys per
/// entry).
inline constexpr int kMonitorKeysPerEntry = 250;

/// POST …/add body for one program of the bench-monitor package (version 1.0: bench_monitor on
/// xdp_ingress of `iface`) whose monitor_maps give exactly `series` (0 … 10240)
/// l3afd_BPFMonitorMap series: entry i covers keys [250 i, min(250 (i + 1), series) - 1] with
/// key_end, of bench_counters (even i, ARRAY) or bench_percpu_counters (odd i, PERCPU_ARRAY),
/// aggregator scalar, max-rate, avg by i mod 3. With `series` 0 the program has no monitor_maps.
std::string monitor_add_payload(const std::string& host, const std::string& iface, int series);

/// POST …/delete body naming bench-monitor on xdp_ingress of `iface`.
std::string monitor_delete_payload(const std::string& host, const std::string& iface);

/// JSON string literal (quotes included) for `s`.
std::string json_string(const std::string& s);

}  // namespace l3afd::bench
