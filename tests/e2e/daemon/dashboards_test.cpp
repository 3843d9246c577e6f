// Grafana dashboards against a real daemon and a real Prometheus (issue 10, docs/metrics.md):
// - our three dashboards (packaging/grafana/dashboards/) are importable Grafana 9/10 JSON: schema
//   version, datasource variable, host/interface variables, ids, grid positions, targets;
// - the daemon runs the talk's ratelimiting payload (../shared/seeds) on one veth and our
//   connection-limit package on another; Debian's prometheus scrapes it every second with the
//   shipped packaging/prometheus.yml; real SYN bursts from the peer namespace make the rate
//   limiter both pass and drop, real TCP connections fill connection-limit's maximum so that it
//   drops; then the PromQL of EVERY panel target of our three dashboards and of L3AF's own three
//   (tests/fixtures/l3af-grafana) is evaluated through Prometheus' HTTP API and must return
//   at least one series, after Grafana's variables are replaced as described at
//   `substitute()`;
// - the counters are exact: rl_recv_count_map_0_scalar = SYNs sent, rl_drop_count_map_0_scalar
//   = SYNs sent - SYNs seen behind XDP by a packet socket on the root side = the pinned map,
//   rl_recv_count_map_0_max-rate >= half the largest burst (and <= all SYNs sent);
// - after the program is deleted its series leave the daemon's /metrics and, once the
//   staleness marks arrive, Prometheus' instant queries.
#include <arpa/inet.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <thread>

#include "core/unique_fd.h"
#include "e2e/daemon/daemon_fixture.h"
#include "e2e/daemon/prometheus_server.h"
#include "e2e/daemon/traffic.h"
#include "support/netns.h"

