// The health check's BPF side (docs/compatibility.md §15) in the real daemon on the real kernel:
// every ebpf-poll-interval it asks the libbpf adapter whether each deployed program is still
// loaded. While the daemon holds a program's fds the kernel keeps it, so a real kernel never
// loses one here; what this test proves is that the real adapter's answer is right for loaded
// and for adopted programs (after kill -9 and restart) — no false redeploy, ids unchanged,
// RestartCount 0, BPFRunning 1 across many polls; and interface drift (an interface deleted and
// created again under a program). The repair of a lost program is covered on
// the fake kernel (tests/component/engine/health_engine_test.cpp); programs whose pins vanished
// while the daemon was down are the restore's job (chain_test.cpp ChainRestart).
#include <bpf/bpf.h>
#include <gtest/gtest.h>
#include <linux/bpf.h>

#include <cerrno>
#include <chrono>
#include <filesystem>
#include <sstream>
#include <thread>

#include "core/unique_fd.h"
#include "e2e/daemon/daemon_fixture.h"
#include "e2e/daemon/kernel_probe.h"
#include "e2e/daemon/traffic.h"
#include "support/http_client.h"
#include "support/netns.h"

namespace l3afd::e2e {
namespace {

using model::BpfProgram;

/// Every l3afd_BPFRunning sample value, in order.
std::vector<std::string> running_samples(const std::string& metrics) {
  std::vector<std::string> out;
  std::istringstream in(metrics);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("l3afd_BPFRunning{", 0) == 0) out.push_back(line.substr(line.rfind(' ') + 1));
  }
  return out;
}

class HealthE2e : public DaemonFixture {
 protected:
  /// Program ids of /bpfs (root first), after several poll intervals have passed, checking that
  /// the health check left every program alone.
  std::vector<uint32_t> ids_after_polls(const std::string& ifc) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1500));  // about 15 polls
    std::vector<uint32_t> ids;
    for (const auto& d : bpfs(ifc)) {
      EXPECT_TRUE(prog_alive(d.prog_id)) << d.name;
      ids.push_back(d.prog_id);
    }
    const std::string raw = test::request("127.0.0.1", debug_port_, "GET", "/bpfs/" + ifc).body;
    EXPECT_EQ(raw.find("\"RestartCount\":1"), std::string::npos) << raw;
    EXPECT_EQ(running_samples(metrics()), (std::vector<std::string>{"1", "1", "1"})) << metrics();
    EXPECT_EQ(daemon_log().find("is not loaded in the kernel"), std::string::npos) << daemon_log();
    EXPECT_EQ(daemon_log().find("health check: redeploying"), std::string::npos);
    return ids;
  }
  /// xdp-counter on a veth, the veth deleted and created again (see the tests below).
  void delete_and_recreate(const std::string& poll_interval);
};

TEST_F(HealthE2e, LoadedAndAdoptedProgramsPassEveryPollWithoutARedeploy) {
  testing::VethPair v;
  ASSERT_EQ(v.error(), "");
  DaemonOptions o;
  o.chaining = true;
  o.ebpf_poll_interval = "100ms";
  ASSERT_TRUE(start_daemon(o));
  const std::string ifc = v.root_name();
  auto e = entry(ifc);
  if (!e.bpf_programs) e.bpf_programs = model::BpfPrograms{};
  e.bpf_programs->xdp_ingress =
      std::vector<BpfProgram>{chain_counter('a', 1), chain_counter('b', 2), chain_counter('c', 3)};
  auto r = add({e});
  ASSERT_EQ(r.status, 200) << r.body;
  std::vector<uint32_t> loaded;
  for (const auto& d : bpfs(ifc)) loaded.push_back(d.prog_id);
  ASSERT_EQ(loaded.size(), 4u);
  EXPECT_EQ(ids_after_polls(ifc), loaded) << "loaded programs: left alone";

  // kill -9 and restart: the new process adopts the live chain by fd from the pins.
  kill_daemon();
  ASSERT_TRUE(restart_daemon());
  ASSERT_NE(daemon_log().find("adopted as it runs"), std::string::npos) << daemon_log();
  EXPECT_EQ(ids_after_polls(ifc), loaded) << "adopted programs: left alone";
}

