// Companion programs, self-loading programs and probes through the real daemon (issue 9):
// - the talk's ratelimiting payload as written (only host, interface and artifact names
//   changed): its binary runs with the exact command line, loads the program itself, joins the
//   chain through a staging array and cuts a SYN burst to the rate; delete stops it and leaves
//   no pin;
// - a self-loading program inserted into the middle of a chain and removed again under a UDP
//   flood never lets a packet skip the chain (first and last counters equal);
// - companion faults with the scriptable test_companion binary: crash → restart (RestartCount),
//   crash loop → given up (l3afd_BPFRunning 0), hung one-shot → timeout and exact rollback,
//   SIGTERM-ignoring daemon → killed after the grace while the API answers, memory limit,
//   kill -9 of the daemon → the companion is adopted (same pid, no duplicate, no zombie);
// - a payload of the shape of L3AF's own e2e add payload, add / update / delete, byte-exact GET;
// - confinement (issue 12): a companion with the `companion` extension runs as its user and group
//   with exactly the granted environment and no_new_privs (one without it: root, empty
//   environment), is restarted with new settings by an update that changes only them, and keeps
//   them through the store, a kill -9 and a graceful restart; a bad extension is a 400;
// - probes: a tracepoint and a uprobe count exactly the events the test makes; kprobe refused.
#include <arpa/inet.h>
#include <grp.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <pwd.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <sstream>
#include <thread>

#include "core/unique_fd.h"
#include "e2e/daemon/daemon_fixture.h"
#include "e2e/daemon/traffic.h"
#include "model/l3af_json.h"
#include "support/netns.h"
#include "support/packet.h"

namespace l3afd::e2e {
namespace {

using model::BpfProgram;
using namespace std::chrono_literals;

constexpr const char* kAddr = "198.18.200.1";  ///< DaemonFixture::entry()'s ipv4_address

// ---- processes -----------------------------------------------------------------------------

/// Children of `pid`, over all its threads (/proc/<pid>/task/*/children).
std::vector<pid_t> children_of(pid_t pid) {
  std::vector<pid_t> out;
  std::error_code ec;
  for (const auto& t : fs::directory_iterator("/proc/" + std::to_string(pid) + "/task", ec)) {
    std::ifstream in(t.path() / "children");
    pid_t c = 0;
    while (in >> c) out.push_back(c);
  }
  return out;
}

std::vector<std::string> cmdline(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/cmdline", std::ios::binary);
  std::vector<std::string> out;
  std::string arg;
  while (std::getline(in, arg, '\0')) out.push_back(arg);
  return out;
}

/// Process state letter from /proc/<pid>/stat ('\0' when the process is gone).
char state_of(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string s;
  std::getline(in, s, '\0');
  const auto close = s.rfind(')');
  return close == std::string::npos || close + 2 >= s.size() ? '\0' : s[close + 2];
}
bool alive(pid_t pid) {
  const char st = state_of(pid);
  return st != '\0' && st != 'Z';
}

/// Polls `pred` every 50 ms for up to `limit` (a bound against hanging, not an assertion).
template <class F>
bool eventually(F pred, std::chrono::milliseconds limit = 20s) {
  const auto end = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < end) {
    if (pred()) return true;
    std::this_thread::sleep_for(50ms);
  }
  return pred();
}

std::string read_text(const fs::path& p) {
  std::ifstream in(p);
  std::string s;
  std::getline(in, s, '\0');
  return s;
}

pid_t pid_in(const fs::path& p) {
  try {
    return static_cast<pid_t>(std::stol(read_text(p)));
  } catch (...) {
    return 0;
  }
}

/// Companions of the daemon whose executable is named `name`.
std::vector<pid_t> companions_named(pid_t daemon, const std::string& name) {
  std::vector<pid_t> out;
  for (pid_t c : children_of(daemon)) {
    auto argv = cmdline(c);
    if (!argv.empty() && fs::path(argv[0]).filename() == name) out.push_back(c);
  }
  return out;
}

// ---- payloads ------------------------------------------------------------------------------

/// The talk's ratelimiting payload (../shared/seeds), host, interface and artifact names
/// changed for Linux and this host, everything else as written.
std::string talk_payload(const std::string& host, const std::string& iface) {
  return R"([
  {
    "host_name": ")" +
         host + R"(",
    "iface": ")" +
         iface + R"(",
    "bpf_programs": {
      "xdp_ingress": [
        {
          "name": "ratelimiting",
          "seq_id": 1,
          "artifact": "l3af_ratelimiting.tar.gz",
          "map_name": "xdp_rl_ingress_next_prog",
          "cmd_start": "ratelimiting",
          "version": "latest",
          "user_program_daemon": true,
          "admin_status": "enabled",
          "prog_type": "xdp",
          "cfg_version": 1,
          "start_args": {
            "ports": "80,8080,8081",
            "rate": "2"
          },
          "monitor_maps": [
            {
              "name": "rl_drop_count_map",
              "key": 0,
              "aggregator": "scalar"
            },
            {
              "name": "rl_recv_count_map",
              "key": 0,
              "aggregator": "max-rate"
            }
          ]
        }
      ]
    }
  }
])";
}

