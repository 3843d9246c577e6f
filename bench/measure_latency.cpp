#include <algorithm>
#include <chrono>
#include <cstdio>
#include <optional>
#include <utility>

#include "measure.h"
#include "payloads.h"
#include "support/netns.h"

namespace l3afd::bench {

namespace {
using Clock = std::chrono::steady_clock;

double ms_since(Clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

/// Opens `conn` if the previous exchange closed it; called outside the timed region so that a
/// sample never includes a TCP connect. Returns "" or the connect error.
std::string ensure_connected(std::unique_ptr<test::HttpConnection>& conn, std::uint16_t port) {
  if (conn) return {};
  conn = std::make_unique<test::HttpConnection>("127.0.0.1", port);
  return conn->connect_error().empty() ? std::string() : "connect: " + conn->connect_error();
}

/// The chain-x programs of `iface` in the order GET …/<iface> lists them (the chain order),
/// e.g. "ace"; nullopt with `error` set when the GET fails. Program names appear in the body
/// only as the quoted value of "name" ("l3af_chain_a.tar.gz" has no hyphen), so the position of
/// "\"chain-x\"" gives the order without a JSON parser.
std::optional<std::string> chain_order(std::unique_ptr<test::HttpConnection>& conn,
                                       std::uint16_t port, const std::string& iface,
                                       std::string& error) {
  if (error = ensure_connected(conn, port); !error.empty()) return std::nullopt;
  auto r = conn->request("GET", "/l3af/configs/v1/" + iface, "", {});
  if (!r.keep_alive || r.status == 0) conn.reset();
  if (r.status != 200) {
    error = "GET /l3af/configs/v1/" + iface + ": " +
            (r.status == 0 ? r.error : "status " + std::to_string(r.status) + ": " + r.body);
    return std::nullopt;
  }
  std::vector<std::pair<std::size_t, char>> found;
  for (char c = 'a'; c <= 'f'; ++c) {
    const auto at = r.body.find(std::string("\"chain-") + c + "\"");
    if (at != std::string::npos) found.emplace_back(at, c);
  }
  std::sort(found.begin(), found.end());
  std::string order;
  for (const auto& f : found) order += f.second;
  return order;
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

std::string measure_chain_api(const BenchEnv& env, Daemon& d, const std::string& iface,
                              const BenchSizes& sizes, Table& out) {
  const std::uint16_t port = d.api_port();
  const std::string add = "/l3af/configs/v1/add";
  const std::string del = "/l3af/configs/v1/delete";
  const std::string update = "/l3af/configs/v1/update";
  const std::string base = chain_payload(env.host, iface, {{'a', 10}, {'c', 30}, {'e', 50}});
  const std::string a_last = chain_payload(env.host, iface, {{'a', 60}, {'c', 30}, {'e', 50}});
  const std::string insert_b = chain_payload(env.host, iface, {{'b', 20}});
  const std::string readd_c = chain_payload(env.host, iface, {{'c', 30}});
  const std::string del_b = chain_delete_payload(env.host, iface, "b");
  const std::string del_c = chain_delete_payload(env.host, iface, "c");
  std::unique_ptr<test::HttpConnection> conn;
  std::string err;

  // One request; its duration (request write to 200) goes to `into` when non-null.
  auto step = [&](const std::string& target, const std::string& body,
                  std::vector<double>* into) -> std::string {
    if (auto e = ensure_connected(conn, port); !e.empty()) return e;
    const auto t0 = Clock::now();
    if (auto e = post_ok(conn, port, target, body); !e.empty()) return e;
    const double ms = ms_since(t0);
    if (into != nullptr) into->push_back(ms);
    return {};
  };
  // The chain read back must be `want` (checked outside the timed region).
  auto expect = [&](const std::string& want, const char* after) -> std::string {
    std::string e;
    const auto got = chain_order(conn, port, iface, e);
    if (!got) return e;
    if (*got != want) {
      return std::string("after ") + after + " on " + iface + " the chain is \"" + *got +
             "\", expected \"" + want + "\" (letters of chain-x in GET order)";
    }
    return {};
  };

  if (err = step(add, base, nullptr); !err.empty()) return err;
  if (err = expect("ace", "the base add"); !err.empty()) return err;
  auto link = testing::run_command({"ip", "link", "show", "dev", iface});
  if (link.output.find(" xdp") == std::string::npos) {
    return "chained add answered 200 but ip link shows no XDP program on " + iface + ": " +
           link.output;
  }

  std::vector<double> insert_ms, remove_ms, reorder_ms;
  const int total = sizes.latency_warmup + sizes.chain_cycles;
  for (int i = 0; i < total; ++i) {
    const bool record = i >= sizes.latency_warmup;
    // The order is verified in the first recorded cycle (and after the last): every cycle sends
    // the same requests from the same state, and a GET after every step would add daemon work
    // between the samples.
    const bool check = i == sizes.latency_warmup;
    auto* ins = record ? &insert_ms : nullptr;
    auto* rem = record ? &remove_ms : nullptr;
    auto* reo = record ? &reorder_ms : nullptr;
    if (err = step(add, insert_b, ins); !err.empty()) return err;
    if (check && !(err = expect("abce", "inserting chain-b")).empty()) return err;
    if (err = step(del, del_b, nullptr); !err.empty()) return err;
    if (err = step(del, del_c, rem); !err.empty()) return err;
    if (check && !(err = expect("ae", "removing chain-c")).empty()) return err;
    if (err = step(add, readd_c, nullptr); !err.empty()) return err;
    if (err = step(update, a_last, reo); !err.empty()) return err;
    if (check && !(err = expect("cea", "moving chain-a last")).empty()) return err;
    if (err = step(update, base, reo); !err.empty()) return err;
    if (check && !(err = expect("ace", "moving chain-a first")).empty()) return err;
    if ((i + 1) % 25 == 0) {
      std::fprintf(stderr, "bench:   %d/%d chain insert/remove/reorder cycles\n", i + 1, total);
    }
  }
  if (err = expect("ace", "the last cycle"); !err.empty()) return err;
  if (err = step(del, chain_delete_payload(env.host, iface, "ace"), nullptr); !err.empty()) {
    return err;
  }

  out.rows.push_back({"chain_insert_latency", "ms", summarize(insert_ms), true, Better::Lower});
  out.rows.push_back({"chain_remove_latency", "ms", summarize(remove_ms), true, Better::Lower});
  out.rows.push_back({"chain_reorder_latency", "ms", summarize(reorder_ms), true, Better::Lower});
  out.notes.push_back(
      "chain_*: a separate daemon with bpf-chaining-enabled: true; veth " + iface +
      ", xdp_ingress, base chain chain-a, chain-c, chain-e (seq 10, 30, 50) behind xdp-root. " +
      std::to_string(sizes.chain_cycles) + " cycles after " + std::to_string(sizes.latency_warmup) +
      " unrecorded cycles, one keep-alive connection; each sample is request write to 200. "
      "insert = add chain-b seq 20; remove = delete chain-c (the middle); reorder = update "
      "moving chain-a from seq 10 to 60 and back (two samples per cycle). The programs that "
      "leave the chain are released after the daemon's retire grace period (default 1 s), by "
      "the same engine thread, so some samples wait for an earlier cycle's release.");
  return {};
}

}  // namespace l3afd::bench