namespace l3afd::e2e {
namespace {

using json = nlohmann::json;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

const fs::path kOurs = fs::path(L3AFD_SOURCE_DIR) / "packaging" / "grafana" / "dashboards";
const std::vector<std::string> kOurFiles = {
    "l3afd-programs-overview.json", "l3afd-rate-limiting.json", "l3afd-connection-limiting.json"};
/// L3AF's own dashboards, unchanged (tests/fixtures/l3af-grafana/README.md), or the directory
/// named by L3AF_GRAFANA_DIR (e.g. a newer copy of theirs).
fs::path l3af_dir() {
  if (const char* d = std::getenv("L3AF_GRAFANA_DIR"); d != nullptr && *d != '\0') return d;
  return fs::path(L3AFD_SOURCE_DIR) / "tests" / "fixtures" / "l3af-grafana";
}
const std::vector<std::string> kL3afFiles = {"l3af_ebpf_programs.json", "l3af_rate_limiting.json",
                                             "l3af_connection_limiting.json"};

constexpr uint16_t kRlPort = 8080;  // one of the talk payload's ports
constexpr int kRlRate = 2;          // the talk payload's rate
constexpr int kBursts = 4;
constexpr int kBurst = 20;
constexpr uint16_t kClPort = 18080;
constexpr int kClMax = 2;

json load(const fs::path& p) {
  std::ifstream in(p);
  return json::parse(in, nullptr, /*allow_exceptions=*/false);
}

/// Polls `pred` every 250 ms for up to `limit` (a bound against hanging, not an assertion).
template <class F>
bool eventually(F pred, std::chrono::milliseconds limit = 30s) {
  const auto end = Clock::now() + limit;
  while (Clock::now() < end) {
    if (pred()) return true;
    std::this_thread::sleep_for(250ms);
  }
  return pred();
}

// ---- Prometheus answers ----------------------------------------------------------------------

/// The `result` array of a successful instant query; a non-array on any error.
json result_of(const std::string& body) {
  const json j = json::parse(body, nullptr, false);
  if (j.is_discarded() || j.value("status", "") != "success") return json();
  const json data = j.value("data", json::object());
  if (!data.is_object() || data.value("resultType", "") != "vector") return json();
  return data.value("result", json());
}

/// The value of the only series of an instant vector query; NaN without exactly one.
double only_value(const std::string& body) {
  const json r = result_of(body);
  if (!r.is_array() || r.size() != 1) return std::nan("");
  return std::stod(r[0]["value"][1].get<std::string>());
}

// ---- dashboards -------------------------------------------------------------------------------

struct Target {
  std::string file;
  std::string panel;
  std::string ref;
  std::string expr;
};

void collect(const json& panels, const std::string& file, std::vector<Target>& out) {
  if (!panels.is_array()) return;
  for (const auto& p : panels) {
    collect(p.value("panels", json::array()), file, out);  // rows (collapsed or not)
    for (const auto& t : p.value("targets", json::array())) {
      if (!t.contains("expr")) continue;
      out.push_back(
          {file, p.value("title", ""), t.value("refId", ""), t["expr"].get<std::string>()});
    }
  }
}

/// Grafana's variables replaced by concrete values, the way Grafana renders them for a
/// Prometheus query with one value selected: `$name`, `${name}`, `${name:format}` and `[[name]]`
/// by the value of `vars` (the dashboard's own variables: host, interface, instance, BPF; the
/// test chooses values that its label_values query offers, see check_variables()), and the
/// built-ins by fixed values that fit the test's 1 s scrape interval: `$__rate_interval` → 15s
/// (Grafana: max(4 × scrape interval, $__interval + scrape interval)), `$__interval` → 5s,
/// `$__range` → 10m (longer than the whole test). An unknown variable is left as it is, and the
/// caller fails on any `$` left over.
std::string substitute(std::string expr, std::map<std::string, std::string> vars) {
  vars["__rate_interval"] = "15s";
  vars["__interval"] = "5s";
  vars["__range"] = "10m";
  for (const auto& [name, value] : vars) {
    for (const std::string& pat : {"${" + name + "}", "[[" + name + "]]"}) {
      for (auto at = expr.find(pat); at != std::string::npos; at = expr.find(pat, at)) {
        expr.replace(at, pat.size(), value);
        at += value.size();
      }
    }
    const std::string formatted = "${" + name + ":";
    for (auto at = expr.find(formatted); at != std::string::npos; at = expr.find(formatted, at)) {
      const auto close = expr.find('}', at);
      if (close == std::string::npos) break;
      expr.replace(at, close + 1 - at, value);
      at += value.size();
    }
    const std::string plain = "$" + name;
    for (auto at = expr.find(plain); at != std::string::npos; at = expr.find(plain, at)) {
      const auto end = at + plain.size();
      if (end < expr.size() &&
          (std::isalnum(static_cast<unsigned char>(expr[end])) || expr[end] == '_')) {
        ++at;  // a longer name ($hostname for $host)
        continue;
      }
      expr.replace(at, plain.size(), value);
      at += value.size();
    }
  }
  return expr;
}

/// Metrics a panel may need that have no series in this test, with the reason; a target naming
/// one of them is skipped only while the daemon's /metrics has no such family. (The API
/// histogram and the kernel run statistics must have data: the test makes requests and starts
/// the daemon with bpf-stats-enabled.)
const std::map<std::string, std::string> kMaybeAbsent = {
    {"l3afd_BPFUpdateFailedCount",
     "no series until a cmd_update fails, and neither payload of this test has a cmd_update"},
};

/// Why `expr` cannot have data with this daemon ("" if it must have).
std::string skip_reason(const std::string& expr, const std::string& metrics_text) {
  for (const auto& [metric, why] : kMaybeAbsent) {
    if (expr.find(metric) == std::string::npos) continue;
    if (metrics_text.find("\n" + metric) == std::string::npos &&
        metrics_text.rfind(metric, 0) != 0) {
      return metric + ": " + why;
    }
  }
  return "";
}

// ---- traffic ---------------------------------------------------------------------------------

/// Frames of TCP SYNs (no ACK) to `dport` that the root side of `v` receives behind XDP: a
/// packet socket on the root interface sees a frame only if XDP passed it (generic and native
/// XDP both run before the taps).
class SynCapture {
 public:
  SynCapture(const testing::VethPair& v, uint16_t dport) : dport_(dport) {
    fd_ = UniqueFd(::socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, htons(ETH_P_IP)));
    if (!fd_) return;
    const int buf = 4 << 20;
    (void)::setsockopt(fd_.get(), SOL_SOCKET, SO_RCVBUF, &buf, sizeof(buf));
    sockaddr_ll at{};
    at.sll_family = AF_PACKET;
    at.sll_protocol = htons(ETH_P_IP);
    at.sll_ifindex = static_cast<int>(if_nametoindex(v.root_name().c_str()));
    if (at.sll_ifindex == 0 ||
        ::bind(fd_.get(), reinterpret_cast<sockaddr*>(&at), sizeof(at)) != 0) {
      fd_.reset();
    }
    ::inet_pton(AF_INET, v.root_addr().c_str(), &dst_);
  }
  bool ok() const { return fd_.valid(); }
  /// Reads what is queued, then keeps reading until nothing arrived for 1 s (bounded by
  /// `limit` frames); returns the SYNs counted so far.
  uint64_t drain(int limit = 100000) {
    unsigned char frame[2048];
    for (int i = 0; i < limit; ++i) {
      pollfd p{fd_.get(), POLLIN, 0};
      if (::poll(&p, 1, 1000) != 1) break;
      sockaddr_ll from{};
      socklen_t len = sizeof(from);
      const ssize_t n =
          ::recvfrom(fd_.get(), frame, sizeof(frame), 0, reinterpret_cast<sockaddr*>(&from), &len);
      if (n <= 0) break;
      if (from.sll_pkttype == PACKET_OUTGOING) continue;
      if (static_cast<size_t>(n) < 14 + sizeof(iphdr)) continue;
      iphdr ip{};
      std::memcpy(&ip, frame + 14, sizeof(ip));
      const size_t ihl = ip.ihl * 4u;
      if (ip.protocol != IPPROTO_TCP || ip.daddr != dst_.s_addr ||
          static_cast<size_t>(n) < 14 + ihl + sizeof(tcphdr)) {
        continue;
      }
      tcphdr tcp{};
      std::memcpy(&tcp, frame + 14 + ihl, sizeof(tcp));
      if (ntohs(tcp.dest) == dport_ && tcp.syn && !tcp.ack) ++syns_;
    }
    return syns_;
  }