/// Our test-companion package: the xdp/tc counters with the scriptable test_companion binary.
BpfProgram test_companion(const std::string& prog_type, bool daemon, json::Object args) {
  BpfProgram p;
  p.name = "test-companion";
  p.seq_id = 2;
  p.artifact = "l3af_test_companion.tar.gz";
  p.version = "1.0";
  p.admin_status = "enabled";
  p.prog_type = prog_type;
  p.object_file = prog_type == "xdp" ? "xdp_counter.bpf.o" : "tc_counter.bpf.o";
  p.entry_function_name = prog_type == "xdp" ? "xdp_counter" : "tc_counter";
  p.map_name = prog_type == "xdp" ? "xdp_counter_next_prog" : "tc_counter_next_prog";
  p.cmd_start = "test_companion";
  p.user_program_daemon = daemon;
  p.start_args = std::move(args);
  return p;
}

json::Object args(std::initializer_list<std::pair<const std::string, std::string>> kv) {
  json::Object o;
  for (const auto& [k, v] : kv) o[k] = json::Value(v);
  return o;
}

/// RestartCount of program `name` in /bpfs/<iface> (raw JSON scan; -1 if absent).
int restart_count(const std::string& bpfs_body, const std::string& name) {
  auto at = bpfs_body.find("\"name\":\"" + name + "\"");
  if (at == std::string::npos) at = bpfs_body.find("\"name\": \"" + name + "\"");
  if (at == std::string::npos) return -1;
  const auto rc = bpfs_body.find("\"RestartCount\":", at);
  if (rc == std::string::npos) return -1;
  return std::atoi(bpfs_body.c_str() + rc + 15);
}

/// The l3afd_BPFRunning sample of program `name` ("" if absent).
std::string running_sample(const std::string& metrics, const std::string& name) {
  std::istringstream in(metrics);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("l3afd_BPFRunning{", 0) == 0 &&
        line.find("ebpf_program=\"" + name + "\"") != std::string::npos) {
      return line.substr(line.rfind(' ') + 1);
    }
  }
  return "";
}

class Companions : public DaemonFixture {
 protected:
  /// The raw /bpfs/<iface> body of the debug listener.
  std::string bpfs_raw(const std::string& ifc) const {
    return test::request("127.0.0.1", debug_port_, "GET", "/bpfs/" + ifc).body;
  }
};

// ---- the talk's payload --------------------------------------------------------------------

TEST_F(Companions, TalkRatelimitingPayloadRunsItsBinaryInTheChainAndCutsASynBurstToTheRate) {
  testing::VethPair v;
  ASSERT_EQ(v.error(), "");
  DaemonOptions opt;
  opt.chaining = true;
  ASSERT_TRUE(start_daemon(opt));
  const std::string ifc = v.root_name();
  const std::string body = talk_payload(host(), ifc);
  auto r = api("POST", "/l3af/configs/v1/add", body);
  ASSERT_EQ(r.status, 200) << r.body;

  // The binary runs with exactly the reference command line (§11.1).
  const auto rl = companions_named(daemon_.pid(), "ratelimiting");
  ASSERT_EQ(rl.size(), 1u);
  const auto argv = cmdline(rl.front());
  ASSERT_EQ(argv.size(), 7u) << ::testing::PrintToString(argv);
  EXPECT_EQ(fs::path(argv[0]).filename(), "ratelimiting");
  EXPECT_EQ(argv[0].rfind((dir_.path() / "bpf").string(), 0), 0u) << "run from the package";
  EXPECT_EQ(argv[1], "--iface=" + ifc);
  EXPECT_EQ(argv[2], "--direction=xdpingress");
  EXPECT_EQ(argv[3], "--version=latest");
  const std::string staging_prefix =
      "--map-name=/sys/fs/bpf/" + ifc + "/ratelimiting/latest/l3afd_staging_";
  EXPECT_EQ(argv[4].rfind(staging_prefix, 0), 0u) << argv[4];
  EXPECT_EQ(argv[5], "--ports=80,8080,8081");
  EXPECT_EQ(argv[6], "--rate=2");

  // It sits in the chain behind the root, with the program it loaded itself.
  const auto list = bpfs(ifc);
  ASSERT_EQ(list.size(), 2u);
  EXPECT_EQ(list[0].name, "xdp-root");
  EXPECT_EQ(list[1].name, "ratelimiting");
  EXPECT_NE(list[1].prog_id, 0u);
  EXPECT_EQ(list[1].map_name_path,
            "/sys/fs/bpf/" + ifc + "/ratelimiting/latest/xdp_rl_ingress_next_prog");
  EXPECT_EQ(running_sample(metrics(), "ratelimiting"), "1");
  EXPECT_NE(metrics().find("l3afd_chain_length{direction=\"xdpingress\",host=\"" + host() +
                           "\",interface_name=\"" + ifc + "\"} 1\n"),
            std::string::npos)
      << metrics();

  // GET echoes the payload byte for byte (as the reference renders it).
  auto decoded = model::decode_programs(body);
  ASSERT_TRUE(decoded);
  auto g = get(ifc);
  ASSERT_EQ(g.status, 200);
  EXPECT_EQ(g.body,
            model::encode(view(ifc, "", decoded->front().bpf_programs->xdp_ingress->front())));

  // A burst of 20 SYNs to a limited port: every one is seen, at most twice the rate passes
  // (sliding window), the rest is dropped.
  // max-rate (§12.2): the first 1 s sample is the baseline (0), then the burst's increase.
  const std::string rate_series = "map_name=\"rl_recv_count_map_0_max-rate\"} ";
  ASSERT_TRUE(eventually([&] { return metrics().find(rate_series + "0\n") != std::string::npos; }))
      << metrics();
  ASSERT_EQ(send_syns(v, 20, 8080), 20);
  const fs::path maps = fs::path("/sys/fs/bpf") / ifc / "ratelimiting" / "latest";
  ASSERT_TRUE(eventually([&] { return u64_counter(maps / "rl_recv_count_map") == 20u; }))
      << u64_counter(maps / "rl_recv_count_map").value_or(0);
  const uint64_t dropped = u64_counter(maps / "rl_drop_count_map").value_or(0);
  // The 20 frames take well under a millisecond: one sample interval sees (nearly) all of them.
  auto max_rate = [&] {
    const std::string m = metrics();
    const auto at = m.find(rate_series);
    return at == std::string::npos ? -1L : std::atol(m.c_str() + at + rate_series.size());
  };
  EXPECT_TRUE(eventually([&] { return max_rate() >= 10; })) << metrics();
  EXPECT_LE(max_rate(), 20);
  EXPECT_NE(
      metrics().find("map_name=\"rl_drop_count_map_0_scalar\"} " + std::to_string(dropped) + "\n"),
      std::string::npos)
      << metrics();
  EXPECT_GE(dropped, 16u);
  EXPECT_LE(dropped, 19u) << "the first SYNs of the burst pass";

  // The binary dies: it is restarted with a fresh staging array, while the program it loaded
  // first stays in the chain (same program id) on the same pinned maps.
  const uint32_t prog_before = list[1].prog_id;
  ASSERT_EQ(::kill(rl.front(), SIGKILL), 0);
  std::vector<pid_t> again;
  ASSERT_TRUE(eventually([&] {
    again = companions_named(daemon_.pid(), "ratelimiting");
    return again.size() == 1 && again.front() != rl.front();
  })) << "not restarted";
  const auto argv2 = cmdline(again.front());
  ASSERT_EQ(argv2.size(), 7u);
  EXPECT_EQ(argv2[4],
            "--map-name=/sys/fs/bpf/" + ifc + "/ratelimiting/latest/l3afd_staging_restart");
  EXPECT_EQ(bpfs(ifc).at(1).prog_id, prog_before) << "the chained program kept running";
  EXPECT_TRUE(eventually([&] { return restart_count(bpfs_raw(ifc), "ratelimiting") == 1; }));

  // Delete: the binary is stopped, the program leaves the chain, no pin of it stays.
  r = remove({names(ifc, {"ratelimiting"})});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_TRUE(eventually([&] { return !alive(again.front()); })) << "companion still running";
  EXPECT_TRUE(eventually([&] { return !fs::exists(maps); }))
      << "pins of ratelimiting left in " << maps;
  EXPECT_TRUE(companions_named(daemon_.pid(), "ratelimiting").empty());
}

