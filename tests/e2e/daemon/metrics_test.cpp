// The program event counters of /metrics through the real daemon (docs/compatibility.md §13):
// l3afd_BPFStartCount, l3afd_BPFStartTime, l3afd_BPFStopCount, l3afd_BPFUpdateCount and
// l3afd_BPFDeployFailedCount change at the events the reference names, with its labels, and a
// program's start time disappears with it.
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>

#include "e2e/daemon/daemon_fixture.h"
#include "e2e/daemon/prometheus_server.h"
#include "model/l3af_json.h"
#include "support/http_client.h"
#include "support/netns.h"

extern char** environ;

namespace l3afd::e2e {
namespace {

/// The value of the sample of `metric` whose labels contain every one of `parts`; "" if absent.
std::string sample(const std::string& text, const std::string& metric,
                   const std::vector<std::string>& parts) {
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(metric + "{", 0) != 0) continue;
    bool all = true;
    for (const auto& p : parts) all = all && line.find(p) != std::string::npos;
    if (all) return line.substr(line.rfind(' ') + 1);
  }
  return "";
}

/// Runs `promtool check metrics` (no shell) with `file` as its stdin; returns its output.
std::string promtool_check(const fs::path& file) {
  int out[2];
  if (::pipe2(out, O_CLOEXEC) != 0) return "pipe failed";
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, file.c_str(), O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&fa, out[1], 1);
  posix_spawn_file_actions_adddup2(&fa, out[1], 2);
  const char* argv[] = {"promtool", "check", "metrics", nullptr};
  pid_t pid = -1;
  const int rc = ::posix_spawnp(&pid, "promtool", &fa, nullptr, const_cast<char**>(argv), environ);
  posix_spawn_file_actions_destroy(&fa);
  ::close(out[1]);
  std::string text;
  if (rc != 0) {
    ::close(out[0]);
    return "cannot run promtool (install-deps installs Debian's prometheus): " +
           std::string(std::strerror(rc));
  }
  char buf[4096];
  for (ssize_t n; (n = ::read(out[0], buf, sizeof(buf))) > 0;) text.append(buf, buf + n);
  ::close(out[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  return text;
}

class Metrics : public DaemonFixture {};

TEST_F(Metrics, ARealPrometheusScrapesTheDaemonWithTheShippedConfig) {
  testing::VethPair v;
  ASSERT_EQ(v.error(), "");
  ASSERT_TRUE(start_daemon());
  const std::string ifc = v.root_name();
  ASSERT_EQ(add({entry(ifc, xdp_counter())}).status, 200);
  // The shipped scrape config, pointed at this daemon and scraping every second.
  const std::string cfg = write_prometheus_config(dir_.path(), metrics_port_);
  ASSERT_NE(cfg.find("127.0.0.1:" + std::to_string(metrics_port_)), std::string::npos) << cfg;
  const fs::path config = dir_.path() / "prometheus.yml";
  PrometheusServer prom(dir_.path(), config, free_port());
  ASSERT_TRUE(prom.started());
  std::string body;
  for (int i = 0; i < 120; ++i) {  // bounded: 60 s for start-up and the first scrapes
    body = prom.query("l3afd_BPFRunning{ebpf_program=\"xdp-counter\"}");
    if (body.find("\"interface_name\":\"" + ifc + "\"") != std::string::npos) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
  EXPECT_NE(body.find("\"interface_name\":\"" + ifc + "\""), std::string::npos) << body;
  EXPECT_NE(body.find("\"1\"]"), std::string::npos) << "value 1: " << body;
  body = prom.query("l3afd_BPFStartCount");
  EXPECT_NE(body.find("\"ebpf_program\":\"xdp-counter\""), std::string::npos) << body;
  body = prom.query("up{job=\"l3afd\"}");
  EXPECT_NE(body.find("\"1\"]"), std::string::npos) << "target up: " << body;
}

TEST_F(Metrics, PromtoolFindsNothingButTheReferenceMetricNames) {
  testing::VethPair v;
  ASSERT_EQ(v.error(), "");
  ASSERT_TRUE(start_daemon());
  ASSERT_EQ(add({entry(v.root_name(), xdp_counter())}).status, 200);
  const fs::path file = dir_.path() / "metrics.txt";
  { std::ofstream(file) << metrics(); }
  const std::string out = promtool_check(file);
  ASSERT_EQ(out.find("cannot run promtool"), std::string::npos) << out;
  // The reference's names (docs/compatibility.md §13) are camelCase and its counters have no
  // _total suffix; clients depend on them, so those two complaints are expected. Anything else
  // (syntax, HELP/TYPE, duplicate series, ...) is a defect.
  std::istringstream in(out);
  int reference_name_complaints = 0;
  for (std::string line; std::getline(in, line);) {
    if (line.empty()) continue;
    const bool reference_name =
        line.rfind("l3afd_BPF", 0) == 0 &&
        (line.find("not 'camelCase'") != std::string::npos ||
         line.find("counter metrics should have \"_total\" suffix") != std::string::npos);
    EXPECT_TRUE(reference_name) << "promtool: " << line;
    reference_name_complaints += reference_name;
  }
  EXPECT_GT(reference_name_complaints, 0) << "promtool ran on the real exposition: " << out;
}

TEST_F(Metrics, ProgramCountersFollowStartUpdateStopAndFailedDeploys) {
  testing::VethPair v;
  ASSERT_EQ(v.error(), "");
  ASSERT_TRUE(start_daemon());
  const std::string ifc = v.root_name();
  const std::string prog = "ebpf_program=\"xdp-counter\"";
  const std::string where = "interface_name=\"" + ifc + "\"";

  ASSERT_EQ(add({entry(ifc, xdp_counter())}).status, 200);
  auto m = metrics();
  EXPECT_EQ(sample(m, "l3afd_BPFStartCount", {prog, where, "direction=\"xdpingress\""}), "1") << m;
  const std::string started = sample(m, "l3afd_BPFStartTime", {prog, where});
  ASSERT_FALSE(started.empty()) << m;
  const double now =
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  EXPECT_NEAR(std::stod(started), now, 600) << "unix seconds: " << started;
  EXPECT_EQ(sample(m, "l3afd_BPFUpdateCount", {prog, where}), "1") << "map_args written at start";
  EXPECT_NE(m.find("# TYPE l3afd_BPFStartCount counter"), std::string::npos);
  EXPECT_NE(m.find("# HELP l3afd_BPFStartTime This value indicates start time of the BPF program "
                   "since unix epoch in seconds"),
            std::string::npos);

  // map_args only: applied in place, one more update, no new start.
  ASSERT_EQ(update({entry(ifc, xdp_counter("1.0", 9))}).status, 200);
  m = metrics();
  EXPECT_EQ(sample(m, "l3afd_BPFUpdateCount", {prog, where}), "2") << m;
  EXPECT_EQ(sample(m, "l3afd_BPFStartCount", {prog, where}), "1");

  // A deploy that fails in the kernel (the verifier refuses the program) is counted for it.
  auto bad = xdp_counter();
  bad.name = "test-verifier-reject";
  bad.artifact = "l3af_test_verifier_reject.tar.gz";
  bad.object_file = "verifier_reject.bpf.o";
  bad.entry_function_name = "verifier_reject";
  bad.map_args.reset();
  bad.monitor_maps.reset();
  auto r = update({entry(ifc, bad)});
  EXPECT_EQ(r.status, 500) << r.body;
  m = metrics();
  EXPECT_EQ(sample(m, "l3afd_BPFDeployFailedCount",
                   {"ebpf_program=\"test-verifier-reject\"", "direction=\"xdp\"", where}),
            "1")
      << m;

  // Delete: stopped once, its start time gone.
  ASSERT_EQ(remove({names(ifc, {"xdp-counter"})}).status, 200);
  m = metrics();
  EXPECT_EQ(sample(m, "l3afd_BPFStopCount", {prog, where}), "1") << m;
  EXPECT_EQ(sample(m, "l3afd_BPFStartTime", {prog, where}), "") << "dropped at stop";
}

TEST_F(Metrics, ApiRequestsAreCountedByRoutePatternAndStatus) {
  testing::VethPair v;
  ASSERT_EQ(v.error(), "");
  ASSERT_TRUE(start_daemon());
  const std::string ifc = v.root_name();
  ASSERT_EQ(add({entry(ifc, xdp_counter())}).status, 200);
  ASSERT_EQ(get(ifc).status, 200);
  ASSERT_EQ(get(ifc).status, 200);
  auto bad = xdp_counter();
  bad.prog_type = "no-such-type";
  ASSERT_EQ(add({entry(ifc, bad)}).status, 400);
  const std::string m = metrics();
  const std::string name = "l3afd_api_request_duration_seconds";
  EXPECT_NE(m.find("# TYPE " + name + " histogram"), std::string::npos) << m;
  EXPECT_EQ(
      sample(m, name + "_count",
             {"method=\"GET\"", "route=\"/l3af/configs/{version}/{iface}\"", "status=\"200\""}),
      "2")
      << "the interface name is not a label value: " << m;
  EXPECT_EQ(sample(m, name + "_count",
                   {"method=\"POST\"", "route=\"/l3af/configs/{version}/add\"", "status=\"200\""}),
            "1")
      << m;
  EXPECT_EQ(sample(m, name + "_count",
                   {"method=\"POST\"", "route=\"/l3af/configs/{version}/add\"", "status=\"400\""}),
            "1")
      << m;
  EXPECT_EQ(m.find("route=\"/l3af/configs/v1/"), std::string::npos) << "no raw path as a label";
  // The add took a real load: its sum is positive and its +Inf bucket holds it.
  const std::string sum =
      sample(m, name + "_sum", {"route=\"/l3af/configs/{version}/add\"", "status=\"200\""});
  ASSERT_FALSE(sum.empty()) << m;
  EXPECT_GT(std::stod(sum), 0.0);
  EXPECT_EQ(sample(m, name + "_bucket",
                   {"route=\"/l3af/configs/{version}/add\"", "status=\"200\"", "le=\"+Inf\""}),
            "1");
}

TEST_F(Metrics, AKeyRangeOfAHashMapIsOneSeriesPerKeyAndAnArrayTooSmallForItIsRefused) {
  testing::VethPair v;
  ASSERT_EQ(v.error(), "");
  ASSERT_TRUE(start_daemon());
  const std::string ifc = v.root_name();
  auto p = xdp_counter();
  p.map_args = std::vector<model::MapArg>{
      {"xdp_counter_config", std::vector<model::KeyValue>{{0, 5}, {1, 6}, {2, 7}}}};
  model::MonitorMap range{"xdp_counter_config", 0, "scalar"};
  range.key_end = 2;
  p.monitor_maps = std::vector<model::MonitorMap>{range};
  ASSERT_EQ(add({entry(ifc, p)}).status, 200);
  std::string m;
  for (int i = 0; i < 50; ++i) {  // bounded: the sampler's first tick is at most 1 s away
    m = metrics();
    if (!sample(m, "l3afd_BPFMonitorMap", {"xdp_counter_config_2_scalar"}).empty()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_EQ(sample(m, "l3afd_BPFMonitorMap", {"map_name=\"xdp_counter_config_0_scalar\""}), "5")
      << m;
  EXPECT_EQ(sample(m, "l3afd_BPFMonitorMap", {"map_name=\"xdp_counter_config_1_scalar\""}), "6");
  EXPECT_EQ(sample(m, "l3afd_BPFMonitorMap", {"map_name=\"xdp_counter_config_2_scalar\""}), "7");
  EXPECT_NE(get(ifc).body.find(R"("key_end": 2)"), std::string::npos) << "the extension is kept";

  // xdp_counter_packets is an array of one entry: keys 0..3 cannot all be monitored.
  const std::string before = get(ifc).body;
  auto q = xdp_counter("1.0", 9);
  model::MonitorMap too_many{"xdp_counter_packets", 0, "scalar"};
  too_many.key_end = 3;
  q.monitor_maps = std::vector<model::MonitorMap>{too_many};
  const auto r = update({entry(ifc, q)});
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_NE(r.body.find("no room for key 1"), std::string::npos) << r.body;
  EXPECT_EQ(get(ifc).body, before) << "nothing changed";
}

}  // namespace
}  // namespace l3afd::e2e
