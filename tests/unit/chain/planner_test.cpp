// The rows of docs/chain-protocol.md §4.3 one by one, plus the validation paths of plan_chain.
#include "chain/planner.h"

#include <gtest/gtest.h>

#include "chain_test_util.h"

namespace l3afd::chain::test {
namespace {

using W = std::vector<Write>;
using C = std::vector<Instance>;

Instance fresh_of(const std::string& p, int k) {
  return Instance{p, "f" + std::to_string(k)};
}

/// Plans and asserts that the writes are valid write by write (same checker as the exhaustive
/// test), so each focused case also proves I1 on its own.
Plan plan_ok(const C& old_chain, const C& new_chain, FreshCounter* fc = nullptr) {
  FreshCounter local;
  auto p = plan_chain(old_chain, new_chain, (fc ? fc : &local)->fn());
  EXPECT_TRUE(p) << p.error().to_string();
  if (!p) return Plan{};
  auto v = first_violation(old_chain, new_chain, p->writes);
  EXPECT_FALSE(v.has_value()) << *v;
  return *p;
}

TEST(ChainPlan, AppendLinksTheOldLastProgram) {
  const auto p = plan_ok(C{loaded("A")}, C{loaded("A"), brand_new("P")});
  EXPECT_EQ(p.build, C{brand_new("P")});
  EXPECT_EQ(p.writes, W{Write::set(Slot::of(loaded("A")), brand_new("P"))});
  EXPECT_EQ(p.flip_index, 0u);
  EXPECT_TRUE(p.retire.empty());
  EXPECT_EQ(p.root, RootChange::Keep);
}

TEST(ChainPlan, InsertWiresTheNewTailBeforeTheFlip) {
  const auto p = plan_ok(C{loaded("L"), loaded("R")}, C{loaded("L"), brand_new("P"), loaded("R")});
  EXPECT_EQ(p.prefix, 1u);
  EXPECT_EQ(p.suffix, 1u);
  EXPECT_EQ(p.build, C{brand_new("P")});
  EXPECT_EQ(p.writes, (W{Write::set(Slot::of(brand_new("P")), loaded("R")),
                         Write::set(Slot::of(loaded("L")), brand_new("P"))}));
  EXPECT_EQ(p.flip_index, 1u);
  EXPECT_TRUE(p.retire.empty());
  EXPECT_EQ(p.chain, (C{loaded("L"), brand_new("P"), loaded("R")}));
}

TEST(ChainPlan, RemoveMiddleSkipsItInOneWrite) {
  const auto p = plan_ok(C{loaded("L"), loaded("P"), loaded("R")}, C{loaded("L"), loaded("R")});
  EXPECT_TRUE(p.build.empty());
  EXPECT_EQ(p.writes, W{Write::set(Slot::of(loaded("L")), loaded("R"))});
  EXPECT_EQ(p.retire, C{loaded("P")});
}

TEST(ChainPlan, RemoveLastClearsThePredecessor) {
  const auto p = plan_ok(C{loaded("L"), loaded("P")}, C{loaded("L")});
  EXPECT_EQ(p.writes, W{Write::clear(Slot::of(loaded("L")))}) << "no leak of P (W4, D14)";
  EXPECT_EQ(p.retire, C{loaded("P")});
  EXPECT_EQ(p.root, RootChange::Keep);
}

TEST(ChainPlan, RemoveFirstRepointsTheRoot) {
  const auto p = plan_ok(C{loaded("P"), loaded("R")}, C{loaded("R")});
  EXPECT_EQ(p.writes, W{Write::set(Slot::root(), loaded("R"))});
  EXPECT_EQ(p.retire, C{loaded("P")});
}

TEST(ChainPlan, UpgradeBuildsTheNewInstanceAndRetiresTheOld) {
  FreshCounter fc;
  const auto p = plan_ok(C{loaded("L"), loaded("P"), loaded("R")},
                         C{loaded("L"), brand_new("P"), loaded("R")}, &fc);
  EXPECT_EQ(p.build, C{brand_new("P")});
  EXPECT_EQ(p.writes, (W{Write::set(Slot::of(brand_new("P")), loaded("R")),
                         Write::set(Slot::of(loaded("L")), brand_new("P"))}));
  EXPECT_EQ(p.retire, C{loaded("P")});
  EXPECT_EQ(fc.calls(), 0) << "a caller-supplied new instance is not regenerated";
}

TEST(ChainPlan, ReorderExampleOfTheReference) {
  // O = [A, P, B, C, R] -> N = [A, B, C, P, R]: prefix [A], suffix [R], B' -> C' -> P' -> R.
  FreshCounter fc;
  const auto p = plan_ok(loaded_chain({"A", "P", "B", "C", "R"}),
                         loaded_chain({"A", "B", "C", "P", "R"}), &fc);
  EXPECT_EQ(p.prefix, 1u);
  EXPECT_EQ(p.suffix, 1u);
  const Instance b2 = fresh_of("B", 1), c2 = fresh_of("C", 2), p2 = fresh_of("P", 3);
  EXPECT_EQ(p.build, (C{b2, c2, p2}));
  EXPECT_EQ(fc.calls(), 3);
  EXPECT_EQ(p.writes, (W{Write::set(Slot::of(p2), loaded("R")), Write::set(Slot::of(c2), p2),
                         Write::set(Slot::of(b2), c2), Write::set(Slot::of(loaded("A")), b2)}));
  EXPECT_EQ(p.flip_index, 3u);
  EXPECT_EQ(p.retire, loaded_chain({"P", "B", "C"}));
  EXPECT_EQ(p.chain, (C{loaded("A"), b2, c2, p2, loaded("R")}));
}

TEST(ChainPlan, SwapWithoutCommonPartRebuildsBothAndFlipsTheRoot) {
  const auto p = plan_ok(loaded_chain({"A", "B"}), loaded_chain({"B", "A"}));
  const Instance b2 = fresh_of("B", 1), a2 = fresh_of("A", 2);
  EXPECT_EQ(p.build, (C{b2, a2}));
  // a2 is last and its array starts empty: no Clear is emitted for it.
  EXPECT_EQ(p.writes, (W{Write::set(Slot::of(b2), a2), Write::set(Slot::root(), b2)}));
  EXPECT_EQ(p.retire, loaded_chain({"A", "B"}));
}

TEST(ChainPlan, FirstProgramOnAnEmptyHookFillsTheRootBeforeItIsAttached) {
  const auto p = plan_ok(C{}, C{brand_new("P")});
  EXPECT_EQ(p.root, RootChange::Create);
  EXPECT_EQ(p.build, C{brand_new("P")});
  EXPECT_EQ(p.writes, W{Write::set(Slot::root(), brand_new("P"))});
  EXPECT_EQ(p.flip_index, 0u);
}

TEST(ChainPlan, LastProgramLeavingClearsTheRootAndRetiresEverything) {
  const auto p = plan_ok(loaded_chain({"A", "B"}), C{});
  EXPECT_EQ(p.root, RootChange::Remove);
  EXPECT_EQ(p.writes, W{Write::clear(Slot::root())});
  EXPECT_EQ(p.retire, loaded_chain({"A", "B"}));
  EXPECT_TRUE(p.chain.empty());
}

TEST(ChainPlan, IdenticalChainsNeedNoWrite) {
  const auto p = plan_ok(loaded_chain({"A", "B"}), loaded_chain({"A", "B"}));
  EXPECT_FALSE(p.changes());
  EXPECT_TRUE(p.writes.empty());
  EXPECT_TRUE(p.build.empty());
  EXPECT_TRUE(p.retire.empty());
  const auto empty = plan_ok(C{}, C{});
  EXPECT_FALSE(empty.changes());
  EXPECT_EQ(empty.root, RootChange::Keep);
}

TEST(ChainPlan, RefusesChainsLongerThanTheTailCallLimit) {
  std::vector<std::string> names;
  for (std::size_t k = 0; k < kMaxChainLength; ++k) names.push_back("p" + std::to_string(k));
  FreshCounter fc;
  EXPECT_TRUE(plan_chain({}, loaded_chain(names), fc.fn()));
  names.push_back("one-too-many");
  auto too_long = plan_chain({}, loaded_chain(names), fc.fn());
  ASSERT_FALSE(too_long);
  EXPECT_EQ(too_long.error().code, Errc::InvalidPayload);
}

TEST(ChainPlan, RefusesDuplicatePrograms) {
  FreshCounter fc;
  auto dup_new = plan_chain({}, C{loaded("A"), brand_new("A")}, fc.fn());
  ASSERT_FALSE(dup_new);
  EXPECT_EQ(dup_new.error().code, Errc::InvalidPayload);
  EXPECT_NE(dup_new.error().message.find("A"), std::string::npos);
  auto dup_old = plan_chain(C{loaded("A"), brand_new("A")}, {}, fc.fn());
  ASSERT_FALSE(dup_old);
  EXPECT_EQ(dup_old.error().code, Errc::Internal);
}

TEST(ChainPlan, RefusesBadFreshInstances) {
  const auto old_chain = loaded_chain({"A", "B"});
  const auto new_chain = loaded_chain({"B", "A"});
  auto other_program = plan_chain(old_chain, new_chain, [](const Instance&) {
    return Instance{"Z", "f"};
  });
  ASSERT_FALSE(other_program);
  EXPECT_EQ(other_program.error().code, Errc::Internal);
  auto reused = plan_chain(old_chain, new_chain, [](const Instance& of) { return of; });
  ASSERT_FALSE(reused);
  EXPECT_EQ(reused.error().code, Errc::Internal);
  auto same_twice = plan_chain(loaded_chain({"A", "B", "C"}), loaded_chain({"C", "B", "A"}),
                               [](const Instance& of) {
                                 return Instance{of.program, "same"};
                               });
  EXPECT_TRUE(same_twice) << "distinct programs may share an id string: identity is the pair";
}

TEST(ChainLength, LimitIsRootPlusThirtyThree) {
  EXPECT_EQ(kMaxChainLength, 33u);
  EXPECT_TRUE(check_length(0));
  EXPECT_TRUE(check_length(33));
  auto e = check_length(34);
  ASSERT_FALSE(e);
  EXPECT_EQ(e.error().code, Errc::InvalidPayload);
  EXPECT_NE(e.error().message.find("34"), std::string::npos) << e.error().message;
  EXPECT_NE(e.error().message.find("33"), std::string::npos) << e.error().message;
}

}  // namespace
}  // namespace l3afd::chain::test