// ---- a self-loading program in the middle of a chain under traffic -------------------------

TEST_F(Companions, SelfLoadingProgramInsertedAndRemovedMidChainUnderAFloodSkipsNoPacket) {
  testing::VethPair v;
  ASSERT_EQ(v.error(), "");
  DaemonOptions opt;
  opt.chaining = true;
  ASSERT_TRUE(start_daemon(opt));
  const std::string ifc = v.root_name();
  auto e = entry(ifc);
  e.bpf_programs = model::BpfPrograms{};
  e.bpf_programs->xdp_ingress =
      std::vector<BpfProgram>{chain_counter('a', 1), chain_counter('c', 3)};
  ASSERT_EQ(add({e}).status, 200);

  Traffic traffic(v, 120s);
  ASSERT_TRUE(traffic.ok());
  std::this_thread::sleep_for(200ms);
  auto talk = model::decode_programs(talk_payload(host(), ifc));
  ASSERT_TRUE(talk);
  auto rl = talk->front().bpf_programs->xdp_ingress->front();
  rl.seq_id = 2;
  auto mid = entry(ifc);
  mid.bpf_programs = model::BpfPrograms{};
  mid.bpf_programs->xdp_ingress = std::vector<BpfProgram>{rl};
  auto r = add({mid});
  ASSERT_EQ(r.status, 200) << r.body;
  const auto list = bpfs(ifc);
  ASSERT_EQ(list.size(), 4u);
  EXPECT_EQ(list[2].name, "ratelimiting") << "between chain-a and chain-c";
  std::this_thread::sleep_for(300ms);
  r = remove({names(ifc, {"ratelimiting"})});
  ASSERT_EQ(r.status, 200) << r.body;
  std::this_thread::sleep_for(300ms);
  traffic.stop();
  EXPECT_GT(traffic.sent(), 1000u);

  // Read when quiet: both counters stable over two reads, then equal.
  std::optional<uint64_t> a, c;
  for (int i = 0; i < 50; ++i) {
    std::this_thread::sleep_for(100ms);
    auto a1 = percpu_counter(fs::path("/sys/fs/bpf") / ifc / "chain-a" / "1_0" / "chain_packets");
    auto c1 = percpu_counter(fs::path("/sys/fs/bpf") / ifc / "chain-c" / "1_0" / "chain_packets");
    if (a1 == a && c1 == c) break;
    a = a1;
    c = c1;
  }
  ASSERT_TRUE(a && c);
  EXPECT_GT(*a, 1000u);
  EXPECT_EQ(*a, *c) << "packets skipped part of the chain while it changed";
}

// ---- faults --------------------------------------------------------------------------------