 private:
  UniqueFd fd_;
  uint16_t dport_;
  in_addr dst_{};
  uint64_t syns_ = 0;
};

// ---- payloads --------------------------------------------------------------------------------

/// The talk's ratelimiting payload (../shared/seeds) with host, interface and artifact names for
/// this host, plus one monitor_maps entry the talk does not have: rl_recv_count_map key 0
/// `scalar`, the raw counter behind our "received per second" panel (the talk exports only its
/// max-rate). Everything else as written.
std::string talk_payload(const std::string& host, const std::string& iface) {
  json p = json::parse(R"([{
    "host_name": "13af", "iface": "Ethernet4",
    "bpf_programs": {"xdp_ingress": [{
      "name": "ratelimiting", "seq_id": 1, "artifact": "ratelimiting.exe",
      "map_name": "xdp_rl_ingress_next_prog", "cmd_start": "ratelimiting.exe",
      "version": "latest", "user_program_daemon": true, "admin_status": "enabled",
      "prog_type": "xdp", "cfg_version": 1,
      "start_args": {"ports": "80,8080,8081", "rate": "2"},
      "monitor_maps": [
        {"name": "rl_drop_count_map", "key": 0, "aggregator": "scalar"},
        {"name": "rl_recv_count_map", "key": 0, "aggregator": "max-rate"}]}]}}])");
  p[0]["host_name"] = host;
  p[0]["iface"] = iface;
  json& prog = p[0]["bpf_programs"]["xdp_ingress"][0];
  prog["artifact"] = "l3af_ratelimiting.tar.gz";
  prog["cmd_start"] = "ratelimiting";
  prog["monitor_maps"].push_back(
      {{"name", "rl_recv_count_map"}, {"key", 0}, {"aggregator", "scalar"}});
  return p.dump();
}

