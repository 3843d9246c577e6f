// The health check's BPF side (docs/compatibility.md §15) in the real daemon on the real kernel:
// every ebpf-poll-interval it asks the libbpf adapter whether each deployed program is still
// loaded. While the daemon holds a program's fds the kernel keeps it, so a real kernel never
// loses one here; what this test proves is that the real adapter's answer is right for loaded
// and for adopted programs (after kill -9 and restart) — no false redeploy, ids unchanged,
// RestartCount 0, BPFRunning 1 across many polls. The repair of a lost program is covered on
// the fake kernel (tests/component/engine/health_engine_test.cpp); programs whose pins vanished
// while the daemon was down are the restore's job (chain_test.cpp ChainRestart).
#include <gtest/gtest.h>

#include <chrono>
#include <sstream>
#include <thread>

#include "e2e/daemon/daemon_fixture.h"
#include "e2e/daemon/kernel_probe.h"
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

}  // namespace
}  // namespace l3afd::e2e