TEST_F(Companions, ACrashedCompanionIsRestartedAndACrashLoopIsGivenUp) {
  testing::VethPair v;
  ASSERT_EQ(v.error(), "");
  ASSERT_TRUE(start_daemon());
  const std::string ifc = v.root_name();
  const fs::path pidf = dir_.path() / "companion.pid";
  auto p = test_companion("xdp", true, args({{"pid-file", pidf.string()}, {"sleep-ms", "-1"}}));
  auto r = add({entry(ifc, p)});
  ASSERT_EQ(r.status, 200) << r.body;
  ASSERT_TRUE(eventually([&] { return pid_in(pidf) > 0; }));
  const pid_t first = pid_in(pidf);
  ASSERT_EQ(::kill(first, SIGKILL), 0);
  ASSERT_TRUE(eventually([&] { return pid_in(pidf) != first && alive(pid_in(pidf)); }))
      << "not restarted";
  EXPECT_TRUE(eventually([&] { return restart_count(bpfs_raw(ifc), "test-companion") == 1; }, 5s))
      << bpfs_raw(ifc);
  // The new process may write its pid file a moment before the engine records it as running.
  EXPECT_TRUE(eventually([&] { return running_sample(metrics(), "test-companion") == "1"; }, 5s))
      << metrics();
  EXPECT_NE(metrics().find("l3afd_companion_restarts_total{direction=\"xdpingress\","
                           "ebpf_program=\"test-companion\""),
            std::string::npos)
      << metrics();
  EXPECT_FALSE(alive(first));
  EXPECT_NE(state_of(first), 'Z') << "the crashed companion was reaped";

  // A companion that exits at once, every time: restarted max-ebpf-restart-count (3) times,
  // then given up and reported down.
  auto loop = test_companion("xdp", true, args({{"code", "1"}}));
  r = update({entry(ifc, loop)});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_TRUE(eventually([&] { return running_sample(metrics(), "test-companion") == "0"; }, 30s))
      << metrics();
  EXPECT_TRUE(eventually(
      [&] { return daemon_log().find("is not restarted again") != std::string::npos; }, 30s));
  EXPECT_EQ(restart_count(bpfs_raw(ifc), "test-companion"), 3);
  for (pid_t c : children_of(daemon_.pid())) EXPECT_NE(state_of(c), 'Z') << "zombie " << c;
}

TEST_F(Companions, AHungOneShotTimesOutAndTheRequestRollsBackExactly) {
  testing::VethPair v;
  ASSERT_EQ(v.error(), "");
  DaemonOptions opt;
  opt.user_program_timeout = "2s";
  ASSERT_TRUE(start_daemon(opt));
  const std::string ifc = v.root_name();
  const auto before = kernel_snapshot({ifc});
  const std::string state_before = state_bytes();
  auto hang = test_companion("xdp", false, args({{"sleep-ms", "-1"}}));
  auto r = add({entry(ifc, hang)});
  EXPECT_EQ(r.status, 500) << r.body;
  EXPECT_NE(r.body.find("run companion"), std::string::npos) << r.body;
  EXPECT_EQ(kernel_snapshot({ifc}), before) << kernel_snapshot({ifc}).describe();
  EXPECT_EQ(state_bytes(), state_before);
  EXPECT_TRUE(companions_named(daemon_.pid(), "test_companion").empty()) << "killed and reaped";
  EXPECT_EQ(get(ifc).body, model::encode(view(ifc, ""))) << "the interface was never added";
}

TEST_F(Companions, AMemoryLimitIsEnforcedBeforeTheCompanionRuns) {
  testing::VethPair v;
  ASSERT_EQ(v.error(), "");
  ASSERT_TRUE(start_daemon());
  const std::string ifc = v.root_name();
  // test_companion exits 3 when an allocation fails: with memory (RLIMIT_AS, set before exec)
  // at 256 MiB a 512 MiB allocation fails every time; the same companion with 16 MiB runs.
  const fs::path pidf = dir_.path() / "small.pid";
  auto hungry = test_companion("xdp", true, args({{"alloc", "536870912"}, {"sleep-ms", "-1"}}));
  hungry.memory = 256 * 1024 * 1024;
  ASSERT_EQ(add({entry(ifc, hungry)}).status, 200);
  EXPECT_TRUE(eventually([&] {
    return daemon_log().find("test-companion/1_0 exited (status 3)") != std::string::npos;
  })) << "the allocation beyond the limit must fail";
  auto modest = test_companion(
      "xdp", true, args({{"alloc", "16777216"}, {"pid-file", pidf.string()}, {"sleep-ms", "-1"}}));
  modest.memory = 256 * 1024 * 1024;
  ASSERT_EQ(update({entry(ifc, modest)}).status, 200);
  ASSERT_TRUE(eventually([&] { return pid_in(pidf) > 0; }));
  std::this_thread::sleep_for(500ms);
  EXPECT_TRUE(alive(pid_in(pidf))) << "16 MiB fit under the limit";
}

TEST_F(Companions, ACompanionIgnoringSigtermIsKilledAfterTheGraceWhileTheApiAnswers) {
  testing::VethPair v;
  ASSERT_EQ(v.error(), "");
  DaemonOptions opt;
  opt.shutdown_timeout = "3s";
  ASSERT_TRUE(start_daemon(opt));
  const std::string ifc = v.root_name();
  const fs::path pidf = dir_.path() / "stubborn.pid";
  auto p = test_companion(
      "xdp", true, args({{"ignore-term", "1"}, {"pid-file", pidf.string()}, {"sleep-ms", "-1"}}));
  ASSERT_EQ(add({entry(ifc, p)}).status, 200);
  ASSERT_TRUE(eventually([&] { return pid_in(pidf) > 0; }));
  const pid_t pid = pid_in(pidf);
  auto r = remove({names(ifc, {"test-companion"})});
  ASSERT_EQ(r.status, 200) << r.body;
  // The stop is a release step (after retire-grace-period, 1 s): SIGTERM then, SIGKILL 3 s later.
  int answered = 0;
  const auto poll_api = [&] {
    if (api("GET", "/l3af/configs/v1/" + ifc).status == 200) ++answered;
  };
  for (int i = 0; i < 30; ++i) {  // 1.5 s
    poll_api();
    std::this_thread::sleep_for(50ms);
  }
  EXPECT_TRUE(alive(pid)) << "SIGTERM alone must not have ended it";
  const bool gone = eventually([&] {
    poll_api();
    return !alive(pid);
  });
  EXPECT_TRUE(gone) << "not killed after the grace period";
  EXPECT_GE(answered, 30) << "the API kept answering during the grace period";
}