/// Our connection-limit package as bpf/connection-limit.md's sample payload deploys it (its four
/// counters exported; the three L3AF's dashboard reads among them), on kClPort.
model::BpfProgram connection_limit() {
  model::BpfProgram p;
  p.name = "connection-limit";
  p.seq_id = 1;
  p.artifact = "l3af_connection_limit.tar.gz";
  p.map_name = "xdp_cl_ingress_next_prog";
  p.version = "1.0";
  p.admin_status = "enabled";
  p.prog_type = "xdp";
  p.object_file = "connection_limit.bpf.o";
  p.entry_function_name = "_xdp_limit_conn";
  p.map_args =
      std::vector<model::MapArg>{{"cl_max_conn", std::vector<model::KeyValue>{{0, kClMax}}},
                                 {"cl_tcp_conns", std::vector<model::KeyValue>{{kClPort, 1}}}};
  p.monitor_maps = std::vector<model::MonitorMap>{{"cl_recv_count_map", 0, "scalar"},
                                                  {"cl_drop_count_map", 0, "scalar"},
                                                  {"cl_conn_count", 0, "scalar"},
                                                  {"cl_overflow_count", 0, "scalar"}};
  return p;
}

/// Lines of /metrics of the series that must leave with a deleted program `name`.
std::vector<std::string> program_series(const std::string& metrics_text, const std::string& name) {
  std::vector<std::string> out;
  std::istringstream in(metrics_text);
  for (std::string line; std::getline(in, line);) {
    const bool family = line.starts_with("l3afd_BPFRunning{") ||
                        line.starts_with("l3afd_BPFMonitorMap{") ||
                        line.starts_with("l3afd_BPFStartTime{") ||
                        line.starts_with("l3afd_companion_restarts_total{");
    if (family && line.find("ebpf_program=\"" + name + "\"") != std::string::npos) {
      out.push_back(line);
    }
  }
  return out;
}

class Dashboards : public DaemonFixture {
 protected:
  /// Evaluates `t` (already substituted) until it returns a series (bounded); the last body.
  static std::string evaluate(const PrometheusServer& prom, const std::string& expr) {
    std::string body;
    eventually(
        [&] {
          body = prom.query(expr);
          const json r = result_of(body);
          return r.is_array() && !r.empty();
        },
        30s);
    return body;
  }
  /// Every `label_values(<selector>, <label>)` variable of `dash` offers the value the test
  /// substitutes for it (any value for ".*", the "All" of a multi-value variable).
  static void check_variables(const PrometheusServer& prom, const json& dash,
                              const std::string& file,
                              const std::map<std::string, std::string>& vars) {
    const json templating = dash.value("templating", json::object());
    for (const auto& v : templating.value("list", json::array())) {
      if (v.value("type", "") != "query") continue;
      const json q = v.value("query", json(""));
      const std::string text = q.is_object() ? q.value("query", "") : q.get<std::string>();
      const std::string name = v.value("name", "");
      SCOPED_TRACE(file + " variable " + name + ": " + text);
      ASSERT_TRUE(text.starts_with("label_values(") && text.ends_with(")")) << text;
      const std::string inner = text.substr(13, text.size() - 14);
      const auto comma = inner.rfind(',');
      ASSERT_NE(comma, std::string::npos);
      std::string label = inner.substr(comma + 1);
      label.erase(0, label.find_first_not_of(' '));
      const std::string selector = substitute(inner.substr(0, comma), vars);
      const std::string body = evaluate(prom, "count by (" + label + ") (" + selector + ")");
      const json r = result_of(body);
      ASSERT_TRUE(r.is_array() && !r.empty()) << body;
      ASSERT_TRUE(vars.contains(name)) << "the test has no value for this variable";
      if (vars.at(name) == ".*") continue;
      bool offered = false;
      for (const auto& s : r) offered = offered || s["metric"].value(label, "") == vars.at(name);
      EXPECT_TRUE(offered) << vars.at(name) << " not offered: " << body;
    }
  }
};

