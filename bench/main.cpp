// l3afd_bench: starts the real l3afd binary in private namespaces and prints tables of REST
// add/delete latency (and, on a chained daemon, chain insert/remove/reorder latency), GET
// throughput and daemon RSS, then of the per-packet cost of an XDP
// tail-call chain and of our XDP programs (loaded directly with libbpf), next to a committed
// baseline, then of the time a supervised companion program takes to start and to be restarted
// after a crash (again against the real daemon), and what /metrics and the monitor sampler
// cost with 1,000 and 10,000 monitor_maps series (the real daemon again). Progress and
// errors go to stderr, the tables to stdout. See bench/README.md for what each number means.
// Exit status: 0 done, 1 a step failed (the reason is printed), 2 bad command line.
#include <sys/utsname.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "daemon.h"
#include "interfaces.h"
#include "measure.h"
#include "measure_chain.h"
#include "measure_programs.h"
#include "measure_stats.h"
#include "report.h"
#include "support/netns.h"

namespace l3afd::bench {
namespace {

/// Which sections run: 1-3 need the daemon, 4-5 (the chain) and 6 (our XDP programs) need only
/// the BPF objects, 7 (companion programs) and 9 (/metrics at scale) a daemon of their own.
/// ChainedApi runs only the rows of 1 and 3 that use a daemon with chaining on.
enum class Only { All, Daemon, Chain, ChainedApi, Programs, Companions, Stats, Metrics, Restart };

struct Options {
  std::filesystem::path daemon;
  std::filesystem::path repo;
  std::filesystem::path baseline;
  std::filesystem::path bpf_objects;  ///< default: <dirname of --daemon>/bpf/objects
  bool save_baseline = false;
  /// --rows-out: this run's rows in the baseline format, also for a partial (--only) run, to
  /// append to the baseline by hand without rewriting the other sections' rows.
  std::filesystem::path rows_out;
  Only only = Only::All;
  BenchSizes sizes;
  ChainSizes chain;
};

void usage() {
  std::fputs(
      "usage: l3afd_bench --daemon <build>/l3afd --repo <build>/repo [--baseline FILE]\n"
      "                   [--save-baseline] [--rows-out FILE]\n"
      "                   [--only all|daemon|chain|chained-api|programs|companions|stats|\n"
      "                           metrics|restart]\n"
      "                   [--bpf-objects DIR] [--cycles N] [--warmup N] [--chain-cycles N]\n"
      "                   [--get-requests N] [--get-reps N] [--rss-reps N]\n"
      "                   [--chain-rounds N] [--chain-sample-ms N]\n"
      "                   [--traffic-rounds N] [--traffic-ms N] [--companion-cycles N]\n"
      "                   [--metrics-rounds N] [--metrics-requests N] [--metrics-window-ms N]\n"
      "--only daemon runs sections 1-3, --only chain sections 4-5 (no daemon, --repo not\n"
      "needed), --only chained-api the chain_* rows of 1 and the *_chained rows of 3 (daemon\n"
      "with bpf-chaining-enabled: true), --only programs section 6 (no daemon, --repo not\n"
      "needed), --only companions section 7 (its own daemon), --only stats section 8 (no\n"
      "daemon), --only metrics section 9 (its own daemon), --only restart section 10 (its own\n"
      "chained daemon on 20 interfaces). --bpf-objects defaults to <dirname\n"
      "of --daemon>/bpf/objects. --rows-out\n"
      "writes this run's rows in the baseline format.\n"
      "Runs as root; everything happens in private network and mount namespaces.\n",
      stderr);
}

/// Parses a positive count no larger than `max`; false if `text` is not one.
bool parse_count(std::string_view text, int max, int& out) {
  const std::string s(text);
  char* end = nullptr;
  const long v = std::strtol(s.c_str(), &end, 10);
  if (end == s.c_str() || *end != '\0' || v < 0 || v > max) return false;
  out = static_cast<int>(v);
  return true;
}

bool parse_options(int argc, char** argv, Options& o) {
  for (int i = 1; i < argc; ++i) {
    const std::string_view a = argv[i];
    const bool has_value = i + 1 < argc;
    auto count = [&](int max, int& out) {
      if (!has_value || !parse_count(argv[++i], max, out)) {
        std::fprintf(stderr, "bench: %s needs a count from 0 to %d\n", argv[i - 1], max);
        return false;
      }
      return true;
    };
    if (a == "--daemon" && has_value)
      o.daemon = argv[++i];
    else if (a == "--repo" && has_value)
      o.repo = argv[++i];
    else if (a == "--baseline" && has_value)
      o.baseline = argv[++i];
    else if (a == "--bpf-objects" && has_value)
      o.bpf_objects = argv[++i];
    else if (a == "--save-baseline")
      o.save_baseline = true;
    else if (a == "--rows-out" && has_value)
      o.rows_out = argv[++i];
    else if (a == "--only" && has_value) {
      const std::string_view v = argv[++i];
      if (v == "all") {
        o.only = Only::All;
      } else if (v == "daemon") {
        o.only = Only::Daemon;
      } else if (v == "chain") {
        o.only = Only::Chain;
      } else if (v == "chained-api") {
        o.only = Only::ChainedApi;
      } else if (v == "programs") {
        o.only = Only::Programs;
      } else if (v == "companions") {
        o.only = Only::Companions;
      } else if (v == "stats") {
        o.only = Only::Stats;
      } else if (v == "metrics") {
        o.only = Only::Metrics;
      } else if (v == "restart") {
        o.only = Only::Restart;
      } else {
        std::fprintf(stderr,
                     "bench: --only takes all, daemon, chain, chained-api, programs, "
                     "companions, stats, metrics or restart, not %s\n",
                     argv[i]);
        return false;
      }
    } else if (a == "--cycles") {
      if (!count(2000, o.sizes.latency_cycles)) return false;
    } else if (a == "--warmup") {
      if (!count(100, o.sizes.latency_warmup)) return false;
    } else if (a == "--chain-cycles") {
      if (!count(1000, o.sizes.chain_cycles)) return false;
    } else if (a == "--get-requests") {
      if (!count(200000, o.sizes.get_requests)) return false;
    } else if (a == "--get-reps") {
      if (!count(20, o.sizes.get_reps)) return false;
    } else if (a == "--rss-reps") {
      if (!count(10, o.sizes.rss_reps)) return false;
    } else if (a == "--companion-cycles") {
      if (!count(500, o.sizes.companion_cycles)) return false;
    } else if (a == "--metrics-rounds") {
      if (!count(20, o.sizes.metrics_rounds)) return false;
    } else if (a == "--metrics-requests") {
      if (!count(1000, o.sizes.metrics_requests)) return false;
    } else if (a == "--metrics-window-ms") {
      if (!count(60000, o.sizes.metrics_window_ms)) return false;
    } else if (a == "--chain-rounds") {
      if (!count(50, o.chain.rounds)) return false;
    } else if (a == "--chain-sample-ms") {
      if (!count(5000, o.chain.sample_ms)) return false;
    } else if (a == "--traffic-rounds") {
      if (!count(50, o.chain.traffic_rounds)) return false;
    } else if (a == "--traffic-ms") {
      if (!count(10000, o.chain.traffic_ms)) return false;
    } else {
      std::fprintf(stderr, "bench: unknown or incomplete argument %s\n", argv[i]);
      return false;
    }
  }
  const bool objects_only =
      o.only == Only::Chain || o.only == Only::Programs || o.only == Only::Stats;
  if (!objects_only && (o.daemon.empty() || o.repo.empty())) {
    std::fputs("bench: --daemon and --repo are required\n", stderr);
    return false;
  }
  if (o.bpf_objects.empty()) {
    if (o.daemon.empty()) {
      std::fputs("bench: --only chain/programs/stats needs --daemon or --bpf-objects\n", stderr);
      return false;
    }
    o.bpf_objects = std::filesystem::absolute(o.daemon).parent_path() / "bpf" / "objects";
  }
  if (o.save_baseline && o.baseline.empty()) {
    std::fputs("bench: --save-baseline needs --baseline FILE\n", stderr);
    return false;
  }
  // A partial run would drop the other sections' rows from the baseline file.
  if (o.save_baseline && o.only != Only::All) {
    std::fputs("bench: --save-baseline needs a full run (no --only)\n", stderr);
    return false;
  }
  if (o.chain.rounds < 1 || o.chain.sample_ms < 1 || o.chain.traffic_rounds < 1 ||
      o.chain.traffic_ms < 1) {
    std::fputs(
        "bench: chain-rounds, chain-sample-ms, traffic-rounds, traffic-ms must be positive\n",
        stderr);
    return false;
  }
  if (o.sizes.latency_cycles < 1 || o.sizes.chain_cycles < 1 || o.sizes.get_requests < 4 ||
      o.sizes.get_reps < 1 || o.sizes.rss_reps < 1 || o.sizes.companion_cycles < 1 ||
      o.sizes.metrics_rounds < 1 || o.sizes.metrics_requests < 1 ||
      o.sizes.metrics_window_ms < 100) {
    std::fputs(
        "bench: cycles, chain-cycles, get-requests (>= 4), get-reps, rss-reps, "
        "companion-cycles, metrics-rounds and metrics-requests must be positive, "
        "metrics-window-ms at least 100\n",
        stderr);
    return false;
  }
  return true;
}

std::string machine_line() {
  utsname u{};
  ::uname(&u);
  char date[32] = {};
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  ::gmtime_r(&now, &tm);
  std::strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return std::string(date) + ", " + std::to_string(std::thread::hardware_concurrency()) +
         " cores, kernel " + u.release + ", host " + u.nodename;
}

std::string host_name() {
  char buf[256] = {};
  if (::gethostname(buf, sizeof buf - 1) != 0) return "localhost";
  return buf;
}

/// "v" + the version `binary --version` prints ("Version: 2.1.0"), "" if it cannot be read.
std::string daemon_version(const std::filesystem::path& binary) {
  auto r = testing::run_command({binary.string(), "--version"});
  const std::string key = "Version: ";
  const auto at = r.output.find(key);
  if (r.exit_code != 0 || at == std::string::npos) return {};
  const auto end = r.output.find('\n', at);
  return "v" + r.output.substr(at + key.size(), end == std::string::npos ? std::string::npos
                                                                         : end - at - key.size());
}

/// The environment of the daemon sections: this host, the --daemon binary and --repo
/// repository (absolute), daemons' work directories under `workspace`, on `ifaces`.
BenchEnv bench_env(const Options& o, const std::filesystem::path& workspace,
                   const Interfaces& ifaces) {
  BenchEnv env;
  env.host = host_name();
  env.daemon.binary = std::filesystem::absolute(o.daemon);
  env.daemon.repo_url = "file://" + std::filesystem::absolute(o.repo).lexically_normal().string();
  std::filesystem::path repo_dir = std::filesystem::absolute(o.repo).lexically_normal();
  if (!repo_dir.has_filename()) repo_dir = repo_dir.parent_path();  // "build/repo/"
  env.daemon.trusted_keys_dir = repo_dir.parent_path() / "trusted-keys";
  env.workspace = workspace;
  env.ifaces = &ifaces;
  return env;
}

/// Sections 1-3 against the real daemon: appends their three tables to `tables` (two, latency
/// and memory, with --only chained-api) and a line naming the daemon to `header`. The
/// non-chained rows use daemons with bpf-chaining-enabled: false, the chain_* and *_chained rows
/// separate daemon instances with it true, so neither mode's numbers depend on the other's
/// state. Returns "" or why a step failed (with the daemon's log tail when it was running).
std::string run_daemon_sections(const Options& o, const std::filesystem::path& workspace,
                                std::vector<Table>& tables, std::vector<std::string>& header) {
  std::string err;
  auto ifaces = Interfaces::create("bnch", 34, workspace, err);
  if (!ifaces) return err;
  BenchEnv env = bench_env(o, workspace, *ifaces);
  header.push_back("daemon " + env.daemon.binary.string() + ", repository " + env.daemon.repo_url);

  const bool plain = o.only != Only::ChainedApi;  // the non-chained rows run too
  const std::size_t first = tables.size();
  tables.resize(first + (plain ? 3 : 2));
  Table& latency = tables[first];
  Table& memory = tables[first + (plain ? 2 : 1)];
  latency.title =
      "1. REST latency (add/delete: non-chained, one XDP program; chain_*: chained daemon)";
  memory.title = "3. daemon RSS (VmRSS; *_chained: chained daemons)";
  std::vector<double> idle;
  if (plain) {
    Table& throughput = tables[first + 1];
    throughput.title = "2. GET throughput over loopback (keep-alive)";
    std::fputs("bench: starting l3afd for latency and throughput\n", stderr);
    auto d = start_daemon(env, err);
    if (!d) return err;
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    if (auto v = d->rss_mib()) idle.push_back(*v);
    std::fputs("bench: 1. add/delete latency\n", stderr);
    if (err = measure_add_delete(env, *d, ifaces->names()[0], o.sizes, latency); !err.empty()) {
      return err + "\ndaemon log:\n" + d->log_tail(15);
    }
    std::fputs("bench: 2. GET throughput\n", stderr);
    if (err = measure_get_throughput(env, *d, o.sizes, throughput); !err.empty()) {
      return err + "\ndaemon log:\n" + d->log_tail(15);
    }
    if (err = d->stop(); !err.empty()) return err;
  }
  {
    std::fputs("bench: starting l3afd with chaining for chain insert/remove/reorder\n", stderr);
    BenchEnv chained = env;
    chained.daemon.chaining = true;
    auto d = start_daemon(chained, err);
    if (!d) return err;
    std::fputs("bench: 1. chain insert/remove/reorder latency\n", stderr);
    if (err = measure_chain_api(chained, *d, ifaces->names()[0], o.sizes, latency); !err.empty()) {
      return err + "\ndaemon log:\n" + d->log_tail(15);
    }
    if (err = d->stop(); !err.empty()) return err;
  }
  std::fputs("bench: 3. memory\n", stderr);
  if (plain) {
    if (err = measure_memory(env, o.sizes, idle, memory); !err.empty()) return err;
  }
  return measure_chained_memory(env, o.sizes, memory);
}

/// Sections 4-5, the tail-call chain, with the objects of --bpf-objects: appends two tables.
std::string run_chain_sections(const Options& o, std::vector<Table>& tables,
                               std::vector<std::string>& header) {
  header.push_back("BPF objects " + o.bpf_objects.string());
  const std::size_t first = tables.size();
  tables.resize(first + 2);
  tables[first].title = "4. XDP chain per-packet cost (BPF_PROG_TEST_RUN, 64-byte UDP/IPv4)";
  tables[first + 1].title = "5. XDP chain under veth traffic (frames/s at the last program)";
  return measure_chain(o.bpf_objects, o.chain, tables[first], tables[first + 1]);
}

/// Section 6, our XDP programs, with the objects of --bpf-objects: appends one table.
std::string run_programs_section(const Options& o, std::vector<Table>& tables,
                                 std::vector<std::string>& header) {
  if (o.only == Only::Programs) header.push_back("BPF objects " + o.bpf_objects.string());
  tables.emplace_back();
  tables.back().title = "6. XDP programs, ns/packet (BPF_PROG_TEST_RUN)";
  std::fputs("bench: 6. XDP programs (BPF_PROG_TEST_RUN)\n", stderr);
  return measure_programs(o.bpf_objects, o.chain, tables.back());
}

/// Section 8, the cost of BPF run statistics, with bench_pass of --bpf-objects: one table.
std::string run_stats_section(const Options& o, std::vector<Table>& tables,
                              std::vector<std::string>& header) {
  if (o.only == Only::Stats) header.push_back("BPF objects " + o.bpf_objects.string());
  tables.emplace_back();
  tables.back().title = "8. BPF stats cost, ns/packet (BPF_PROG_TEST_RUN, stats off vs on)";
  std::fputs("bench: 8. BPF stats cost (BPF_PROG_TEST_RUN)\n", stderr);
  return measure_stats_cost(o.bpf_objects, o.chain, tables.back());
}

/// What a section with a daemon of its own measures (sections 7 and 9).
struct OwnDaemonSection {
  const char* iface_prefix;  ///< its veth pair: <prefix>0/<prefix>1
  Only only;                 ///< the --only value that runs it alone (then it prints the header)
  const char* title;
  const char* what;  ///< progress line after "bench: "
  std::string (*measure)(const BenchEnv&, Daemon&, const std::string&, const BenchSizes&, Table&);
};

/// Runs `section` on a daemon of its own (chaining off, the same config as the non-chained
/// rows) and one veth pair of its own: appends one table.
std::string run_own_daemon_section(const Options& o, const std::filesystem::path& workspace,
                                   const OwnDaemonSection& section, std::vector<Table>& tables,
                                   std::vector<std::string>& header) {
  std::string err;
  auto ifaces = Interfaces::create(section.iface_prefix, 2, workspace, err);
  if (!ifaces) return err;
  BenchEnv env = bench_env(o, workspace, *ifaces);
  if (o.only == section.only) {
    header.push_back("daemon " + env.daemon.binary.string() + ", repository " +
                     env.daemon.repo_url);
  }
  tables.emplace_back();
  tables.back().title = section.title;
  std::fprintf(stderr, "bench: starting l3afd for %s\n", section.what);
  auto d = start_daemon(env, err);
  if (!d) return err;
  if (err = section.measure(env, *d, ifaces->names()[0], o.sizes, tables.back()); !err.empty()) {
    return err + "\ndaemon log:\n" + d->log_tail(15);
  }
  return d->stop();
}

/// Section 7: companion start and restart latency (supervised test_companion).
const OwnDaemonSection kCompanionSection{
    "bcmp", Only::Companions,
    "7. companion programs (supervised test_companion; start and restart)", "companion programs",
    measure_companions};
/// Section 9: /metrics latency and size, monitor sampler CPU.
const OwnDaemonSection kMetricsSection{
    "bmet", Only::Metrics, "9. /metrics at scale (bench-monitor with N l3afd_BPFMonitorMap series)",
    "/metrics at scale", measure_metrics};

/// Section 10: graceful restart and adoption, on a chained daemon of its own with 100 programs
/// on 20 interfaces (measure_restart.cpp).
std::string run_restart_section(const Options& o, const std::filesystem::path& workspace,
                                std::vector<Table>& tables, std::vector<std::string>& header) {
  std::string err;
  auto ifaces = Interfaces::create("brst", 20, workspace, err);
  if (!ifaces) return err;
  BenchEnv env = bench_env(o, workspace, *ifaces);
  env.daemon.chaining = true;
  if (o.only == Only::Restart) {
    header.push_back("daemon " + env.daemon.binary.string() + ", repository " +
                     env.daemon.repo_url);
  }
  tables.emplace_back();
  tables.back().title =
      "10. graceful restart and adoption (100 chained programs on 20 interfaces, under traffic)";
  std::fprintf(stderr, "bench: starting l3afd for graceful restart and adoption\n");
  auto d = start_daemon(env, err);
  if (!d) return err;
  const std::string version = daemon_version(env.daemon.binary);
  if (version.empty()) return "cannot read the version of " + env.daemon.binary.string();
  if (err = measure_restart(env, *d, o.sizes, tables.back(), d->work_dir() / "bpffs", version);
      !err.empty()) {
    return err + "\ndaemon log:\n" + d->log_tail(15);
  }
  return d->stop();
}

/// The whole bench inside `workspace`; returns the process exit status.
int run(const Options& o, const std::filesystem::path& workspace) {
  const auto started = std::chrono::steady_clock::now();
  const std::string machine = machine_line();  // the start of the run
  auto fail = [](const std::string& what) {
    // After an interrupt, failures are consequences of the teardown: nothing to report.
    if (!interrupted()) std::fprintf(stderr, "bench: FAILED: %s\n", what.c_str());
    return 1;
  };
  std::vector<Table> tables;
  std::vector<std::string> header;
  std::string err;
  if (o.only == Only::All || o.only == Only::Daemon || o.only == Only::ChainedApi) {
    if (err = run_daemon_sections(o, workspace, tables, header); !err.empty()) return fail(err);
  }
  if (o.only == Only::All || o.only == Only::Chain) {
    if (err = run_chain_sections(o, tables, header); !err.empty()) return fail(err);
  }
  if (o.only == Only::All || o.only == Only::Programs) {
    if (err = run_programs_section(o, tables, header); !err.empty()) return fail(err);
  }
  if (o.only == Only::All || o.only == Only::Companions) {
    if (err = run_own_daemon_section(o, workspace, kCompanionSection, tables, header); !err.empty())
      return fail(err);
  }
  if (o.only == Only::All || o.only == Only::Stats) {
    if (err = run_stats_section(o, tables, header); !err.empty()) return fail(err);
  }
  if (o.only == Only::All || o.only == Only::Metrics) {
    if (err = run_own_daemon_section(o, workspace, kMetricsSection, tables, header); !err.empty())
      return fail(err);
  }

  if (o.only == Only::All || o.only == Only::Restart) {
    if (err = run_restart_section(o, workspace, tables, header); !err.empty()) return fail(err);
  }

  std::vector<std::string> warnings;
  const Baseline base = o.baseline.empty() ? Baseline{} : load_baseline(o.baseline, warnings);
  for (const auto& w : warnings) std::fprintf(stderr, "bench: baseline: %s\n", w.c_str());
  std::printf("l3afd bench: %s\n", machine.c_str());
  for (const auto& h : header) std::printf("%s\n", h.c_str());
  std::printf("baseline: %s\n", base.empty()
                                    ? "none (n/a)"
                                    : (o.baseline.string() + " (" + std::to_string(base.size()) +
                                       " metrics); ratio = current median / baseline median")
                                          .c_str());
  print_tables(tables, base);
  std::printf("\nbench run took %.0f s\n",
              std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
  if (!o.rows_out.empty()) {
    err = save_baseline(o.rows_out, tables,
                        {"l3afd bench rows, written by --rows-out", machine,
                         "compare only with runs on the same machine; see bench/README.md"});
    if (!err.empty()) return fail(err);
    std::printf("\nrows written to %s\n", o.rows_out.c_str());
  }
  if (o.save_baseline) {
    err =
        save_baseline(o.baseline, tables,
                      {"l3afd bench baseline, written by scripts/bench.sh --save-baseline", machine,
                       "compare only with runs on the same machine; see bench/README.md"});
    if (!err.empty()) return fail(err);
    std::printf("\nbaseline written to %s\n", o.baseline.c_str());
  }
  return 0;
}

}  // namespace
}  // namespace l3afd::bench

int main(int argc, char** argv) {
  using namespace l3afd::bench;
  Options o;
  if (!parse_options(argc, argv, o)) {
    usage();
    return 2;
  }
  if (::geteuid() != 0) {
    std::fputs("bench: needs root (network and mount namespaces, bpffs, XDP/TC)\n", stderr);
    return 1;
  }
  if (auto e = l3afd::testing::enter_private_namespaces(); !e.empty()) {
    std::fprintf(stderr, "bench: cannot enter private namespaces: %s\n", e.c_str());
    return 1;
  }
  install_signal_cleanup();
  std::string err;
  const auto workspace = make_workspace(err);
  if (workspace.empty()) {
    std::fprintf(stderr, "bench: %s\n", err.c_str());
    return 1;
  }
  const int rc = run(o, workspace);
  // The cleanup thread owns the teardown after an interrupt and ends the process itself.
  while (interrupted()) std::this_thread::sleep_for(std::chrono::seconds(1));
  if (auto e = remove_workspace(workspace); !e.empty()) {
    std::fprintf(stderr, "bench: cleanup: %s\n", e.c_str());
  }
  return rc;
}