TEST_F(Companions, AfterKill9TheRestartedDaemonAdoptsTheCompanionInsteadOfStartingASecond) {
  testing::VethPair v;
  ASSERT_EQ(v.error(), "");
  ASSERT_TRUE(start_daemon());
  const std::string ifc = v.root_name();
  const fs::path pidf = dir_.path() / "adopted.pid";
  auto p = test_companion("xdp", true, args({{"pid-file", pidf.string()}, {"sleep-ms", "-1"}}));
  ASSERT_EQ(add({entry(ifc, p)}).status, 200);
  ASSERT_TRUE(eventually([&] { return pid_in(pidf) > 0; }));
  const pid_t pid = pid_in(pidf);
  kill_daemon();
  ASSERT_TRUE(alive(pid)) << "the companion outlives a crash of the daemon";
  ASSERT_TRUE(restart_daemon());
  std::this_thread::sleep_for(1s);
  EXPECT_EQ(pid_in(pidf), pid) << "no second copy was started";
  EXPECT_TRUE(alive(pid));
  EXPECT_TRUE(companions_named(daemon_.pid(), "test_companion").empty())
      << "adopted, not started (the old one is init's child now)";
  EXPECT_NE(daemon_log().find("adopted from the previous run"), std::string::npos);
  // The adopted companion is still supervised: delete stops it.
  ASSERT_EQ(remove({names(ifc, {"test-companion"})}).status, 200);
  EXPECT_TRUE(eventually([&] { return !alive(pid); }));
}

// Graceful restart (issue 11): the companion keeps running (adopted, not restarted), and the
// read end of its output pipe is handed to the new process: what it prints afterwards reaches
// its log, and it is not killed by SIGPIPE when the old process is gone.
TEST_F(Companions, AGracefulRestartAdoptsTheCompanionAndKeepsReadingItsOutput) {
  testing::VethPair v;
  ASSERT_EQ(v.error(), "");
  ASSERT_TRUE(start_daemon());
  const std::string ifc = v.root_name();
  const fs::path pidf = dir_.path() / "handed.pid";
  auto p = test_companion("xdp", true,
                          args({{"pid-file", pidf.string()},
                                {"say-on-usr2", "said-after-the-restart"},
                                {"sleep-ms", "-1"}}));
  ASSERT_EQ(add({entry(ifc, p)}).status, 200);
  ASSERT_TRUE(eventually([&] { return pid_in(pidf) > 0; }));
  const pid_t pid = pid_in(pidf);
  auto r = graceful_restart(std::string("v") + L3AFD_VERSION);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_NE(daemon_log().find("(output pipe handed over)"), std::string::npos) << daemon_log();
  ASSERT_EQ(::kill(pid, SIGUSR2), 0);
  const auto logged = [&] {
    std::error_code ec;
    for (const auto& f :
         fs::recursive_directory_iterator(store_.parent_path() / "companion-logs", ec)) {
      std::ifstream in(f.path());
      std::stringstream text;
      text << in.rdbuf();
      if (text.str().find("said-after-the-restart") != std::string::npos) return true;
    }
    return false;
  };
  EXPECT_TRUE(eventually(logged)) << "the new process reads the companion's output";
  EXPECT_TRUE(alive(pid)) << "not killed by a write to a pipe without reader";
  EXPECT_EQ(pid_in(pidf), pid) << "adopted, not started again";
  ASSERT_EQ(remove({names(ifc, {"test-companion"})}).status, 200);
  EXPECT_TRUE(eventually([&] { return !alive(pid); })) << "still supervised: delete stops it";
}

// ---- the shape of L3AF's e2e add payload ---------------------------------------------------

