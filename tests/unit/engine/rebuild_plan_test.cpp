// Plans as data for PlanOptions::rebuild (the health check's redeploy of a lost program,
// docs/compatibility.md §15): the same definition, a new instance, make-before-break like an
// upgrade of the same version; everything else is left alone.
#include <gtest/gtest.h>

#include <stdexcept>

#include "engine/planner.h"
#include "unit/engine/plan_util.h"

namespace l3afd::testing {
namespace {

using engine::Planner;
using engine::PlanOptions;
using engine::WriteSlot;

engine::PlannerConfig config(bool chaining) {
  engine::PlannerConfig cfg;
  cfg.default_repo_url = "file:///repo";
  cfg.host_name = kHost;
  cfg.chaining = chaining;
  return cfg;
}

engine::AppliedState applied(const Planner& planner, std::vector<model::BpfProgram> progs,
                             bool chaining) {
  auto plan = planner.add({}, valid({entry("eth0", std::move(progs))}, chaining));
  if (!plan) throw std::runtime_error("plan failed: " + plan.error().to_string());
  return after(std::move(*plan));
}

const engine::ProgramRecord& rec(const engine::AppliedState& s, std::size_t i) {
  return s.ifaces.at("eth0").hooks.at(model::Hook::XdpIngress).at(i);
}

std::vector<std::string> kinds(const std::vector<engine::Step>& steps) {
  std::vector<std::string> out;
  for (const auto& s : steps) out.emplace_back(engine::action_kind(s.forward));
  return out;
}

TEST(PlanRebuild, WithoutRebuildTheSameStateIsAnEmptyPlan) {
  Planner planner(config(false));
  auto s = applied(planner, {program("fw")}, false);
  auto plan = planner.transition(s, engine::desired_from(s), PlanOptions{});
  ASSERT_TRUE(plan);
  EXPECT_TRUE(plan->empty());
}

TEST(PlanRebuild, DirectAttachBuildsANewInstanceAndSwitchesTheLinkWithoutCarry) {
  Planner planner(config(false));
  auto s = applied(planner, {program("fw")}, false);
  const std::string old_key = rec(s, 0).object_key;
  auto plan = planner.transition(s, engine::desired_from(s), PlanOptions{.rebuild = {old_key}});
  ASSERT_TRUE(plan) << plan.error().to_string();
  EXPECT_EQ(steps_of(plan->steps), (StepList{{"fetch", "fetch package fw@1.0"},
                                             {"load", "load fw on eth0 xdpingress"},
                                             {"seed", "seed fw on eth0 xdpingress"},
                                             {"attach", "switch fw on eth0 xdpingress"},
                                             {"commit", "commit state"}}))
      << "same version: maps pinned by name are shared, nothing to carry";
  const auto& sw = std::get<engine::Attach>(plan->steps[3].forward);
  ASSERT_TRUE(sw.previous);
  EXPECT_EQ(sw.previous->key, old_key);
  EXPECT_EQ(steps_of(plan->release), (StepList{{"unload", "unload fw from " + old_key}}))
      << "the package stays: the new instance uses it";
  const auto next = rec(plan->next, 0);
  EXPECT_NE(next.object_key, old_key);
  EXPECT_EQ(next.spec, rec(s, 0).spec);
}

TEST(PlanRebuild, AChainedProgramIsRebuiltWiredToItsSuccessorAndFlippedIn) {
  Planner planner(config(true));
  auto s = applied(planner,
                   {program("a", "1.0", 1), program("p", "1.0", 2), program("b", "1.0", 3)}, true);
  const std::string a = rec(s, 0).object_key, p = rec(s, 1).object_key, b = rec(s, 2).object_key;
  auto plan = planner.transition(s, engine::desired_from(s), PlanOptions{.rebuild = {p}});
  ASSERT_TRUE(plan) << plan.error().to_string();
  const auto& st = plan->steps;
  EXPECT_EQ(kinds(st), (std::vector<std::string>{"fetch", "load", "seed", "write_slot",
                                                 "write_slot", "pin_map", "commit"}));
  const std::string p2 = std::get<engine::LoadObject>(st[1].forward).spec.key;
  EXPECT_NE(p2, p);
  const auto& wire = std::get<WriteSlot>(st[3].forward);
  EXPECT_EQ(wire.owner_key, p2);
  EXPECT_EQ(wire.target, b);
  const auto& flip = std::get<WriteSlot>(st[4].forward);
  EXPECT_EQ(flip.owner_key, a);
  EXPECT_EQ(flip.target, p2);
  EXPECT_EQ(flip.previous, p);  // rollback puts the lost instance back
  EXPECT_EQ(steps_of(plan->release), (StepList{{"unload", "unload p from " + p}}));
  EXPECT_EQ(rec(plan->next, 0).object_key, a);
  EXPECT_EQ(rec(plan->next, 2).object_key, b);
}

TEST(PlanRebuild, ASupervisedCompanionIsStoppedAndStartedWithTheNewInstance) {
  Planner planner(config(false));
  auto p = program("fw");
  p.cmd_start = "fw-agent";
  p.user_program_daemon = true;
  auto ctx = context(false);
  ctx.companions = true;
  auto req = model::accept_programs({entry("eth0", {p})}, ctx);
  ASSERT_TRUE(req) << req.error().to_string();
  auto first = planner.add({}, *req);
  ASSERT_TRUE(first) << first.error().to_string();
  auto s = after(std::move(*first));
  const std::string old_key = rec(s, 0).object_key;
  auto plan = planner.transition(s, engine::desired_from(s), PlanOptions{.rebuild = {old_key}});
  ASSERT_TRUE(plan) << plan.error().to_string();
  EXPECT_EQ(kinds(plan->steps),
            (std::vector<std::string>{"fetch", "check_companion", "load", "stop_companion",
                                      "start_companion", "seed", "attach", "commit"}));
  EXPECT_EQ(kinds(plan->release), std::vector<std::string>{"unload"}) << "stopped once";
}

TEST(PlanRebuild, ALostProbeEntryIsLoadedAgain) {
  Planner planner(config(false));
  model::BpfProgram probe;
  probe.name = "tp";
  probe.version = "1.0";
  probe.artifact = "l3af_tp.tar.gz";
  probe.admin_status = "enabled";
  probe.prog_type = "tracepoint";
  probe.object_file = "tp.bpf.o";
  model::L3afBpfPrograms e = entry("eth0", {});
  e.bpf_programs->probes = std::vector<model::BpfProgram>{probe};
  auto first = planner.add({}, valid({e}, false));
  ASSERT_TRUE(first) << first.error().to_string();
  auto s = after(std::move(*first));
  const std::string old_key = s.probes.at(0).object_key;
  auto plan = planner.transition(s, engine::desired_from(s), PlanOptions{.rebuild = {old_key}});
  ASSERT_TRUE(plan) << plan.error().to_string();
  EXPECT_EQ(kinds(plan->steps), (std::vector<std::string>{"fetch", "load_probes", "commit"}));
  EXPECT_EQ(steps_of(plan->release), (StepList{{"unload", "unload probes tp (" + old_key + ")"}}));
  EXPECT_NE(plan->next.probes.at(0).object_key, old_key);
}

}  // namespace
}  // namespace l3afd::testing