// Interface drift (issue 11, docs/operations.md "Interface drift"): `ip link del` of an
// interface with programs, then the same interface created again (another ifindex). The daemon
// reports the program down while the interface is gone (BPFRunning 0; GET, the state file and
// RestartCount unchanged), re-attaches it once the interface is back (BPFRunning 1, XDP
// attached, traffic counted again in the same pinned map), and an update afterwards works.
void HealthE2e::delete_and_recreate(const std::string& poll_interval) {
  testing::VethPair v;
  ASSERT_EQ(v.error(), "");
  DaemonOptions o;
  o.ebpf_poll_interval = poll_interval;
  ASSERT_TRUE(start_daemon(o));
  const std::string ifc = v.root_name();
  auto r = add({entry(ifc, xdp_counter())});
  ASSERT_EQ(r.status, 200) << r.body;
  const auto get_before = get_all().body;
  const auto store_before = state_bytes();
  constexpr int kPackets = 10;
  ASSERT_EQ(v.send_udp_from_peer(kPackets), kPackets);
  const auto counted = monitor_value(ifc, "xdp_counter_packets_0_scalar");
  ASSERT_TRUE(counted.has_value()) << metrics();
  ASSERT_GE(*counted, static_cast<uint64_t>(kPackets));
  const std::vector<std::string> up{"1"};
  const std::vector<std::string> down{"0"};
  ASSERT_EQ(running_samples(metrics()), up);

  auto del = testing::run_command({"ip", "link", "del", ifc});
  ASSERT_EQ(del.exit_code, 0) << del.output;
  EXPECT_TRUE(eventually([&] { return running_samples(metrics()) == down; })) << metrics();
  EXPECT_NE(daemon_log().find("interface " + ifc + " was deleted"), std::string::npos);
  EXPECT_EQ(get_all().body, get_before) << "the state keeps it: the daemon repairs it";
  EXPECT_EQ(state_bytes(), store_before);
  const std::string raw = test::request("127.0.0.1", debug_port_, "GET", "/bpfs/" + ifc).body;
  EXPECT_EQ(raw.find("\"RestartCount\":1"), std::string::npos) << raw;

  // Created again with the same names, the peer in the test's namespace again.
  const std::string ns = v.peer_ns().name();
  const std::vector<std::vector<std::string>> recreate = {
      {"ip", "link", "add", ifc, "type", "veth", "peer", "name", v.peer_name(), "netns", ns},
      {"ip", "addr", "add", v.root_addr() + "/24", "dev", ifc},
      {"ip", "link", "set", ifc, "up"},
      {"ip", "-n", ns, "addr", "add", v.peer_addr() + "/24", "dev", v.peer_name()},
      {"ip", "-n", ns, "link", "set", v.peer_name(), "up"},
  };
  for (const auto& c : recreate) {
    auto res = testing::run_command(c);
    ASSERT_EQ(res.exit_code, 0) << c[2] << ": " << res.output;
  }
  EXPECT_TRUE(eventually([&] { return running_samples(metrics()) == up; }))
      << metrics() << daemon_log();
  auto d = bpfs(ifc);
  ASSERT_EQ(d.size(), 1u);
  EXPECT_TRUE(eventually([&] { return attached_programs(ifc).xdp == bpfs(ifc).at(0).prog_id; }));
  EXPECT_EQ(get_all().body, get_before);
  EXPECT_EQ(state_bytes(), store_before);
  EXPECT_EQ(v.send_udp_from_peer(kPackets), kPackets);
  EXPECT_GE(monitor_value(ifc, "xdp_counter_packets_0_scalar").value_or(0), *counted + kPackets)
      << "counted again, in the same pinned map";

  // An update after the re-create applies to the attached program.
  r = update({entry(ifc, xdp_counter("1.0", 9))});
  ASSERT_EQ(r.status, 200) << r.body;
  d = bpfs(ifc);
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(attached_programs(ifc).xdp, d[0].prog_id);
  EXPECT_EQ(running_samples(metrics()), up);
}