TEST_F(Companions, PayloadOfTheShapeOfL3afsOwnE2eSuiteAddsUpdatesAndDeletes) {
  testing::VethPair v;
  ASSERT_EQ(v.error(), "");
  DaemonOptions opt;
  opt.chaining = true;
  ASSERT_TRUE(start_daemon(opt));
  const std::string ifc = v.root_name();
  const fs::path oneshot_argv = dir_.path() / "oneshot.argv";
  const fs::path in_pid = dir_.path() / "in.pid";
  const fs::path eg_pid = dir_.path() / "eg.pid";
  auto xdp1 = xdp_counter();
  xdp1.seq_id = 1;
  xdp1.map_name = "xdp_counter_next_prog";
  auto xdp2 = test_companion("xdp", false, args({{"argv-file", oneshot_argv.string()}}));
  auto tci = test_companion("tc", true, args({{"pid-file", in_pid.string()}, {"sleep-ms", "-1"}}));
  auto tce = test_companion("tc", true, args({{"pid-file", eg_pid.string()}, {"sleep-ms", "-1"}}));
  auto e = entry(ifc);
  e.bpf_programs = model::BpfPrograms{};
  e.bpf_programs->xdp_ingress = std::vector<BpfProgram>{xdp1, xdp2};
  e.bpf_programs->tc_ingress = std::vector<BpfProgram>{tci};
  e.bpf_programs->tc_egress = std::vector<BpfProgram>{tce};
  auto r = add({e});
  ASSERT_EQ(r.status, 200) << r.body;

  // The one-shot ran once, before the request returned, with the exact command line.
  const std::string argv = read_text(oneshot_argv);
  EXPECT_NE(argv.find("--iface=" + ifc + "\n--direction=xdpingress\n--version=1_0\n--argv-file="),
            std::string::npos)
      << argv;
  ASSERT_TRUE(eventually([&] { return alive(pid_in(in_pid)) && alive(pid_in(eg_pid)); }));
  const pid_t in1 = pid_in(in_pid), eg1 = pid_in(eg_pid);
  EXPECT_NE(in1, eg1);
  auto expected = view(ifc, kAddr);
  expected.bpf_programs->xdp_ingress = std::vector<BpfProgram>{xdp1, xdp2};
  expected.bpf_programs->tc_ingress = std::vector<BpfProgram>{tci};
  expected.bpf_programs->tc_egress = std::vector<BpfProgram>{tce};
  EXPECT_EQ(get(ifc).body, model::encode(expected));

  // Update: new arguments for the ingress companion restart it; egress keeps its process.
  (*tci.start_args)["say"] = json::Value(std::string("restarted"));
  e.bpf_programs->tc_ingress = std::vector<BpfProgram>{tci};
  r = update({e});
  ASSERT_EQ(r.status, 200) << r.body;
  ASSERT_TRUE(eventually([&] { return pid_in(in_pid) != in1 && alive(pid_in(in_pid)); }));
  EXPECT_TRUE(eventually([&] { return !alive(in1); }));
  EXPECT_EQ(pid_in(eg_pid), eg1);
  EXPECT_TRUE(alive(eg1));
  expected.bpf_programs->tc_ingress = std::vector<BpfProgram>{tci};
  EXPECT_EQ(get(ifc).body, model::encode(expected));

  r = remove(
      {names(ifc, {"xdp-counter", "test-companion"}, {"test-companion"}, {"test-companion"})});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_TRUE(eventually([&] { return !alive(pid_in(in_pid)) && !alive(eg1); }));
  EXPECT_EQ(get(ifc).body, model::encode(view(ifc, kAddr)));
}

// ---- confinement (issue 12, docs/compatibility.md §11.7) ------------------------------------

/// "Key:" line of /proc/<pid>/status, its value with the tabs as single spaces ("" if absent).
std::string status_line(pid_t pid, const std::string& key) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(in, line);) {
    if (line.rfind(key + ":", 0) != 0) continue;
    std::string v = line.substr(key.size() + 1);
    std::replace(v.begin(), v.end(), '\t', ' ');
    v.erase(0, v.find_first_not_of(' '));
    return v;
  }
  return "";
}

/// /proc/<pid>/environ, one "NAME=value" per element.
std::vector<std::string> environ_of(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/environ", std::ios::binary);
  std::vector<std::string> out;
  for (std::string v; std::getline(in, v, '\0');) out.push_back(v);
  return out;
}

/// "<id> <id> <id> <id>": what the Uid:/Gid: line of a process shows when real, effective, saved
/// and file-system ids are all `id`.
std::string four(unsigned id) {
  const std::string s = std::to_string(id);
  return s + " " + s + " " + s + " " + s;
}

class ConfinedCompanions : public Companions {
 protected:
  void SetUp() override {
    // The operator's grant (docs/operations.md "Companion confinement"): the companion's user
    // must be able to enter the package cache (bpf-dir, below the test's 0700 temp dir) and to
    // write where its start_args point it.
    fs::permissions(dir_.path(), fs::perms::owner_all | fs::perms::group_read |
                                     fs::perms::group_exec | fs::perms::others_read |
                                     fs::perms::others_exec);
    fs::create_directories(out());
    fs::permissions(out(), fs::perms::all);
  }
  fs::path out() const { return dir_.path() / "out"; }
  static passwd account(const char* name) {
    const passwd* pw = ::getpwnam(name);
    EXPECT_NE(pw, nullptr) << name;
    return pw != nullptr ? *pw : passwd{};
  }
};

