// The program event counters of /metrics through the real daemon (docs/compatibility.md §13):
// l3afd_BPFStartCount, l3afd_BPFStartTime, l3afd_BPFStopCount, l3afd_BPFUpdateCount and
// l3afd_BPFDeployFailedCount change at the events the reference names, with its labels, and a
// program's start time disappears with it.
#include <gtest/gtest.h>

#include <sstream>

#include "e2e/daemon/daemon_fixture.h"
#include "model/l3af_json.h"
#include "support/netns.h"

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

class Metrics : public DaemonFixture {};

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
  EXPECT_NE(started.find("e+09"), std::string::npos) << "unix seconds in Go's format: " << started;
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

}  // namespace
}  // namespace l3afd::e2e
