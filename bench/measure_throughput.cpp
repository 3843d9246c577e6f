#include <atomic>
#include <chrono>
#include <cstdio>
#include <latch>
#include <thread>

#include "measure.h"
#include "payloads.h"

namespace l3afd::bench {

namespace {

using Clock = std::chrono::steady_clock;

struct GetConfig {
  std::string metric;
  std::string target;
  int clients;
};

struct RunResult {
  double requests_per_s = 0;
  double daemon_cpu_us_per_request = 0;  ///< daemon user+sys CPU during the run / requests
  std::size_t body_bytes = 0;
  std::string error;
};

/// `total` GETs of `target` split over `clients` threads, each on its own keep-alive
/// connection opened before the clock starts. The clock runs from releasing the clients to
/// the last one finishing.
RunResult run_gets(const Daemon& d, const std::string& target, int clients, int total) {
  const std::uint16_t port = d.api_port();
  RunResult res;
  // Raw sockets with a pre-built request: the client's own CPU cost stays small next to the
  // daemon's, which matters on a 2-core machine where both compete.
  const std::string request = "GET " + target +
                              " HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(port) +
                              "\r\nAccept: application/json\r\n\r\n";
  std::vector<std::unique_ptr<test::RawSocket>> conns;
  for (int c = 0; c < clients; ++c) {
    conns.push_back(std::make_unique<test::RawSocket>("127.0.0.1", port));
    if (!conns.back()->connected()) {
      res.error = "connect to 127.0.0.1:" + std::to_string(port) + " failed";
      return res;
    }
  }
  std::vector<std::string> errors(static_cast<std::size_t>(clients));
  std::atomic<std::size_t> body_bytes{0};
  std::latch go(1);
  std::vector<std::thread> threads;
  for (int c = 0; c < clients; ++c) {
    const int n = total / clients + (c < total % clients ? 1 : 0);
    threads.emplace_back([&, c, n] {
      auto& conn = conns[static_cast<std::size_t>(c)];
      auto& err = errors[static_cast<std::size_t>(c)];
      go.wait();
      for (int i = 0; i < n; ++i) {
        if (!conn) conn = std::make_unique<test::RawSocket>("127.0.0.1", port);
        test::HttpResult r;
        if (conn->send(request)) r = conn->read_response();
        if (r.status != 200) {
          err = "GET " + target + ": " +
                (r.status == 0 ? (r.error.empty() ? "send failed" : r.error)
                               : "status " + std::to_string(r.status));
          return;
        }
        if (i == 0) body_bytes = r.body.size();
        if (!r.keep_alive) conn.reset();  // the server closed: reconnect (counted in the time)
      }
    });
  }
  const auto cpu0 = d.cpu_seconds();
  const auto t0 = Clock::now();
  go.count_down();
  for (auto& t : threads) t.join();
  const double s = std::chrono::duration<double>(Clock::now() - t0).count();
  const auto cpu1 = d.cpu_seconds();
  for (const auto& e : errors) {
    if (!e.empty()) {
      res.error = e;
      return res;
    }
  }
  res.requests_per_s = s > 0 ? total / s : 0;
  if (cpu0 && cpu1) res.daemon_cpu_us_per_request = (*cpu1 - *cpu0) * 1e6 / total;
  res.body_bytes = body_bytes;
  return res;
}

}  // namespace

std::string measure_get_throughput(const BenchEnv& env, Daemon& d, const BenchSizes& sizes,
                                   Table& out) {
  const auto& names = env.ifaces->names();
  std::vector<IfaceHooks> deployed;
  for (std::size_t i = 0; i < 4 && i < names.size(); ++i) {
    deployed.push_back({names[i], {Hook::XdpIngress, Hook::TcIngress, Hook::TcEgress}});
  }
  std::unique_ptr<test::HttpConnection> conn;
  for (const auto& e : deployed) {
    if (auto err = post_ok(conn, d.api_port(), "/l3af/configs/v1/add", add_payload(env.host, {e}));
        !err.empty()) {
      return err;
    }
  }
  const std::vector<GetConfig> configs = {
      {"get_iface_1client", "/l3af/configs/v1/" + names[0], 1},
      {"get_iface_4clients", "/l3af/configs/v1/" + names[0], 4},
      {"get_all_1client", "/l3af/configs/v1", 1},
      {"get_all_4clients", "/l3af/configs/v1", 4},
  };
  std::vector<std::vector<double>> samples(configs.size());
  std::vector<std::vector<double>> cpu(configs.size());
  std::vector<std::size_t> body(configs.size(), 0);
  for (std::size_t k = 0; k < configs.size(); ++k) {  // warm-up, not recorded
    auto r = run_gets(d, configs[k].target, 1, 500);
    if (!r.error.empty()) return r.error;
    body[k] = r.body_bytes;
  }
  for (int rep = 0; rep < sizes.get_reps; ++rep) {
    // Rotate the order so that slow phases of the shared machine do not hit one row only.
    for (std::size_t j = 0; j < configs.size(); ++j) {
      const std::size_t k = (j + static_cast<std::size_t>(rep)) % configs.size();
      auto r = run_gets(d, configs[k].target, configs[k].clients, sizes.get_requests);
      if (!r.error.empty()) return r.error;
      samples[k].push_back(r.requests_per_s);
      cpu[k].push_back(r.daemon_cpu_us_per_request);
    }
    std::fprintf(stderr, "bench:   throughput round %d/%d\n", rep + 1, sizes.get_reps);
  }
  for (std::size_t k = 0; k < configs.size(); ++k) {
    out.rows.push_back({configs[k].metric, "req/s", summarize(samples[k]), false, Better::Higher});
  }
  // Daemon CPU per request barely depends on the load of the shared machine, unlike req/s.
  for (std::size_t k = 0; k < configs.size(); ++k) {
    out.rows.push_back(
        {"cpu_" + configs[k].metric, "us/req", summarize(cpu[k]), false, Better::Lower});
  }
  out.notes.push_back(std::to_string(sizes.get_requests) + " requests per run, " +
                      std::to_string(sizes.get_reps) +
                      " runs per row (one sample each), keep-alive connections opened before "
                      "the clock starts; N clients = N threads of this process.");
  out.notes.push_back("state: 3 programs (xdp, tc ingress, tc egress) on each of " +
                      std::to_string(deployed.size()) + " interfaces; GET " + configs[0].target +
                      " body " + std::to_string(body[0]) + " bytes, GET /l3af/configs/v1 body " +
                      std::to_string(body[2]) + " bytes.");
  conn.reset();  // idle through the runs: the server may have closed it (idle timeout)
  for (const auto& e : deployed) {
    if (auto err =
            post_ok(conn, d.api_port(), "/l3af/configs/v1/delete", delete_payload(env.host, {e}));
        !err.empty()) {
      return err;
    }
  }
  return {};
}

}  // namespace l3afd::bench