// The same with chaining: the chain on a re-created interface is rebuilt behind a new root
// (programs built and wired first, the root attached last) on the pinned maps, and every packet
// runs the whole chain again.
TEST_F(HealthE2e, ADeletedInterfaceGetsItsChainRebuiltWhenCreatedAgain) {
  testing::VethPair v;
  ASSERT_EQ(v.error(), "");
  DaemonOptions o;
  o.chaining = true;
  o.ebpf_poll_interval = "1h";  // the netlink event triggers the check
  ASSERT_TRUE(start_daemon(o));
  const std::string ifc = v.root_name();
  auto e = entry(ifc);
  if (!e.bpf_programs) e.bpf_programs = model::BpfPrograms{};
  e.bpf_programs->xdp_ingress =
      std::vector<BpfProgram>{chain_counter('a', 1), chain_counter('b', 2)};
  ASSERT_EQ(add({e}).status, 200);
  const auto get_before = get_all().body;
  const auto counter = [&](char c) {
    return percpu_counter(fs::path("/sys/fs/bpf") / ifc / (std::string("chain-") + c) / "1_0" /
                          "chain_packets");
  };
  ASSERT_EQ(v.send_udp_from_peer(10), 10);
  ASSERT_TRUE(eventually([&] { return counter('b').value_or(0) >= 10u; }));
  const uint64_t a_before = *counter('a');
  const std::vector<uint32_t> ids_before = [&] {
    std::vector<uint32_t> ids;
    for (const auto& d : bpfs(ifc)) ids.push_back(d.prog_id);
    return ids;
  }();
  ASSERT_EQ(ids_before.size(), 3u);

  ASSERT_EQ(testing::run_command({"ip", "link", "del", ifc}).exit_code, 0);
  EXPECT_TRUE(eventually([&] {
    return running_samples(metrics()) == std::vector<std::string>{"0", "0"};
  })) << metrics();
  const std::string ns = v.peer_ns().name();
  for (const auto& c : std::vector<std::vector<std::string>>{
           {"ip", "link", "add", ifc, "type", "veth", "peer", "name", v.peer_name(), "netns", ns},
           {"ip", "addr", "add", v.root_addr() + "/24", "dev", ifc},
           {"ip", "link", "set", ifc, "up"},
           {"ip", "-n", ns, "addr", "add", v.peer_addr() + "/24", "dev", v.peer_name()},
           {"ip", "-n", ns, "link", "set", v.peer_name(), "up"}}) {
    auto res = testing::run_command(c);
    ASSERT_EQ(res.exit_code, 0) << c[2] << ": " << res.output;
  }
  EXPECT_TRUE(eventually([&] {
    return running_samples(metrics()) == std::vector<std::string>{"1", "1"};
  })) << metrics()
      << daemon_log();
  const auto d = bpfs(ifc);
  ASSERT_EQ(d.size(), 3u);
  for (std::size_t i = 0; i < d.size(); ++i) EXPECT_NE(d[i].prog_id, ids_before[i]) << i;
  EXPECT_EQ(attached_programs(ifc).xdp, d[0].prog_id) << "the new root is attached";
  EXPECT_EQ(get_all().body, get_before);
  ASSERT_EQ(v.send_udp_from_peer(10), 10);
  EXPECT_TRUE(eventually([&] {
    const auto a = counter('a');
    const auto b = counter('b');
    return a && b && *a >= a_before + 10 && *a == *b;
  })) << "counted again by the whole chain, in the same pinned maps";
}

TEST_F(HealthE2e, ADeletedInterfaceIsReportedDownAndItsProgramReattachedWhenCreatedAgain) {
  delete_and_recreate("100ms");
}

// The same with a poll interval far longer than the test's waits: only the interface events
// (RTM_DELLINK, RTM_NEWLINK on the daemon's netlink socket) can have triggered the checks.
// Drift behind the daemon's back (issue 11, docs/operations.md "Drift"): a program's link
// detached (what `bpftool link detach` does), then its program pin removed. Each is noticed at
// the next poll (logged), reported (/bpfs RestartCount) and repaired by a redeploy through the
// make-before-break path: a new instance on the same pinned maps, attached and pinned again, so
// the counter goes on counting where it was.
TEST_F(HealthE2e, ADetachedLinkAndARemovedPinAreNoticedAndRepaired) {
  testing::VethPair v;
  ASSERT_EQ(v.error(), "");
  DaemonOptions o;
  o.ebpf_poll_interval = "200ms";
  ASSERT_TRUE(start_daemon(o));
  const std::string ifc = v.root_name();
  ASSERT_EQ(add({entry(ifc, xdp_counter())}).status, 200);
  ASSERT_EQ(v.send_udp_from_peer(10), 10);
  const auto counted = monitor_value(ifc, "xdp_counter_packets_0_scalar");
  ASSERT_TRUE(counted.has_value() && *counted >= 10u) << metrics();
  const uint32_t first = bpfs(ifc).at(0).prog_id;
  const fs::path link_pin =
      fs::path("/sys/fs/bpf/links") / ifc / "xdp-counter" / "1_0" / "xdp-counter_xdp";
  const fs::path prog_pin =
      fs::path("/sys/fs/bpf/progs") / ifc / "xdp-counter" / "1_0" / "xdp_counter_xdp";

  {
    UniqueFd link(bpf_obj_get(link_pin.c_str()));
    ASSERT_TRUE(link) << link_pin;
    ASSERT_EQ(bpf_link_detach(link.get()), 0) << errno;
  }
  ASSERT_EQ(attached_programs(ifc).xdp, 0u) << "detached behind the daemon's back";
  EXPECT_TRUE(eventually([&] {
    const auto d = bpfs(ifc);
    return !d.empty() && d[0].prog_id != first && attached_programs(ifc).xdp == d[0].prog_id;
  })) << daemon_log();
  EXPECT_NE(daemon_log().find("was detached"), std::string::npos) << daemon_log();
  const std::string raw = test::request("127.0.0.1", debug_port_, "GET", "/bpfs/" + ifc).body;
  EXPECT_NE(raw.find("\"RestartCount\":1"), std::string::npos) << raw;
  ASSERT_EQ(v.send_udp_from_peer(10), 10);
  EXPECT_TRUE(eventually([&] {
    return monitor_value(ifc, "xdp_counter_packets_0_scalar").value_or(0) >= *counted + 10;
  })) << "the same pinned map counts on";

  const uint32_t second = bpfs(ifc).at(0).prog_id;
  ASSERT_TRUE(fs::remove(prog_pin));
  EXPECT_TRUE(eventually([&] {
    const auto d = bpfs(ifc);
    return !d.empty() && d[0].prog_id != second && fs::exists(prog_pin) &&
           attached_programs(ifc).xdp == d[0].prog_id;
  })) << daemon_log();
  EXPECT_NE(daemon_log().find("names nothing instead of prog_id=" + std::to_string(second)),
            std::string::npos)
      << daemon_log();
  EXPECT_EQ(running_samples(metrics()), (std::vector<std::string>{"1"}));
}

