// ProgramHealthTable (the BPF side of the health check, docs/compatibility.md §15) on a
// simulated clock: which programs are watched, losses, backoff, give-up, a new instance
// repairing a program, healthy resets; and health_view() combining both sides.
#include "engine/program_health.h"

#include <gtest/gtest.h>

namespace l3afd::engine {
namespace {

using std::chrono::milliseconds;
using T = ProgramHealthTable::Clock::time_point;

constexpr const char* kA = "eth0/xdpingress/a/1_0";

model::BpfProgram program(std::string name) {
  model::BpfProgram p;
  p.name = std::move(name);
  p.version = "1.0";
  p.object_file = "a.bpf.o";
  p.entry_function_name = "entry";
  return p;
}

/// eth0 xdpingress: program `a` as instance `n` (and a root, which is not watched).
AppliedState state_with(uint64_t n, model::BpfProgram p = program("a")) {
  AppliedState s;
  ProgramRecord r;
  r.spec = std::move(p);
  r.object_key = std::string(kA) + "#" + std::to_string(n);
  s.ifaces["eth0"].hooks[model::Hook::XdpIngress].push_back(r);
  ProgramRecord root;
  root.spec = program("xdp-root");
  root.object_key = "eth0/xdpingress/xdp-root/latest#99";
  s.ifaces["eth0"].roots[model::Hook::XdpIngress] = root;
  return s;
}

RestartLimits limits(std::int64_t max = 2) {
  return {.max_restarts = max,
          .first_delay = milliseconds(100),
          .max_delay = milliseconds(1000),
          .healthy_after = milliseconds(5000)};
}

TEST(ProgramHealth, IdsAreObjectKeysWithoutTheInstance) {
  EXPECT_EQ(program_health_id("eth0/xdpingress/a/1_0#7"), kA);
  EXPECT_EQ(program_health_id("probes/tp/1_0#3"), "probes/tp/1_0");
}

TEST(ProgramHealth, WatchesNonRootProgramsAndProbesButNotSelfLoadingOnes) {
  ProgramHealthTable t(limits());
  AppliedState s = state_with(1);
  auto self = program("self");
  self.object_file.clear();
  ProgramRecord r;
  r.spec = self;
  r.object_key = "eth0/xdpingress/self/1_0#2";
  s.ifaces["eth0"].hooks[model::Hook::XdpIngress].push_back(r);
  ProbeRecord probe;
  probe.spec = program("tp");
  probe.object_key = "probes/tp/1_0#3";
  s.probes.push_back(probe);
  t.sync(s, T{});
  EXPECT_EQ(t.watched(), (std::map<std::string, std::string>{
                             {kA, std::string(kA) + "#1"}, {"probes/tp/1_0", "probes/tp/1_0#3"}}));
}

TEST(ProgramHealth, ALossSchedulesARedeployAfterTheBackoffAndANewInstanceRepairsIt) {
  ProgramHealthTable t(limits());
  T now{};
  t.sync(state_with(1), now);
  EXPECT_TRUE(t.lost(kA, now));
  EXPECT_FALSE(t.lost(kA, now)) << "already down";
  EXPECT_TRUE(t.watched().empty()) << "not asked about again while down";
  EXPECT_TRUE(t.due(now + milliseconds(99)).empty());
  EXPECT_EQ(t.due(now + milliseconds(100)),
            (std::map<std::string, std::string>{{kA, std::string(kA) + "#1"}}));
  EXPECT_EQ(t.next_deadline(), now + milliseconds(100));
  auto st = t.status().at(kA);
  EXPECT_FALSE(st.loaded);
  EXPECT_EQ(st.restart_count, 1);

  now += milliseconds(100);
  t.sync(state_with(2), now);  // the redeploy's plan committed a new instance
  t.redeployed(kA, true, now);
  st = t.status().at(kA);
  EXPECT_TRUE(st.loaded);
  EXPECT_EQ(st.restart_count, 1);
  EXPECT_TRUE(t.due(now + milliseconds(10000)).empty());
  EXPECT_EQ(t.watched().at(kA), std::string(kA) + "#2");
}

TEST(ProgramHealth, AFailedRedeployCountsAsALossAndTheLimitGivesUp) {
  ProgramHealthTable t(limits(2));
  T now{};
  t.sync(state_with(1), now);
  ASSERT_TRUE(t.lost(kA, now));
  now += milliseconds(100);
  t.redeployed(kA, false, now);
  auto st = t.status().at(kA);
  EXPECT_FALSE(st.loaded);
  EXPECT_EQ(st.restart_count, 2);
  EXPECT_EQ(t.next_deadline(), now + milliseconds(200)) << "backoff doubled";
  now += milliseconds(200);
  t.redeployed(kA, false, now);
  st = t.status().at(kA);
  EXPECT_TRUE(st.given_up);
  EXPECT_FALSE(st.loaded);
  EXPECT_TRUE(t.due(now + milliseconds(100000)).empty());
  EXPECT_FALSE(t.next_deadline().has_value());

  // A new instance (an operator's redeploy) starts over.
  t.sync(state_with(5), now);
  st = t.status().at(kA);
  EXPECT_TRUE(st.loaded);
  EXPECT_FALSE(st.given_up);
  EXPECT_EQ(st.restart_count, 0);
}

TEST(ProgramHealth, TheRestartCountResetsAfterAHealthyPeriodButNotTheTotal) {
  ProgramHealthTable t(limits());
  T now{};
  t.sync(state_with(1), now);
  ASSERT_TRUE(t.lost(kA, now));
  now += milliseconds(100);
  t.sync(state_with(2), now);
  t.redeployed(kA, true, now);
  EXPECT_EQ(t.next_deadline(), now + milliseconds(5000));
  EXPECT_FALSE(t.settle(now + milliseconds(4999)));
  EXPECT_TRUE(t.settle(now + milliseconds(5000)));
  const auto st = t.status().at(kA);
  EXPECT_EQ(st.restart_count, 0);
  EXPECT_EQ(st.total_restarts, 1);
}

TEST(ProgramHealth, ARedefinedOrRemovedProgramLeavesItsEntry) {
  ProgramHealthTable t(limits());
  T now{};
  t.sync(state_with(1), now);
  ASSERT_TRUE(t.lost(kA, now));
  auto other = program("a");
  other.object_file = "b.bpf.o";
  t.sync(state_with(2, other), now);
  EXPECT_EQ(t.status().at(kA), ProgramHealth{}) << "a fresh entry";
  t.sync(AppliedState{}, now);
  EXPECT_TRUE(t.empty());
}

TEST(ProgramHealth, TheViewCombinesTheCompanionAndTheProgram) {
  std::map<std::string, CompanionStatus> companions;
  std::map<std::string, ProgramHealth> programs;
  EXPECT_TRUE(health_view(companions, programs, kA).running) << "unknown: running";
  companions[kA] = CompanionStatus{.running = true, .restart_count = 2};
  programs[kA] = ProgramHealth{.loaded = false, .restart_count = 1};
  auto v = health_view(companions, programs, kA);
  EXPECT_FALSE(v.running);
  EXPECT_EQ(v.restart_count, 3);
  programs[kA].loaded = true;
  companions[kA].running = false;
  EXPECT_FALSE(health_view(companions, programs, kA).running);
  companions[kA].running = true;
  EXPECT_TRUE(health_view(companions, programs, kA).running);
}

}  // namespace
}  // namespace l3afd::engine