TEST(DashboardFiles, OursAreGrafanaImportableJsonWithADatasourceVariableAndHostInterfaceVariables) {
  std::set<std::string> uids;
  for (const auto& f : kOurFiles) {
    SCOPED_TRACE(f);
    const json d = load(kOurs / f);
    ASSERT_TRUE(d.is_object()) << "not JSON";
    EXPECT_GE(d.value("schemaVersion", 0), 36) << "Grafana 9/10";
    EXPECT_LE(d.value("schemaVersion", 0), 39) << "Grafana 9/10";
    EXPECT_TRUE(!d.contains("id") || d.at("id").is_null())
        << "an imported dashboard gets its id from Grafana";
    const std::string uid = d.value("uid", "");
    EXPECT_FALSE(uid.empty());
    EXPECT_TRUE(uids.insert(uid).second) << "uid " << uid << " used twice";
    EXPECT_FALSE(d.value("title", "").empty());
    std::map<std::string, json> vars;
    const json templating = d.value("templating", json::object());
    for (const auto& v : templating.value("list", json::array())) vars[v.value("name", "")] = v;
    ASSERT_TRUE(vars.contains("datasource"));
    EXPECT_EQ(vars["datasource"].value("type", ""), "datasource");
    EXPECT_EQ(vars["datasource"].value("query", ""), "prometheus");
    EXPECT_EQ(vars["datasource"]["current"].value("value", ""), "prometheus")
        << "the uid of packaging/grafana/provisioning/datasources/l3afd.yaml";
    for (const char* name : {"host", "interface"}) {
      ASSERT_TRUE(vars.contains(name)) << name;
      EXPECT_EQ(vars[name].value("type", ""), "query");
      EXPECT_EQ(vars[name]["datasource"].value("uid", ""), "${datasource}");
    }
    std::set<int> ids;
    int targets = 0;
    std::function<void(const json&)> walk = [&](const json& panels) {
      for (const auto& p : panels) {
        SCOPED_TRACE(p.value("title", ""));
        EXPECT_TRUE(ids.insert(p.value("id", -1)).second) << "panel id " << p.value("id", -1);
        const json g = p.value("gridPos", json::object());
        EXPECT_TRUE(g.is_object() && g.contains("h") && g.contains("w") && g.contains("x") &&
                    g.contains("y"));
        EXPECT_LE(g.value("x", 0) + g.value("w", 0), 24);
        if (p.value("type", "") == "row") {
          walk(p.value("panels", json::array()));
          continue;
        }
        EXPECT_EQ(p.value("datasource", json::object()).value("uid", ""), "${datasource}");
        const json ts = p.value("targets", json::array());
        EXPECT_FALSE(ts.empty());
        std::set<std::string> refs;
        for (const auto& t : ts) {
          EXPECT_EQ(t.value("datasource", json::object()).value("uid", ""), "${datasource}");
          EXPECT_TRUE(refs.insert(t.value("refId", "")).second);
          EXPECT_FALSE(t.value("expr", "").empty());
          ++targets;
        }
      }
    };
    walk(d.value("panels", json::array()));
    EXPECT_GT(targets, 0);
  }
  std::ifstream ds(kOurs.parent_path() / "provisioning" / "datasources" / "l3afd.yaml");
  std::stringstream dss;
  dss << ds.rdbuf();
  EXPECT_NE(dss.str().find("uid: prometheus"), std::string::npos) << dss.str();
  EXPECT_NE(dss.str().find("url: http://localhost:9090"), std::string::npos) << dss.str();
  std::ifstream db(kOurs.parent_path() / "provisioning" / "dashboards" / "l3afd.yaml");
  std::stringstream dbs;
  dbs << db.rdbuf();
  EXPECT_NE(dbs.str().find("path: /var/lib/grafana/dashboards/l3afd"), std::string::npos)
      << dbs.str();
}

