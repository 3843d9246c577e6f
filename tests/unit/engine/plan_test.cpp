// Plans as data, without chaining: the exact steps (action kind and label, in order) and
// release steps the planner emits for each kind of change.
#include <gtest/gtest.h>

#include <stdexcept>

#include "engine/planner.h"
#include "unit/engine/plan_util.h"

namespace l3afd::testing {
namespace {

using engine::Plan;
using engine::Planner;

engine::PlannerConfig config(bool chaining = false) {
  engine::PlannerConfig cfg;
  cfg.default_repo_url = "file:///repo";
  cfg.host_name = kHost;
  cfg.chaining = chaining;
  return cfg;
}

model::BpfProgram with_maps(model::BpfProgram p, std::int64_t value) {
  p.map_args = std::vector<model::MapArg>{{"config", std::vector<model::KeyValue>{{1, value}}}};
  return p;
}

/// The applied state after adding `req` to nothing.
engine::AppliedState applied(const Planner& planner, std::vector<model::L3afBpfPrograms> req) {
  auto plan = planner.add({}, valid(std::move(req), false));
  if (!plan) throw std::runtime_error("plan failed: " + plan.error().to_string());
  return after(std::move(*plan));
}

TEST(PlanDirect, AddOneProgramFetchesLoadsSeedsAttachesAndCommits) {
  Planner planner(config());
  auto plan = planner.add({}, valid({entry("eth0", {program("fw")})}, false));
  ASSERT_TRUE(plan) << plan.error().to_string();
  EXPECT_EQ(steps_of(plan->steps), (StepList{{"fetch", "fetch package fw@1.0"},
                                             {"load", "load fw on eth0 xdpingress"},
                                             {"seed", "seed fw on eth0 xdpingress"},
                                             {"attach", "attach fw on eth0 xdpingress"},
                                             {"commit", "commit state"}}));
  EXPECT_TRUE(plan->release.empty());
  // The load names the fetch's output, the fill names fetch, load and attach.
  const auto& load = std::get<engine::LoadObject>(plan->steps[1].forward);
  EXPECT_EQ(load.package.index(), 0u);
  ASSERT_EQ(plan->fills.size(), 1u);
  ASSERT_TRUE(plan->fills[0].attach);
  EXPECT_EQ(plan->fills[0].attach->index(), 3u);
  EXPECT_EQ(plan->next.revision, 1u);
}

TEST(PlanDirect, MapArgsOnlyWritesMapsSeedsAndCommits) {
  Planner planner(config());
  auto s = applied(planner, {entry("eth0", {with_maps(program("fw"), 10)})});
  auto plan = planner.update(s, valid({entry("eth0", {with_maps(program("fw"), 20)})}, false));
  ASSERT_TRUE(plan) << plan.error().to_string();
  EXPECT_EQ(steps_of(plan->steps), (StepList{{"write_maps", "write maps of fw on eth0 xdpingress"},
                                             {"seed", "seed fw on eth0 xdpingress"},
                                             {"commit", "commit state"}}));
  const auto& write = std::get<engine::ConfigureMaps>(plan->steps[0].forward);
  ASSERT_TRUE(write.previous);  // the old map_args, for rollback
  EXPECT_EQ((*write.previous)[0].args->at(0).value, 10);
  EXPECT_TRUE(plan->release.empty());
}

TEST(PlanDirect, VersionUpgradeBuildsCarriesSwitchesAndReleasesTheOldOne) {
  Planner planner(config());
  auto s = applied(planner, {entry("eth0", {with_maps(program("fw", "1.0"), 10)})});
  const std::string old_key = s.ifaces.at("eth0").hooks.at(model::Hook::XdpIngress)[0].object_key;
  auto plan =
      planner.update(s, valid({entry("eth0", {with_maps(program("fw", "2.0"), 10)})}, false));
  ASSERT_TRUE(plan) << plan.error().to_string();
  EXPECT_EQ(steps_of(plan->steps),
            (StepList{{"fetch", "fetch package fw@2.0"},
                      {"load", "load fw on eth0 xdpingress"},
                      {"carry_maps", "carry state of fw over to 2.0 on eth0 xdpingress"},
                      {"write_maps", "write maps of fw on eth0 xdpingress"},
                      {"seed", "seed fw on eth0 xdpingress"},
                      {"attach", "switch fw on eth0 xdpingress"},
                      {"commit", "commit state"}}));
  const auto& sw = std::get<engine::Attach>(plan->steps[5].forward);
  ASSERT_TRUE(sw.previous);
  EXPECT_EQ(sw.previous->key, old_key);
  EXPECT_EQ(std::get<engine::CarryMaps>(plan->steps[2].forward).from_key, old_key);
  EXPECT_EQ(steps_of(plan->release), (StepList{{"unload", "unload fw from " + old_key},
                                               {"remove_package", "remove package fw@1.0"}}));
}

TEST(PlanDirect, DeleteDetachesCommitsAndReleases) {
  Planner planner(config());
  auto s = applied(planner, {entry("eth0", {program("fw")})});
  const std::string key = s.ifaces.at("eth0").hooks.at(model::Hook::XdpIngress)[0].object_key;
  auto plan = planner.remove(s, valid_names("eth0", {"fw"}, false));
  ASSERT_TRUE(plan) << plan.error().to_string();
  EXPECT_EQ(steps_of(plan->steps),
            (StepList{{"detach", "detach fw on eth0 xdpingress"}, {"commit", "commit state"}}));
  EXPECT_EQ(steps_of(plan->release), (StepList{{"unload", "unload fw from " + key},
                                               {"remove_package", "remove package fw@1.0"}}));
  EXPECT_TRUE(plan->next.ifaces.at("eth0").hooks.empty());  // the interface stays in the table
}

TEST(PlanDirect, IdenticalReAddIsAnEmptyPlan) {
  Planner planner(config());
  auto s = applied(planner, {entry("eth0", {program("fw")})});
  auto plan = planner.add(s, valid({entry("eth0", {program("fw")})}, false));
  ASSERT_TRUE(plan) << plan.error().to_string();
  EXPECT_TRUE(plan->empty());
  EXPECT_TRUE(plan->steps.empty());
  EXPECT_EQ(plan->next, s);
}

TEST(PlanDirect, OptionsShapeTheCommitInsteadOfEditingThePlanAfterwards) {
  Planner planner(config());
  auto pending = entry("eth9", {program("late")});
  engine::PlanOptions with_pending{.extra_store_entries = {pending}};
  auto plan = planner.add({}, valid({entry("eth0", {program("fw")})}, false), with_pending);
  ASSERT_TRUE(plan);
  const auto& commit = std::get<engine::CommitState>(plan->steps.back().forward);
  ASSERT_EQ(commit.contents.size(), 2u);
  EXPECT_EQ(commit.contents[0].iface, "eth0");
  EXPECT_EQ(commit.contents[1], pending);

  auto s = after(std::move(*plan));
  auto stop = planner.transition(s, engine::DesiredState{}, engine::PlanOptions{.commit = false});
  ASSERT_TRUE(stop);
  EXPECT_EQ(steps_of(stop->steps), (StepList{{"detach", "detach fw on eth0 xdpingress"}}));
}

TEST(PlanDirect, ConflictsAreRefusedBeforeAnyStep) {
  Planner planner(config());
  auto s = applied(planner, {entry("eth0", {program("fw")})});
  auto plan = planner.add(s, valid({entry("eth0", {program("other")})}, false));
  ASSERT_FALSE(plan);
  EXPECT_EQ(plan.error().code, Errc::Conflict);
  EXPECT_EQ(plan.error().items.at(0).program, "other");
}

}  // namespace
}  // namespace l3afd::testing