TEST_F(ConfinedCompanions, RunAsTheGivenUserWithTheGrantedEnvironmentThroughUpdatesAndRestarts) {
  testing::VethPair v;
  ASSERT_EQ(v.error(), "");
  ASSERT_TRUE(start_daemon());
  const std::string ifc = v.root_name();
  const passwd nobody = account("nobody");
  const group* nogroup = ::getgrnam("nogroup");
  ASSERT_NE(nogroup, nullptr);
  const gid_t nogroup_gid = nogroup->gr_gid;
  const fs::path confined_pid = out() / "confined.pid";
  const fs::path plain_pid = out() / "plain.pid";
  auto confined =
      test_companion("xdp", true, args({{"pid-file", confined_pid.string()}, {"sleep-ms", "-1"}}));
  confined.companion = model::CompanionSettings{
      .user = "nobody",
      .group = "nogroup",
      .environment = std::map<std::string, std::string>{{"L3AFD_GREETING", "hello world"}}};
  auto plain =
      test_companion("tc", true, args({{"pid-file", plain_pid.string()}, {"sleep-ms", "-1"}}));
  ASSERT_EQ(add({entry(ifc, confined, plain)}).status, 200);
  ASSERT_TRUE(eventually([&] { return pid_in(confined_pid) > 0 && pid_in(plain_pid) > 0; }));
  const pid_t pid = pid_in(confined_pid);

  // The running companion, as the kernel sees it.
  EXPECT_EQ(status_line(pid, "Uid"), four(nobody.pw_uid));
  EXPECT_EQ(status_line(pid, "Gid"), four(nogroup_gid));
  EXPECT_EQ(status_line(pid, "NoNewPrivs"), "1");
  EXPECT_EQ(status_line(pid, "CapEff"), "0000000000000000");
  EXPECT_EQ(environ_of(pid), std::vector<std::string>{"L3AFD_GREETING=hello world"});
  const fs::path exe = fs::read_symlink("/proc/" + std::to_string(pid) + "/exe");
  EXPECT_EQ(fs::read_symlink("/proc/" + std::to_string(pid) + "/cwd"), exe.parent_path())
      << "the package directory";
  EXPECT_EQ(exe.string().rfind((dir_.path() / "bpf").string(), 0), 0u) << exe;
  // Without the extension: as the daemon (root), nothing in the environment, no_new_privs too.
  const pid_t root_pid = pid_in(plain_pid);
  EXPECT_EQ(status_line(root_pid, "Uid"), four(0));
  EXPECT_EQ(status_line(root_pid, "Gid"), four(0));
  EXPECT_EQ(status_line(root_pid, "NoNewPrivs"), "1");
  EXPECT_TRUE(environ_of(root_pid).empty()) << environ_of(root_pid).front();

  // GET echoes the extension; the program without it is rendered exactly as the original does.
  const std::string expected = model::encode(view(ifc, kAddr, confined, plain));
  EXPECT_EQ(get(ifc).body, expected);
  EXPECT_NE(expected.find("\"companion\": {"), std::string::npos);
  EXPECT_EQ(expected.find("\"companion\""), expected.rfind("\"companion\"")) << "once only";

  // An update that changes only the companion settings restarts it with them.
  auto as_daemon = confined;
  as_daemon.companion->user = "daemon";
  as_daemon.companion->group.reset();  // daemon's primary group
  as_daemon.companion->environment =
      std::map<std::string, std::string>{{"L3AFD_GREETING", "again"}};
  const passwd daemon_user = account("daemon");
  ASSERT_EQ(update({entry(ifc, as_daemon, plain)}).status, 200);
  ASSERT_TRUE(eventually([&] {
    return pid_in(confined_pid) != pid && alive(pid_in(confined_pid));
  })) << "not restarted";
  const pid_t second = pid_in(confined_pid);
  EXPECT_TRUE(eventually([&] { return !alive(pid); })) << "the old one was stopped";
  EXPECT_EQ(status_line(second, "Uid"), four(daemon_user.pw_uid));
  EXPECT_EQ(status_line(second, "Gid"), four(daemon_user.pw_gid));
  EXPECT_EQ(environ_of(second), std::vector<std::string>{"L3AFD_GREETING=again"});
  EXPECT_EQ(pid_in(plain_pid), root_pid) << "the other program's companion kept running";
  const std::string updated = model::encode(view(ifc, kAddr, as_daemon, plain));
  EXPECT_EQ(get(ifc).body, updated);

  // kill -9 and restart: restored from the store with the extension, the companion adopted.
  kill_daemon();
  ASSERT_TRUE(restart_daemon());
  EXPECT_EQ(get(ifc).body, updated) << "the store kept the extension";
  std::this_thread::sleep_for(1s);
  EXPECT_EQ(pid_in(confined_pid), second) << "adopted, not started again";
  EXPECT_TRUE(alive(second));

  // Graceful restart: the new process restores the same definitions and adopts it too.
  auto r = graceful_restart(std::string("v") + L3AFD_VERSION);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(get(ifc).body, updated) << "the hand-over kept the extension";
  EXPECT_EQ(pid_in(confined_pid), second);
  EXPECT_TRUE(alive(second));
  EXPECT_EQ(status_line(second, "Uid"), four(daemon_user.pw_uid));

  ASSERT_EQ(remove({names(ifc, {"test-companion"}, {"test-companion"})}).status, 200);
  EXPECT_TRUE(eventually([&] { return !alive(second) && !alive(root_pid); }));
}

TEST_F(ConfinedCompanions, ABadExtensionIsA400NamingTheFieldAndChangesNothing) {
  testing::VethPair v;
  ASSERT_EQ(v.error(), "");
  ASSERT_TRUE(start_daemon());
  const std::string ifc = v.root_name();
  const auto before = kernel_snapshot({ifc});
  const std::string state_before = state_bytes();
  auto p = test_companion("xdp", true, args({{"sleep-ms", "-1"}}));
  p.companion = model::CompanionSettings{
      .user = "l3afd-no-such-user",
      .environment = std::map<std::string, std::string>{{"BAD-NAME", "x"}}};
  auto r = add({entry(ifc, p)});
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_NE(r.body.find("/0/bpf_programs/xdp_ingress/0/companion/user"), std::string::npos)
      << r.body;
  EXPECT_NE(r.body.find("/0/bpf_programs/xdp_ingress/0/companion/environment/BAD-NAME"),
            std::string::npos)
      << r.body;
  // A misspelt member is refused too, rather than ignored.
  std::string body = model::encode(std::vector<model::L3afBpfPrograms>{entry(ifc, p)});
  const auto at = body.find("\"user\"");
  ASSERT_NE(at, std::string::npos);
  body.replace(at, 6, "\"usr\"");
  r = api("POST", "/l3af/configs/v1/add", body);
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_NE(r.body.find("/0/bpf_programs/xdp_ingress/0/companion/usr"), std::string::npos)
      << r.body;
  EXPECT_EQ(kernel_snapshot({ifc}), before) << kernel_snapshot({ifc}).describe();
  EXPECT_EQ(state_bytes(), state_before);
  EXPECT_TRUE(companions_named(daemon_.pid(), "test_companion").empty());
}