TEST_F(Dashboards, EveryPanelOfOursAndL3afsHasDataAndTheRateLimiterCountersAreExact) {
  // Every dashboard parses before anything is started.
  std::vector<std::pair<std::string, json>> dashboards;
  for (const auto& f : kOurFiles) dashboards.emplace_back(f, load(kOurs / f));
  for (const auto& f : kL3afFiles) dashboards.emplace_back(f, load(l3af_dir() / f));
  for (const auto& [f, d] : dashboards) {
    ASSERT_TRUE(d.is_object()) << f << " missing or not JSON (L3AF's are read from " << l3af_dir()
                               << ", L3AF_GRAFANA_DIR overrides)";
  }

  testing::VethPair rl;
  ASSERT_EQ(rl.error(), "");
  testing::VethPair cl;
  ASSERT_EQ(cl.error(), "");
  DaemonOptions opt;
  opt.chaining = true;  // the talk's self-loading binary joins the chain through a staging array
  opt.bpf_stats_enabled = true;  // the overview's run-time panels (held only by this daemon)
  ASSERT_TRUE(start_daemon(opt));
  const std::string rl_if = rl.root_name();
  const std::string cl_if = cl.root_name();

  // connection-limit protects kClPort of the root side of `cl`, where the test listens.
  UniqueFd listener(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  ASSERT_TRUE(listener.valid());
  sockaddr_in la{};
  la.sin_family = AF_INET;
  la.sin_port = htons(kClPort);
  ::inet_pton(AF_INET, cl.root_addr().c_str(), &la.sin_addr);
  ASSERT_EQ(::bind(listener.get(), reinterpret_cast<sockaddr*>(&la), sizeof(la)), 0);
  ASSERT_EQ(::listen(listener.get(), 16), 0);

  auto r = api("POST", "/l3af/configs/v1/add", talk_payload(host(), rl_if));
  ASSERT_EQ(r.status, 200) << r.body;
  r = add({entry(cl_if, connection_limit())});
  ASSERT_EQ(r.status, 200) << r.body;
  // A deploy to an interface that does not exist: the failed-deploy panels have something to
  // show (l3afd_BPFDeployFailedCount, empty program, docs/compatibility.md §13).
  const std::string missing = testing::unique_name("l3gmiss");
  r = add({entry(missing, xdp_counter())});
  EXPECT_NE(r.status, 200) << r.body;
  EXPECT_NE(metrics().find("interface_name=\"" + missing + "\""), std::string::npos) << metrics();

  const std::string cfg = write_prometheus_config(dir_.path(), metrics_port_);
  ASSERT_FALSE(cfg.empty()) << "packaging/prometheus.yml has no localhost:8898 target";
  const uint16_t prom_port = free_port();
  PrometheusServer prom(dir_.path(), dir_.path() / "prometheus.yml", prom_port);
  ASSERT_TRUE(prom.started());

  // max-rate: Prometheus has seen the baseline (0) before any SYN is sent.
  const std::string sel = "interface_name=\"" + rl_if + "\",ebpf_program=\"ratelimiting\"";
  const std::string max_rate =
      "l3afd_BPFMonitorMap{" + sel + ",map_name=\"rl_recv_count_map_0_max-rate\"}";
  std::string body;
  ASSERT_TRUE(eventually([&] { return only_value(body = prom.query(max_rate)) == 0; }, 60s))
      << body;

  // Rate limiter traffic: kBursts bursts of kBurst SYNs to kRlPort, 1.5 s apart (pacing only).
  SynCapture passed(rl, kRlPort);
  ASSERT_TRUE(passed.ok());
  int sent = 0;
  bool bursts_fit_a_sample = true;  // each burst took less than one 1 s sample interval
  for (int b = 0; b < kBursts; ++b) {
    if (b > 0) std::this_thread::sleep_for(1500ms);
    const auto t0 = Clock::now();
    const int n = send_syns(rl, kBurst, kRlPort, static_cast<uint16_t>(40000 + b * kBurst));
    bursts_fit_a_sample = bursts_fit_a_sample && Clock::now() - t0 < 1s;
    ASSERT_EQ(n, kBurst) << "burst " << b;
    sent += n;
  }
  const fs::path rl_maps = fs::path("/sys/fs/bpf") / rl_if / "ratelimiting" / "latest";
  ASSERT_TRUE(eventually([&] {
    return u64_counter(rl_maps / "rl_recv_count_map") == uint64_t(sent);
  })) << "every SYN to a listed port is counted: "
      << u64_counter(rl_maps / "rl_recv_count_map").value_or(0) << " of " << sent;
  const uint64_t through = passed.drain();
  const uint64_t dropped_map = u64_counter(rl_maps / "rl_drop_count_map").value_or(~0ull);
  EXPECT_EQ(dropped_map, sent - through) << "drops = SYNs sent - SYNs seen behind XDP";
  EXPECT_GT(through, 0u) << "the limiter passed some";
  EXPECT_GT(dropped_map, 0u) << "and dropped some";
  EXPECT_LE(through, uint64_t(kBursts * 2 * kRlRate)) << "at most 2 x rate per burst";

  // connection-limit: kClMax connections are admitted, the next SYN is dropped.
  std::vector<UniqueFd> conns;
  for (int i = 0; i < kClMax; ++i) {
    UniqueFd c;
    ASSERT_TRUE(try_connect(cl, kClPort, c, 3000)) << "connection " << i;
    conns.push_back(std::move(c));
  }
  ASSERT_TRUE(eventually([&] {
    return monitor_value(cl_if, "cl_conn_count_0_scalar") == uint64_t(kClMax);
  })) << metrics();
  {
    UniqueFd over;
    EXPECT_FALSE(try_connect(cl, kClPort, over, 1500))
        << "a connection beyond the maximum was admitted";
  }  // closed: no more retransmissions
  const fs::path cl_maps = fs::path("/sys/fs/bpf") / cl_if / "connection-limit" / "1_0";
  const uint64_t cl_drops = u64_counter(cl_maps / "cl_drop_count_map").value_or(0);
  EXPECT_GE(cl_drops, 1u);

  // What Prometheus scraped equals what the kernel's maps say.
  auto value_of = [&](const std::string& q) { return only_value(prom.query(q)); };
  const std::string drop_q =
      "l3afd_BPFMonitorMap{" + sel + ",map_name=\"rl_drop_count_map_0_scalar\"}";
  const std::string recv_q =
      "l3afd_BPFMonitorMap{" + sel + ",map_name=\"rl_recv_count_map_0_scalar\"}";
  EXPECT_TRUE(eventually([&] { return value_of(drop_q) == double(dropped_map); }))
      << prom.query(drop_q) << " expected " << dropped_map;
  EXPECT_TRUE(eventually([&] { return value_of(recv_q) == double(sent); }))
      << prom.query(recv_q) << " expected " << sent;
  // max-rate: each burst lies in at most two 1 s sample intervals, so one of them saw at least
  // half of it; no interval can have seen more than everything sent. The daemon keeps the peak
  // for n-metric-samples seconds, Prometheus for good (max_over_time).
  const double rate_bound = bursts_fit_a_sample ? std::ceil(kBurst / 2.0) : 1.0;
  const std::string peak_q = "max_over_time(" + max_rate + "[10m])";
  EXPECT_TRUE(eventually([&] { return value_of(peak_q) >= rate_bound; }))
      << prom.query(peak_q) << " expected >= " << rate_bound;
  EXPECT_LE(value_of(peak_q), double(sent));
  const std::string cl_sel = "interface_name=\"" + cl_if + "\",ebpf_program=\"connection-limit\"";
  EXPECT_TRUE(eventually([&] {
    return value_of("l3afd_BPFMonitorMap{" + cl_sel + ",map_name=\"cl_conn_count_0_scalar\"}") ==
           kClMax;
  }));
  EXPECT_TRUE(eventually([&] {
    return value_of("l3afd_BPFMonitorMap{" + cl_sel +
                    ",map_name=\"cl_drop_count_map_0_scalar\"}") == double(cl_drops);
  }));

  // Every panel target of the six dashboards. Variables: host = this host; interface = the
  // interface of the package a dashboard is about (our overview: "All", i.e. .*, its default);
  // instance = this daemon's scrape target; L3AF's BPF = "ratelimiting" (its default). Targets
  // reading l3afd_BPFStopCount have no series until a program stopped: they are evaluated after
  // the delete below.
  const std::string metrics_text = metrics();
  const std::string instance = "127.0.0.1:" + std::to_string(metrics_port_);
  auto vars_for = [&](const std::string& file) {
    std::map<std::string, std::string> v{{"host", host()},
                                         {"instance", instance},
                                         {"BPF", "ratelimiting"},
                                         {"datasource", "prometheus"}};
    v["interface"] = file.find("connection") != std::string::npos ? cl_if
                     : file.find("rate") != std::string::npos     ? rl_if
                                                                  : ".*";
    return v;
  };
  std::vector<Target> after_stop;
  std::vector<std::string> skipped;
  int evaluated = 0;
  auto run = [&](const Target& t, bool deferred) {
    const std::string expr = substitute(t.expr, vars_for(t.file));
    SCOPED_TRACE(t.file + " / " + t.panel + " / " + t.ref + ": " + expr);
    EXPECT_EQ(expr.find('$'), std::string::npos) << "a variable the test does not know";
    if (const std::string why = skip_reason(expr, metrics_text); !why.empty()) {
      skipped.push_back(t.file + " / " + t.panel + " / " + t.ref + " — " + why);
      return;
    }
    if (!deferred && expr.find("l3afd_BPFStopCount") != std::string::npos) {
      after_stop.push_back(t);
      return;
    }
    const std::string out = evaluate(prom, expr);
    const json res = result_of(out);
    const bool data = res.is_array() && !res.empty();
    EXPECT_TRUE(data) << "no series: " << out;
    evaluated += data;
  };
  int ours = 0;
  for (const auto& [file, dash] : dashboards) {
    check_variables(prom, dash, file, vars_for(file));
    std::vector<Target> targets;
    collect(dash.value("panels", json::array()), file, targets);
    EXPECT_FALSE(targets.empty()) << file;
    if (file.starts_with("l3afd-")) ours += static_cast<int>(targets.size());
    for (const auto& t : targets) run(t, false);
  }
  EXPECT_GE(ours, 30) << "our dashboards lost panels";

  // Delete: the program's series leave /metrics at once and Prometheus with the staleness mark
  // of the next scrape.
  EXPECT_FALSE(program_series(metrics(), "ratelimiting").empty()) << metrics();
  r = remove({names(rl_if, {"ratelimiting"})});
  ASSERT_EQ(r.status, 200) << r.body;
  // Series computed from the program table go with the response; max-rate/avg series come from
  // the 1 s sampler (src/api/monitor_sampler.h), which drops them at its next tick.
  auto from_table = [&] {
    std::vector<std::string> out;
    for (auto& l : program_series(metrics(), "ratelimiting")) {
      if (l.find("_max-rate\"") == std::string::npos && l.find("_avg\"") == std::string::npos) {
        out.push_back(l);
      }
    }
    return out;
  };
  const auto left = from_table();
  EXPECT_TRUE(left.empty()) << ::testing::PrintToString(left);
  EXPECT_TRUE(eventually([&] { return program_series(metrics(), "ratelimiting").empty(); }, 10s))
      << ::testing::PrintToString(program_series(metrics(), "ratelimiting"));
  for (const char* metric : {"l3afd_BPFRunning", "l3afd_BPFMonitorMap", "l3afd_BPFStartTime",
                             "l3afd_companion_restarts_total"}) {
    const std::string q = std::string(metric) + "{ebpf_program=\"ratelimiting\"}";
    EXPECT_TRUE(eventually([&] {
      const json res = result_of(prom.query(q));
      return res.is_array() && res.empty();
    })) << q
        << ": " << prom.query(q);
  }
  EXPECT_FALSE(result_of(prom.query("l3afd_BPFMonitorMap{" + cl_sel + "}")).empty())
      << "connection-limit's series stay";
  for (const auto& t : after_stop) run(t, true);
  EXPECT_FALSE(after_stop.empty()) << "the stop panels were evaluated";

  std::string skipped_text;
  for (const auto& s : skipped) skipped_text += "  " + s + "\n";
  std::cout << "[ dashboards ] SYNs sent " << sent << ", passed " << through << ", dropped "
            << dropped_map << ", max-rate peak " << value_of(peak_q) << " (bound " << rate_bound
            << "); connection-limit drops " << cl_drops << "\n";
  std::cout << "[ dashboards ] " << evaluated << " panel targets returned data; " << skipped.size()
            << " skipped:\n"
            << skipped_text;
  EXPECT_GT(evaluated, 30);

  conns.clear();
}

}  // namespace
}  // namespace l3afd::e2e
