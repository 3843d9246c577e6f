// l3afd_bench: starts the real l3afd binary in private namespaces and prints tables of REST
// add/delete latency, GET throughput and daemon RSS next to a committed baseline. Progress and
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
#include "report.h"
#include "support/netns.h"

namespace l3afd::bench {
namespace {

struct Options {
  std::filesystem::path daemon;
  std::filesystem::path repo;
  std::filesystem::path baseline;
  bool save_baseline = false;
  BenchSizes sizes;
};

void usage() {
  std::fputs(
      "usage: l3afd_bench --daemon <build>/l3afd --repo <build>/repo [--baseline FILE]\n"
      "                   [--save-baseline] [--cycles N] [--warmup N] [--get-requests N]\n"
      "                   [--get-reps N] [--rss-reps N]\n"
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
    else if (a == "--save-baseline")
      o.save_baseline = true;
    else if (a == "--cycles") {
      if (!count(2000, o.sizes.latency_cycles)) return false;
    } else if (a == "--warmup") {
      if (!count(100, o.sizes.latency_warmup)) return false;
    } else if (a == "--get-requests") {
      if (!count(200000, o.sizes.get_requests)) return false;
    } else if (a == "--get-reps") {
      if (!count(20, o.sizes.get_reps)) return false;
    } else if (a == "--rss-reps") {
      if (!count(10, o.sizes.rss_reps)) return false;
    } else {
      std::fprintf(stderr, "bench: unknown or incomplete argument %s\n", argv[i]);
      return false;
    }
  }
  if (o.daemon.empty() || o.repo.empty()) {
    std::fputs("bench: --daemon and --repo are required\n", stderr);
    return false;
  }
  if (o.save_baseline && o.baseline.empty()) {
    std::fputs("bench: --save-baseline needs --baseline FILE\n", stderr);
    return false;
  }
  if (o.sizes.latency_cycles < 1 || o.sizes.get_requests < 4 || o.sizes.get_reps < 1 ||
      o.sizes.rss_reps < 1) {
    std::fputs("bench: cycles, get-requests (>= 4), get-reps and rss-reps must be positive\n",
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

/// The whole bench inside `workspace`; returns the process exit status.
int run(const Options& o, const std::filesystem::path& workspace) {
  const auto started = std::chrono::steady_clock::now();
  const std::string machine = machine_line();  // the start of the run
  std::string err;
  auto ifaces = Interfaces::create("bnch", 34, workspace, err);
  if (!ifaces) {
    std::fprintf(stderr, "bench: FAILED: %s\n", err.c_str());
    return 1;
  }
  BenchEnv env;
  env.host = host_name();
  env.daemon.binary = std::filesystem::absolute(o.daemon);
  env.daemon.repo_url = "file://" + std::filesystem::absolute(o.repo).lexically_normal().string();
  env.workspace = workspace;
  env.ifaces = ifaces.get();

  auto fail = [](const std::string& what) {
    // After an interrupt, failures are consequences of the teardown: nothing to report.
    if (!interrupted()) std::fprintf(stderr, "bench: FAILED: %s\n", what.c_str());
    return 1;
  };
  std::vector<Table> tables(3);
  tables[0].title = "1. REST add -> attached / delete latency (non-chained, one XDP program)";
  tables[1].title = "2. GET throughput over loopback (keep-alive)";
  tables[2].title = "3. daemon RSS (VmRSS)";
  std::vector<double> idle;
  {
    std::fputs("bench: starting l3afd for latency and throughput\n", stderr);
    auto d = start_daemon(env, err);
    if (!d) return fail(err);
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    if (auto v = d->rss_mib()) idle.push_back(*v);
    std::fputs("bench: 1. add/delete latency\n", stderr);
    if (err = measure_add_delete(env, *d, ifaces->names()[0], o.sizes, tables[0]); !err.empty()) {
      return fail(err + "\ndaemon log:\n" + d->log_tail(15));
    }
    std::fputs("bench: 2. GET throughput\n", stderr);
    if (err = measure_get_throughput(env, *d, o.sizes, tables[1]); !err.empty()) {
      return fail(err + "\ndaemon log:\n" + d->log_tail(15));
    }
    if (err = d->stop(); !err.empty()) return fail(err);
  }
  std::fputs("bench: 3. memory\n", stderr);
  if (err = measure_memory(env, o.sizes, idle, tables[2]); !err.empty()) return fail(err);

  std::vector<std::string> warnings;
  const Baseline base = o.baseline.empty() ? Baseline{} : load_baseline(o.baseline, warnings);
  for (const auto& w : warnings) std::fprintf(stderr, "bench: baseline: %s\n", w.c_str());
  std::printf("l3afd bench: %s\n", machine.c_str());
  std::printf("daemon %s, repository %s\n", env.daemon.binary.c_str(), env.daemon.repo_url.c_str());
  std::printf("baseline: %s\n", base.empty()
                                    ? "none (n/a)"
                                    : (o.baseline.string() + " (" + std::to_string(base.size()) +
                                       " metrics); ratio = current median / baseline median")
                                          .c_str());
  print_tables(tables, base);
  std::printf("\nbench run took %.0f s\n",
              std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
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