// ---- probes --------------------------------------------------------------------------------

/// The id of the link pinned at `pin` (0 if none).
uint32_t pinned_link_id(const fs::path& pin) {
  UniqueFd fd(bpf_obj_get(pin.c_str()));
  if (!fd) return 0;
  bpf_link_info info{};
  uint32_t len = sizeof(info);
  if (bpf_obj_get_info_by_fd(fd.get(), &info, &len) != 0) return 0;
  return info.id;
}

BpfProgram probe_counter() {
  BpfProgram p;
  p.name = "probe-counter";
  p.artifact = "l3af_probe_counter.tar.gz";
  p.version = "1.0";
  p.admin_status = "enabled";
  p.prog_type = "tracepoint";
  p.object_file = "probe_counter.bpf.o";
  p.map_args = std::vector<model::MapArg>{
      {"probe_counter_config",
       std::vector<model::KeyValue>{{0, static_cast<int64_t>(::getpid())}}}};
  p.monitor_maps = std::vector<model::MonitorMap>{{"probe_getppid_count", 0, "scalar"}};
  return p;
}

TEST_F(Companions, ProbesCountExactlyTheEventsTheTestMakesAndAKprobeIsRefused) {
  testing::VethPair v;
  ASSERT_EQ(v.error(), "");
  ASSERT_TRUE(start_daemon());
  const std::string ifc = v.root_name();
  auto e = entry(ifc);
  e.bpf_programs = model::BpfPrograms{};
  e.bpf_programs->probes = std::vector<BpfProgram>{probe_counter()};
  auto r = add({e});
  ASSERT_EQ(r.status, 200) << r.body;
  const fs::path maps = "/sys/fs/bpf/probe-counter/1_0";
  EXPECT_TRUE(fs::exists("/sys/fs/bpf/links/probe-counter/1_0/probe_getppid_tracepoint"));
  for (int i = 0; i < 7; ++i) (void)::getppid();
  const auto target = testing::run_command({L3AFD_PROBE_TARGET_BIN, "5"});
  ASSERT_EQ(target.exit_code, 0) << target.output;
  EXPECT_TRUE(eventually([&] { return u64_counter(maps / "probe_getppid_count") == 7u; }, 5s))
      << u64_counter(maps / "probe_getppid_count").value_or(0);
  EXPECT_EQ(u64_counter(maps / "probe_target_count"), 5u);
  auto g = get(ifc);
  EXPECT_NE(g.body.find("\"name\": \"probe-counter\""), std::string::npos) << g.body;
  // l3afd_BPFStartCount: +1 per probe attached, named <name>_<section prefix>_<hook> (§13).
  const std::string m = metrics();
  EXPECT_NE(m.find("l3afd_BPFStartCount{direction=\"\",ebpf_program=\"probe-counter_tracepoint_"
                   "syscalls\",host=\"" +
                   host() + "\",interface_name=\"\",ipv4_address=\"\"} 1"),
            std::string::npos)
      << m;

  // kill -9 and restart: the pinned links keep counting through the restart and are adopted
  // (same link, not attached twice: still exactly one count per call), GET lists the probe once.
  const auto link_before =
      pinned_link_id("/sys/fs/bpf/links/probe-counter/1_0/probe_getppid_tracepoint");
  ASSERT_NE(link_before, 0u);
  kill_daemon();
  for (int i = 0; i < 3; ++i) (void)::getppid();
  EXPECT_EQ(u64_counter(maps / "probe_getppid_count"), 10u) << "counting while the daemon is down";
  ASSERT_TRUE(restart_daemon());
  EXPECT_EQ(pinned_link_id("/sys/fs/bpf/links/probe-counter/1_0/probe_getppid_tracepoint"),
            link_before)
      << "adopted, not attached again";
  for (int i = 0; i < 2; ++i) (void)::getppid();
  EXPECT_EQ(u64_counter(maps / "probe_getppid_count"), 12u) << "one count per call";
  g = get(ifc);
  const auto first = g.body.find("\"name\": \"probe-counter\"");
  ASSERT_NE(first, std::string::npos) << g.body;
  EXPECT_EQ(g.body.find("\"name\": \"probe-counter\"", first + 1), std::string::npos)
      << "listed once: " << g.body;

  // Delete: the links go, the probes stop counting.
  model::L3afBpfProgramNames n = names(ifc);
  n.bpf_programs->probes = std::vector<std::string>{"probe-counter"};
  ASSERT_EQ(remove({n}).status, 200);
  EXPECT_TRUE(eventually([&] { return !fs::exists(maps); }));

  // A kprobe on a kernel without kprobes: 400 naming the object and saying why, nothing done.
  const auto before = kernel_snapshot({ifc});
  auto k = probe_counter();
  k.name = "kprobe-counter";
  k.artifact = "l3af_kprobe_counter.tar.gz";
  k.prog_type = "kprobe";
  k.object_file = "kprobe_counter.bpf.o";
  k.map_args.reset();
  k.monitor_maps.reset();
  e.bpf_programs->probes = std::vector<BpfProgram>{k};
  r = add({e});
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_NE(r.body.find("/0/bpf_programs/probes/0/object_file"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("kprobe"), std::string::npos) << r.body;
  EXPECT_EQ(kernel_snapshot({ifc}), before);
}

}  // namespace
}  // namespace l3afd::e2e
