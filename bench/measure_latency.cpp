#include <chrono>
#include <cstdio>

#include "measure.h"
#include "payloads.h"
#include "support/netns.h"

namespace l3afd::bench {

namespace {
using Clock = std::chrono::steady_clock;

double ms_since(Clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}
}  // namespace

std::unique_ptr<Daemon> start_daemon(const BenchEnv& env, std::string& error) {
  static int counter = 0;
  DaemonOptions o = env.daemon;
  o.work_dir = env.workspace / ("daemon-" + std::to_string(counter++));
  return Daemon::start(o, error);
}

std::string post_ok(std::unique_ptr<test::HttpConnection>& conn, std::uint16_t port,
                    const std::string& target, const std::string& body) {
  if (!conn) {
    conn = std::make_unique<test::HttpConnection>("127.0.0.1", port);
    if (!conn->connect_error().empty()) return "connect: " + conn->connect_error();
  }
  auto r = conn->request("POST", target, body, {{"Content-Type", "application/json"}});
  if (!r.keep_alive || r.status == 0) conn.reset();
  if (r.status != 200) {
    return "POST " + target + ": " +
           (r.status == 0 ? r.error : "status " + std::to_string(r.status) + ": " + r.body);
  }
  return {};
}

std::string measure_add_delete(const BenchEnv& env, Daemon& d, const std::string& iface,
                               const BenchSizes& sizes, Table& out) {
  const std::vector<IfaceHooks> entry{{iface, {Hook::XdpIngress}}};
  const std::string add = add_payload(env.host, entry);
  const std::string del = delete_payload(env.host, entry);
  std::unique_ptr<test::HttpConnection> conn;
  std::vector<double> add_ms, del_ms;
  for (int i = 0; i < sizes.latency_warmup + sizes.latency_cycles; ++i) {
    // Connect outside the timed region: the timing covers request write to 200.
    if (!conn) {
      conn = std::make_unique<test::HttpConnection>("127.0.0.1", d.api_port());
      if (!conn->connect_error().empty()) return "connect: " + conn->connect_error();
    }
    auto t0 = Clock::now();
    if (auto e = post_ok(conn, d.api_port(), "/l3af/configs/v1/add", add); !e.empty()) return e;
    const double a = ms_since(t0);
    if (i == sizes.latency_warmup) {
      // The 200 must mean "attached": check once, outside the timed region.
      auto link = testing::run_command({"ip", "link", "show", "dev", iface});
      if (link.output.find(" xdp") == std::string::npos) {
        return "add answered 200 but ip link shows no XDP program on " + iface + ": " + link.output;
      }
    }
    if (!conn) {
      conn = std::make_unique<test::HttpConnection>("127.0.0.1", d.api_port());
      if (!conn->connect_error().empty()) return "connect: " + conn->connect_error();
    }
    t0 = Clock::now();
    if (auto e = post_ok(conn, d.api_port(), "/l3af/configs/v1/delete", del); !e.empty()) {
      return e;
    }
    const double r = ms_since(t0);
    if (i >= sizes.latency_warmup) {
      add_ms.push_back(a);
      del_ms.push_back(r);
    }
    if ((i + 1) % 50 == 0) {
      std::fprintf(stderr, "bench:   %d/%d add/delete cycles\n", i + 1,
                   sizes.latency_warmup + sizes.latency_cycles);
    }
  }
  out.rows.push_back({"add_latency", "ms", summarize(add_ms), true, Better::Lower});
  out.rows.push_back({"delete_latency", "ms", summarize(del_ms), true, Better::Lower});
  out.notes.push_back(std::to_string(sizes.latency_cycles) + " add/delete cycles on veth " + iface +
                      " after " + std::to_string(sizes.latency_warmup) +
                      " unrecorded warm-up cycles; one keep-alive connection; each sample is "
                      "request write to 200 (the daemon answers after attach/detach and the "
                      "store write).");
  return {};
}

}  // namespace l3afd::bench
