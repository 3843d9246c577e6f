// Plans as data, with chaining: the steps of a chained hook in order — programs built before
// any slot write, the wiring before the one flip, a new root attached last, the new next
// arrays pinned after the switch, the commit last — and the releases after it.
#include <gtest/gtest.h>

#include <stdexcept>

#include "engine/planner.h"
#include "unit/engine/plan_util.h"

namespace l3afd::testing {
namespace {

using engine::Planner;
using engine::WriteSlot;

engine::PlannerConfig chained() {
  engine::PlannerConfig cfg;
  cfg.default_repo_url = "file:///repo";
  cfg.host_name = kHost;
  cfg.chaining = true;
  return cfg;
}

engine::AppliedState applied(const Planner& planner, std::vector<model::BpfProgram> progs) {
  auto plan = planner.add({}, valid({entry("eth0", std::move(progs))}, true));
  if (!plan) throw std::runtime_error("plan failed: " + plan.error().to_string());
  return after(std::move(*plan));
}

std::string key_of(const engine::AppliedState& s, std::size_t i) {
  return s.ifaces.at("eth0").hooks.at(model::Hook::XdpIngress).at(i).object_key;
}

std::vector<std::string> kinds(const std::vector<engine::Step>& steps) {
  std::vector<std::string> out;
  for (const auto& s : steps) out.emplace_back(engine::action_kind(s.forward));
  return out;
}

TEST(PlanChained, FirstProgramBuildsProgramAndRootWiresThenAttachesTheRootLastAndPins) {
  Planner planner(chained());
  auto plan = planner.add({}, valid({entry("eth0", {program("a")})}, true));
  ASSERT_TRUE(plan) << plan.error().to_string();
  const auto& st = plan->steps;
  ASSERT_EQ(st.size(), 11u);
  EXPECT_EQ(steps_of({st.begin(), st.begin() + 6}),
            (StepList{{"fetch", "fetch package a@1.0"},
                      {"load", "load a on eth0 xdpingress"},
                      {"seed", "seed a on eth0 xdpingress"},
                      {"fetch", "fetch package xdp-root@latest"},
                      {"load", "load xdp-root on eth0 xdpingress"},
                      {"seed", "seed xdp-root on eth0 xdpingress"}}));
  EXPECT_EQ(kinds({st.begin() + 6, st.end()}),
            (std::vector<std::string>{"write_slot", "attach", "pin_map", "pin_map", "commit"}));
  // The root's slot points at a before the root goes live.
  const auto& slot = std::get<WriteSlot>(st[6].forward);
  const auto& a_key = std::get<engine::LoadObject>(st[1].forward).spec.key;
  const auto& root_key = std::get<engine::LoadObject>(st[4].forward).spec.key;
  EXPECT_EQ(slot.owner_key, root_key);
  EXPECT_EQ(slot.target, a_key);
  EXPECT_EQ(st[7].label, "attach root xdp-root on eth0 xdpingress");
  EXPECT_EQ(st[8].label, "pin next_a of a on eth0 xdpingress");
  EXPECT_EQ(std::get<engine::PinMap>(st[9].forward).key, root_key);
  EXPECT_TRUE(plan->release.empty());
  // The private next array of a is a fresh copy.
  EXPECT_EQ(std::get<engine::LoadObject>(st[1].forward).spec.private_map, "next_a");
}

TEST(PlanChained, InsertInTheMiddleWiresTheNewProgramThenFlipsItsPredecessor) {
  Planner planner(chained());
  auto s = applied(planner, {program("a", "1.0", 1), program("c", "1.0", 3)});
  const std::string a = key_of(s, 0), c = key_of(s, 1);
  auto plan = planner.add(s, valid({entry("eth0", {program("b", "1.0", 2)})}, true));
  ASSERT_TRUE(plan) << plan.error().to_string();
  const auto& st = plan->steps;
  EXPECT_EQ(kinds(st), (std::vector<std::string>{"fetch", "load", "seed", "write_slot",
                                                 "write_slot", "pin_map", "commit"}));
  const std::string b = std::get<engine::LoadObject>(st[1].forward).spec.key;
  const auto& wire = std::get<WriteSlot>(st[3].forward);
  EXPECT_EQ(wire.owner_key, b);
  EXPECT_EQ(wire.target, c);
  const auto& flip = std::get<WriteSlot>(st[4].forward);
  EXPECT_EQ(flip.owner_key, a);
  EXPECT_EQ(flip.target, b);
  EXPECT_EQ(flip.previous, c);  // rollback puts c back
  EXPECT_TRUE(plan->release.empty());
  ASSERT_EQ(plan->next.ifaces.at("eth0").hooks.at(model::Hook::XdpIngress).size(), 3u);
}

TEST(PlanChained, RemovingTheLastProgramDetachesTheRootAndReleasesBoth) {
  Planner planner(chained());
  auto s = applied(planner, {program("a")});
  const std::string a = key_of(s, 0);
  const std::string root = s.ifaces.at("eth0").roots.at(model::Hook::XdpIngress).object_key;
  auto plan = planner.remove(s, valid_names("eth0", {"a"}, true));
  ASSERT_TRUE(plan) << plan.error().to_string();
  EXPECT_EQ(steps_of(plan->steps), (StepList{{"detach", "detach root xdp-root on eth0 xdpingress"},
                                             {"commit", "commit state"}}));
  EXPECT_EQ(steps_of(plan->release), (StepList{{"unload", "unload a from " + a},
                                               {"remove_package", "remove package a@1.0"},
                                               {"unload", "unload root xdp-root from " + root}}));
  EXPECT_TRUE(plan->next.ifaces.at("eth0").roots.empty());
}

TEST(PlanChained, IdenticalReAddIsAnEmptyPlan) {
  Planner planner(chained());
  auto s = applied(planner, {program("a", "1.0", 1), program("b", "1.0", 2)});
  auto plan = planner.add(s, valid({entry("eth0", {program("b", "1.0", 2)})}, true));
  ASSERT_TRUE(plan) << plan.error().to_string();
  EXPECT_TRUE(plan->empty());
  EXPECT_EQ(plan->next, s);
}

TEST(PlanChained, AProgramWithoutMapNameMayOnlyBeLast) {
  Planner planner(chained());
  auto first = program("a", "1.0", 1);
  first.map_name.clear();
  auto plan = planner.add({}, valid({entry("eth0", {first, program("b", "1.0", 2)})}, true));
  ASSERT_FALSE(plan);
  EXPECT_EQ(plan.error().code, Errc::InvalidPayload);
  EXPECT_EQ(plan.error().items.at(0).field, "map_name");
  EXPECT_EQ(plan.error().items.at(0).program, "a");
}

}  // namespace
}  // namespace l3afd::testing
