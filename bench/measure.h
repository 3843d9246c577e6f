// The three measurements of the bench, each against a running real daemon. Every function
// returns "" on success or a one-line reason (a failed request names its status and body), in
// which case the rows it adds are incomplete and the caller stops the bench.
// Not thread-safe: call from the main thread (the throughput measurement starts and joins its
// own client threads).
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "daemon.h"
#include "interfaces.h"
#include "report.h"
#include "support/http_client.h"

namespace l3afd::bench {

/// Repetition counts; all bounded so that a run stays well under 10 minutes on 2 cores.
struct BenchSizes {
  int latency_warmup = 5;    ///< add/delete cycles run first and not recorded
  int latency_cycles = 200;  ///< recorded add/delete cycles
  int get_requests = 20000;  ///< requests per throughput run, split evenly over the clients
  int get_reps = 3;          ///< throughput runs per configuration
  int rss_reps = 3;          ///< fresh daemons per memory scenario
  int chain_cycles = 100;    ///< recorded insert/remove/reorder cycles on the chained daemon
  /// §7: unrecorded and recorded add/crash/delete cycles. Each takes about 1.6 s: the 500 ms
  /// restart backoff, then the wait for the deleted companion, which the daemon stops after its
  /// 1 s retire grace period.
  int companion_warmup = 2;
  int companion_cycles = 10;
  /// §9: rounds of the three series counts (0, 1000, 10000, rotated), GETs of /metrics per count
  /// and round, the CPU window without scrapes and the wait before it (the sampler ticks once a
  /// second). A round takes about 3 × (settle + window + 1 s).
  int metrics_rounds = 3;
  int metrics_requests = 10;
  int metrics_window_ms = 5000;
  int metrics_settle_ms = 3000;
  /// §10: graceful restarts (each under traffic) and SIGKILL + start cycles of the daemon with
  /// 100 chained programs on 20 interfaces.
  int restart_reps = 5;
  int adopt_reps = 3;
};

/// What every measurement needs: the host name the daemon expects, the daemon options (whose
/// work_dir is replaced per instance by a directory under `workspace`) and the interfaces.
struct BenchEnv {
  std::string host;
  DaemonOptions daemon;
  std::filesystem::path workspace;
  const Interfaces* ifaces = nullptr;
};

/// Starts a daemon with a fresh work directory under env.workspace.
std::unique_ptr<Daemon> start_daemon(const BenchEnv& env, std::string& error);

/// POSTs `body` to `target` on `conn` and checks for 200 (reconnecting first when the server
/// closed the previous exchange). Returns "" or the failure.
std::string post_ok(std::unique_ptr<test::HttpConnection>& conn, std::uint16_t port,
                    const std::string& target, const std::string& body);

/// §1: `warmup` + `cycles` add/delete cycles of xdp-counter on `iface`, each timed from the
/// request write to the 200; rows add_latency and delete_latency (with p90). The first recorded
/// add is checked to have really attached XDP (ip link shows it).
std::string measure_add_delete(const BenchEnv& env, Daemon& d, const std::string& iface,
                               const BenchSizes& sizes, Table& out);

/// §1, chained rows. Precondition: `d` runs with bpf-chaining-enabled: true and `iface` carries
/// no program. Deploys the base chain chain-a, chain-c, chain-e (seq 10, 30, 50) on xdp_ingress
/// of `iface`, then runs sizes.latency_warmup unrecorded + sizes.chain_cycles recorded cycles of
///   insert:  POST add chain-b seq 20 (timed), POST delete chain-b (untimed);
///   remove:  POST delete chain-c (timed), POST add chain-c seq 30 (untimed);
///   reorder: POST update a 60, c 30, e 50 (timed), POST update a 10, c 30, e 50 (timed);
/// each timed from the request write to the 200. Rows chain_insert_latency,
/// chain_remove_latency, chain_reorder_latency (two samples per cycle), with p90. The chain
/// order read back with GET is checked after every step of the first recorded cycle; XDP must
/// be attached (ip link). Leaves `iface` without programs.
std::string measure_chain_api(const BenchEnv& env, Daemon& d, const std::string& iface,
                              const BenchSizes& sizes, Table& out);

/// §2: requests per second of GET …/<iface> and GET … (all) with 1 and 4 keep-alive clients,
/// with programs on all three hooks of the first 4 interfaces; `get_reps` runs each.
std::string measure_get_throughput(const BenchEnv& env, Daemon& d, const BenchSizes& sizes,
                                   Table& out);

/// §3: VmRSS of fresh daemons: idle, with 60 programs on 20 interfaces and with 100 programs on
/// 34 interfaces (and again after deleting them), plus the time to deploy them. `idle_samples`
/// may already hold idle readings from other daemons; they are included in rss_idle.
std::string measure_memory(const BenchEnv& env, const BenchSizes& sizes,
                           std::vector<double> idle_samples, Table& out);

/// §3, chained rows: `sizes.rss_reps` fresh daemons with chaining on (env.daemon.chaining is
/// set here), each given chain-a … chain-e (seq 10 … 50) on xdp_ingress of each of the first
/// 20 interfaces, one POST add per interface (100 programs + 20 roots). Rows
/// rss_100prog_20if_chained, rss_100prog_20if_chained_deleted (after one POST delete per
/// interface and the daemon's retire grace period) and deploy_100prog_20if_chained. Idle
/// readings of these daemons are not added to rss_idle, which stays the non-chained daemon's.
std::string measure_chained_memory(const BenchEnv& env, const BenchSizes& sizes, Table& out);

/// §7: `sizes.companion_warmup` unrecorded + `sizes.companion_cycles` recorded cycles on
/// xdp_ingress of `iface` (no program there before or after) of
///   POST add test-companion with a supervised test_companion (start_args pid-file, sleep-ms -1);
///   SIGKILL of the companion (its pid from the pid file);
///   POST delete test-companion, then a wait (untimed) until that companion has exited (the
///   daemon stops it after its retire grace period; waiting keeps that release out of the next
///   cycle's add, since the engine runs due releases before the next command).
/// Rows: companion_add_latency (request write to 200), companion_start_latency (request write
/// to the pid file appearing), companion_restart_latency (SIGKILL to the restarted companion's
/// pid file), all with p90. The pid file is watched with inotify on its directory by a thread
/// blocked in poll(), which takes the time as soon as it wakes. The first recorded cycle checks
/// that the pid in the file is a live test_companion and that XDP is attached. The delete
/// between cycles gives every cycle a fresh restart count (first backoff 500 ms).
std::string measure_companions(const BenchEnv& env, Daemon& d, const std::string& iface,
                               const BenchSizes& sizes, Table& out);

/// §9: /metrics at scale. `sizes.metrics_rounds` rounds; each runs the series counts N = 0, 1000,
/// 10000 (the order rotated by the round) on xdp_ingress of `iface` (no program there before or
/// after): POST add bench-monitor with monitor_maps giving N series (monitor_add_payload), wait
/// (bounded, 30 s) until GET /metrics shows exactly N l3afd_BPFMonitorMap lines, wait
/// `metrics_settle_ms` more (sampler ticks), read the daemon's CPU time (utime + stime of
/// /proc/<pid>/stat) over `metrics_window_ms` without any request, then time
/// `metrics_requests` GET /metrics on one keep-alive connection (request write to the complete
/// body), each of which must have exactly N series lines, and POST delete. Rows per N:
/// metrics_get_latency_nN (ms, p90), metrics_body_bytes_nN, metrics_daemon_cpu_nN (CPU ms per
/// wall second); for N > 0 also sampler_cpu_nN (daemon CPU at N minus at 0 in the same round)
/// and sampler_us_per_series_nN (that / N, in CPU µs per series and second).
std::string measure_metrics(const BenchEnv& env, Daemon& d, const std::string& iface,
                            const BenchSizes& sizes, Table& out);

/// §10: graceful restart and adoption (measure_restart.cpp has the rows). Precondition: `d` runs
/// with bpf-chaining-enabled: true and no install layout; env.ifaces are veth pairs
/// (names[2k], names[2k+1]) without programs; `bpffs` is the daemon's BpfMapDefaultPath;
/// `version` the daemon's own (v + --version). Fails when a frame was lost or skipped.
std::string measure_restart(const BenchEnv& env, Daemon& d, const BenchSizes& sizes, Table& out,
                            const std::filesystem::path& bpffs, const std::string& version);

}  // namespace l3afd::bench