// Drift policy for a link another tool switched to its own program: reported (BPFRunning 0,
// the log names both programs), not taken back from under that tool (the redeploy's
// compare-and-swap finds another program: conflict), given up after max-ebpf-restart-count.
TEST_F(HealthE2e, ALinkSwitchedToAnotherProgramIsReportedAndNotTakenBack) {
  testing::VethPair v;
  ASSERT_EQ(v.error(), "");
  DaemonOptions o;
  o.ebpf_poll_interval = "200ms";
  o.max_ebpf_restart_count = 1;
  ASSERT_TRUE(start_daemon(o));
  const std::string ifc = v.root_name();
  ASSERT_EQ(add({entry(ifc, xdp_counter())}).status, 200);
  // Another tool's XDP program: r0 = XDP_PASS; exit.
  const bpf_insn insns[] = {
      {BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, XDP_PASS},
      {BPF_JMP | BPF_EXIT, 0, 0, 0, 0},
  };
  LIBBPF_OPTS(bpf_prog_load_opts, load_opts, .expected_attach_type = BPF_XDP);
  UniqueFd other(bpf_prog_load(BPF_PROG_TYPE_XDP, "other_tool", "GPL", insns, 2, &load_opts));
  ASSERT_TRUE(other) << errno;
  bpf_prog_info info{};
  uint32_t len = sizeof(info);
  ASSERT_EQ(bpf_obj_get_info_by_fd(other.get(), &info, &len), 0);
  const fs::path link_pin =
      fs::path("/sys/fs/bpf/links") / ifc / "xdp-counter" / "1_0" / "xdp-counter_xdp";
  {
    UniqueFd link(bpf_obj_get(link_pin.c_str()));
    ASSERT_TRUE(link);
    ASSERT_EQ(bpf_link_update(link.get(), other.get(), nullptr), 0) << errno;
  }
  EXPECT_TRUE(eventually([&] {
    return daemon_log().find("is not redeployed again") != std::string::npos;
  })) << daemon_log();
  EXPECT_NE(daemon_log().find("runs prog_id=" + std::to_string(info.id)), std::string::npos);
  EXPECT_EQ(attached_programs(ifc).xdp, info.id) << "the other tool's program stays";
  EXPECT_EQ(running_samples(metrics()), (std::vector<std::string>{"0"}));
  // A delete and add takes the hook back.
  ASSERT_EQ(remove({names(ifc, {"xdp-counter"})}).status, 200);
  ASSERT_EQ(add({entry(ifc, xdp_counter())}).status, 200);
  EXPECT_EQ(attached_programs(ifc).xdp, bpfs(ifc).at(0).prog_id);
  EXPECT_EQ(running_samples(metrics()), (std::vector<std::string>{"1"}));
}

TEST_F(HealthE2e, InterfaceEventsTriggerTheCheckWithoutWaitingForThePoll) {
  delete_and_recreate("1h");
}

}  // namespace
}  // namespace l3afd::e2e
