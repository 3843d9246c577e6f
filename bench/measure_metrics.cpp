// §9: /metrics at scale. One bench-monitor program on the real daemon with monitor_maps giving
// N = 0, 1000 and 10000 l3afd_BPFMonitorMap series (key ranges through the key_end extension):
// the latency and size of GET /metrics, and the daemon's CPU time while nobody scrapes, which at
// N > 0 minus at N = 0 is the cost of the 1 s monitor sampler (src/api/monitor_sampler.cpp).
#include <chrono>
#include <cstdio>
#include <string_view>
#include <thread>

#include "measure.h"
#include "payloads.h"
#include "support/netns.h"

namespace l3afd::bench {

namespace {
using Clock = std::chrono::steady_clock;

constexpr int kSeriesCounts[] = {0, 1000, 10000};
constexpr std::size_t kCounts = std::size(kSeriesCounts);
constexpr std::chrono::seconds kSeriesWait{30};

/// l3afd_BPFMonitorMap series lines of a /metrics body (HELP and TYPE lines not counted).
std::size_t monitor_lines(std::string_view body) {
  static constexpr std::string_view kPrefix = "l3afd_BPFMonitorMap{";
  std::size_t n = 0;
  for (std::size_t pos = 0; pos < body.size();) {
    const std::size_t eol = body.find('\n', pos);
    const std::string_view line =
        body.substr(pos, eol == std::string_view::npos ? std::string_view::npos : eol - pos);
    if (line.starts_with(kPrefix)) ++n;
    if (eol == std::string_view::npos) break;
    pos = eol + 1;
  }
  return n;
}

/// GET /metrics on `conn` (reconnected first when the server closed the previous exchange).
/// Returns "" and the body, or why the request failed.
std::string get_metrics(std::unique_ptr<test::HttpConnection>& conn, std::uint16_t port,
                        test::HttpResult& r) {
  if (!conn) {
    conn = std::make_unique<test::HttpConnection>("127.0.0.1", port);
    if (!conn->connect_error().empty()) {
      const std::string e = conn->connect_error();
      conn.reset();
      return "connect to the metrics port " + std::to_string(port) + ": " + e;
    }
  }
  r = conn->request("GET", "/metrics");
  if (!r.keep_alive || r.status == 0) conn.reset();
  if (r.status != 200) {
    return "GET /metrics: " +
           (r.status == 0 ? r.error : "status " + std::to_string(r.status) + ": " + r.body);
  }
  return {};
}

std::string wrong_count(int want, std::size_t got, const char* when) {
  return "GET /metrics " + std::string(when) + " has " + std::to_string(got) +
         " l3afd_BPFMonitorMap lines, expected " + std::to_string(want) +
         " (the monitor_maps of bench-monitor give exactly that many series)";
}

std::string suffix(int n) {
  return "_n" + std::to_string(n);
}

}  // namespace

std::string measure_metrics(const BenchEnv& env, Daemon& d, const std::string& iface,
                            const BenchSizes& sizes, Table& out) {
  const std::uint16_t api = d.api_port();
  const std::uint16_t port = d.metrics_port();
  std::unique_ptr<test::HttpConnection> api_conn;
  std::unique_ptr<test::HttpConnection> conn;
  const std::string del = monitor_delete_payload(env.host, iface);

  std::vector<double> latency[kCounts], bytes[kCounts], cpu[kCounts];
  std::vector<double> sampler[kCounts], per_series[kCounts];
  for (int round = 0; round < sizes.metrics_rounds; ++round) {
    double cpu_this_round[kCounts] = {};
    for (std::size_t step = 0; step < kCounts; ++step) {
      const std::size_t c = (step + static_cast<std::size_t>(round)) % kCounts;
      const int n = kSeriesCounts[c];
      if (auto e = post_ok(api_conn, api, "/l3af/configs/v1/add",
                           monitor_add_payload(env.host, iface, n));
          !e.empty()) {
        return e;
      }
      if (round == 0 && step == 0) {
        auto link = testing::run_command({"ip", "link", "show", "dev", iface});
        if (link.output.find(" xdp") == std::string::npos) {
          return "bench-monitor add answered 200 but ip link shows no XDP program on " + iface +
                 ": " + link.output;
        }
      }
      // The sampler publishes the new program's series at its next tick, and drops those of
      // the program deleted before: wait (bounded) until /metrics shows exactly N of them.
      const auto deadline = Clock::now() + kSeriesWait;
      for (;;) {
        test::HttpResult r;
        if (auto e = get_metrics(conn, port, r); !e.empty()) return e;
        const std::size_t got = monitor_lines(r.body);
        if (got == static_cast<std::size_t>(n)) break;
        if (Clock::now() >= deadline) {
          return wrong_count(n, got, ("30 s after the add of N = " + std::to_string(n)).c_str());
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(sizes.metrics_settle_ms));

      // The daemon's CPU over a window without requests: the sampler's ticks, the health
      // check and whatever else runs while the daemon is idle.
      const auto c0 = d.cpu_seconds();
      const auto t0 = Clock::now();
      std::this_thread::sleep_for(std::chrono::milliseconds(sizes.metrics_window_ms));
      const auto c1 = d.cpu_seconds();
      const double wall = std::chrono::duration<double>(Clock::now() - t0).count();
      if (!c0 || !c1) return "cannot read /proc/" + std::to_string(d.pid()) + "/stat";
      const double ms_per_s = (*c1 - *c0) * 1000.0 / wall;
      cpu[c].push_back(ms_per_s);
      cpu_this_round[c] = ms_per_s;

      for (int i = 0; i < sizes.metrics_requests; ++i) {
        if (!conn) {  // connect outside the timed region
          conn = std::make_unique<test::HttpConnection>("127.0.0.1", port);
          if (!conn->connect_error().empty()) return "connect: " + conn->connect_error();
        }
        test::HttpResult r;
        const auto g0 = Clock::now();
        if (auto e = get_metrics(conn, port, r); !e.empty()) return e;
        const double ms = std::chrono::duration<double, std::milli>(Clock::now() - g0).count();
        if (const std::size_t got = monitor_lines(r.body); got != static_cast<std::size_t>(n)) {
          return wrong_count(n, got, "in a timed request");
        }
        latency[c].push_back(ms);
        bytes[c].push_back(static_cast<double>(r.body.size()));
      }
      if (auto e = post_ok(api_conn, api, "/l3af/configs/v1/delete", del); !e.empty()) return e;
    }
    for (std::size_t c = 1; c < kCounts; ++c) {
      const double cost = cpu_this_round[c] - cpu_this_round[0];
      sampler[c].push_back(cost);
      per_series[c].push_back(cost * 1000.0 / kSeriesCounts[c]);  // ms/s → µs per series·s
    }
    std::fprintf(stderr, "bench:   %d/%d /metrics rounds (N = 0, 1000, 10000)\n", round + 1,
                 sizes.metrics_rounds);
  }

  for (std::size_t c = 0; c < kCounts; ++c) {
    out.rows.push_back({"metrics_get_latency" + suffix(kSeriesCounts[c]), "ms",
                        summarize(latency[c]), true, Better::Lower});
  }
  for (std::size_t c = 0; c < kCounts; ++c) {
    out.rows.push_back({"metrics_body_bytes" + suffix(kSeriesCounts[c]), "bytes",
                        summarize(bytes[c]), false, Better::Lower});
  }
  for (std::size_t c = 0; c < kCounts; ++c) {
    out.rows.push_back({"metrics_daemon_cpu" + suffix(kSeriesCounts[c]), "ms/s", summarize(cpu[c]),
                        false, Better::Lower});
  }
  for (std::size_t c = 1; c < kCounts; ++c) {
    out.rows.push_back({"sampler_cpu" + suffix(kSeriesCounts[c]), "ms/s", summarize(sampler[c]),
                        false, Better::Lower});
  }
  for (std::size_t c = 1; c < kCounts; ++c) {
    out.rows.push_back({"sampler_us_per_series" + suffix(kSeriesCounts[c]), "us",
                        summarize(per_series[c]), false, Better::Lower});
  }
  out.notes.push_back(
      "bench-monitor on veth " + iface + ", xdp_ingress, monitor_maps of " +
      std::to_string(kMonitorKeysPerEntry) +
      " keys per entry (key_end), bench_counters (ARRAY) and bench_percpu_counters (PERCPU_ARRAY) "
      "alternating, aggregators scalar/max-rate/avg in turn; N = 0: no monitor_maps. " +
      std::to_string(sizes.metrics_rounds) + " rounds of N = 0, 1000, 10000 (rotated order).");
  out.notes.push_back(
      "latency: " + std::to_string(sizes.metrics_requests) +
      " GET /metrics per N and round on one keep-alive connection, request write to the whole "
      "body; each body had exactly N l3afd_BPFMonitorMap lines.");
  char resolution[32];
  std::snprintf(resolution, sizeof resolution, "%.2g", 10000.0 / sizes.metrics_window_ms);
  out.notes.push_back(
      "daemon_cpu: utime + stime of the daemon (/proc/<pid>/stat, 10 ms ticks) over " +
      std::to_string(sizes.metrics_window_ms) + " ms without requests, " +
      std::to_string(sizes.metrics_settle_ms) +
      " ms after the N series appeared, in CPU ms per wall second (1000 = one core). "
      "sampler_cpu = daemon_cpu at N - at N = 0 of the same round (the sampler's cost for N "
      "series); sampler_us_per_series = that / N (CPU us per series and second, one tick). "
      "Resolution: one tick per window, " +
      resolution + " ms/s.");
  return {};
}

}  // namespace l3afd::bench
