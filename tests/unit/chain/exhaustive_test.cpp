// Every pair (old, new) of chains over the programs {A,B,C,D} (each chain an ordered selection
// without repetition of 0..4 programs: 65 chains, 4225 pairs), with every choice of which
// programs common to both are upgraded (a new instance in the new chain). The plan's writes are
// applied one at a time and the invariants are checked after each (docs/chain-protocol.md §4.1 I1,
// I2). The control applies the original l3afd order (clear the predecessor first, §3 W1/W3) and
// must be caught by the same checker.
#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <set>

#include "chain_test_util.h"

namespace l3afd::chain::test {
namespace {

const std::vector<std::string> kUniverse = {"A", "B", "C", "D"};

/// All ordered selections without repetition of 0..4 programs of kUniverse.
std::vector<std::vector<std::string>> all_chains() {
  std::vector<std::vector<std::string>> out;
  std::vector<std::string> cur;
  std::function<void()> rec = [&] {
    out.push_back(cur);
    for (const auto& p : kUniverse) {
      if (std::find(cur.begin(), cur.end(), p) != cur.end()) continue;
      cur.push_back(p);
      rec();
      cur.pop_back();
    }
  };
  rec();
  return out;
}

bool has(const std::vector<Instance>& v, const Instance& i) {
  return std::find(v.begin(), v.end(), i) != v.end();
}

/// The new chain: programs also in `old` keep their loaded instance unless listed in
/// `upgraded`; all others are brand-new instances.
std::vector<Instance> new_instances(const std::vector<std::string>& old_ps,
                                    const std::vector<std::string>& new_ps,
                                    const std::set<std::string>& upgraded) {
  std::vector<Instance> out;
  for (const auto& p : new_ps) {
    bool in_old = std::find(old_ps.begin(), old_ps.end(), p) != old_ps.end();
    out.push_back(in_old && !upgraded.contains(p) ? loaded(p) : brand_new(p));
  }
  return out;
}

/// All checks for one (old, new) pair; reports failures through gtest.
void check_pair(const std::vector<Instance>& old_chain, const std::vector<Instance>& new_chain) {
  FreshCounter fc;
  auto plan = plan_chain(old_chain, new_chain, fc.fn());
  ASSERT_TRUE(plan) << plan.error().to_string();
  const std::size_t m = old_chain.size(), n = new_chain.size();

  // Shape of the plan.
  ASSERT_LE(plan->prefix + plan->suffix, std::min(m, n));
  for (std::size_t k = 0; k < plan->prefix; ++k) ASSERT_EQ(old_chain[k], new_chain[k]);
  for (std::size_t k = 0; k < plan->suffix; ++k) {
    ASSERT_EQ(old_chain[m - 1 - k], new_chain[n - 1 - k]);
  }
  ASSERT_EQ(plan->build.size(), n - plan->prefix - plan->suffix);
  ASSERT_EQ(plan->changes(), old_chain != new_chain);
  if (!plan->changes()) {
    EXPECT_TRUE(plan->writes.empty());
    EXPECT_TRUE(plan->build.empty());
    EXPECT_TRUE(plan->retire.empty());
    EXPECT_EQ(plan->chain, old_chain);
    return;
  }
  ASSERT_EQ(*plan->flip_index, plan->writes.size() - 1) << "the flip is the last write";
  EXPECT_EQ(plan->root, m == 0   ? RootChange::Create
                        : n == 0 ? RootChange::Remove
                                 : RootChange::Keep);

  // Wiring writes touch only arrays of instances being built (unreachable before the flip).
  for (std::size_t k = 0; k < *plan->flip_index; ++k) {
    const Write& w = plan->writes[k];
    ASSERT_FALSE(w.owner.is_root()) << to_string(w);
    ASSERT_TRUE(has(plan->build, *w.owner.owner)) << to_string(w);
  }

  // Apply one write at a time: before the flip exactly the old instances are reachable, from
  // the flip on exactly the new ones (I1 and I2, by instance).
  ChainState st = wired(old_chain);
  for (std::size_t k = 0; k < plan->writes.size(); ++k) {
    auto next = apply(st, plan->writes[k]);
    ASSERT_TRUE(next) << next.error().to_string();
    st = std::move(*next);
    auto r = reachable(st);
    ASSERT_TRUE(r) << "after write " << k << ": " << r.error().to_string();
    if (k < *plan->flip_index) {
      ASSERT_EQ(*r, old_chain) << "write " << k << " " << to_string(plan->writes[k])
                               << " changed the live chain before the flip";
    } else {
      ASSERT_EQ(*r, plan->chain) << "after the flip";
    }
  }
  // I1 by program (the property the issue states), with the checker the control uses.
  auto v = first_violation(old_chain, new_chain, plan->writes);
  ASSERT_FALSE(v.has_value()) << *v;

  // End state: the new programs in order; kept instances come from old, others were built.
  auto end = reachable(st);
  ASSERT_TRUE(end);
  ASSERT_EQ(programs(*end), programs(new_chain));
  std::set<Instance> built(plan->build.begin(), plan->build.end());
  ASSERT_EQ(built.size(), plan->build.size()) << "an instance is built twice";
  for (const auto& i : *end) {
    ASSERT_NE(has(old_chain, i), built.contains(i)) << to_string(i) << " kept xor built";
  }
  for (const auto& b : plan->build) ASSERT_FALSE(has(old_chain, b)) << to_string(b);
  // Retired: exactly the old instances that are no longer reachable.
  for (const auto& o : old_chain) {
    ASSERT_EQ(has(plan->retire, o), !has(*end, o)) << to_string(o);
  }
  ASSERT_TRUE(std::is_sorted(plan->retire.begin(), plan->retire.end(),
                             [&](const Instance& x, const Instance& y) {
                               return std::find(old_chain.begin(), old_chain.end(), x) <
                                      std::find(old_chain.begin(), old_chain.end(), y);
                             }))
      << "retire is in old-chain order";
  // fresh() is asked only for loaded instances that must be rebuilt.
  int rebuilt = 0;
  for (std::size_t k = plan->prefix; k < n - plan->suffix; ++k) {
    rebuilt += has(old_chain, new_chain[k]) ? 1 : 0;
  }
  EXPECT_EQ(fc.calls(), rebuilt);
}

TEST(ChainExhaustive, EveryWriteKeepsAWholeChainForAllPairsOfFourPrograms) {
  const auto chains = all_chains();
  ASSERT_EQ(chains.size(), 65u);
  std::size_t pairs = 0, cases = 0;
  for (const auto& old_ps : chains) {
    for (const auto& new_ps : chains) {
      ++pairs;
      std::vector<std::string> common;
      for (const auto& p : new_ps) {
        if (std::find(old_ps.begin(), old_ps.end(), p) != old_ps.end()) common.push_back(p);
      }
      // Every subset of the common programs is upgraded once (mask 0: nothing upgraded).
      for (unsigned mask = 0; mask < (1u << common.size()); ++mask) {
        std::set<std::string> upgraded;
        for (std::size_t b = 0; b < common.size(); ++b) {
          if (mask & (1u << b)) upgraded.insert(common[b]);
        }
        ++cases;
        const auto old_chain = loaded_chain(old_ps);
        const auto new_chain = new_instances(old_ps, new_ps, upgraded);
        SCOPED_TRACE("old " + show(old_chain) + " new " + show(new_chain));
        check_pair(old_chain, new_chain);
        if (testing::Test::HasFailure()) return;  // one clear report instead of thousands
      }
    }
  }
  EXPECT_EQ(pairs, 4225u);
  // Sum over pairs of 2^|common|; more than the pairs themselves.
  EXPECT_GT(cases, pairs);
  RecordProperty("cases", static_cast<int>(cases));
}

/// The original l3afd order for the same transition (docs/chain-protocol.md §3 W1, W3): clear the
/// predecessor's slot first; unloading a removed program empties its own array (K3); then link
/// the predecessor to the new part and wire the new programs forwards.
std::vector<Write> original_order(const Plan& plan) {
  std::vector<Write> out;
  const Slot pred = plan.prefix > 0 ? Slot::of(plan.chain[plan.prefix - 1]) : Slot::root();
  out.push_back(Write::clear(pred));
  for (const auto& gone : plan.retire) out.push_back(Write::clear(Slot::of(gone)));
  const auto& mid = plan.build;
  const std::size_t n = plan.chain.size();
  std::optional<Instance> first_suffix;
  if (plan.suffix > 0) first_suffix = plan.chain[n - plan.suffix];
  if (!mid.empty()) {
    out.push_back(Write::set(pred, mid.front()));
  } else if (first_suffix) {
    out.push_back(Write::set(pred, *first_suffix));
  }
  for (std::size_t k = 0; k + 1 < mid.size(); ++k) {
    out.push_back(Write::set(Slot::of(mid[k]), mid[k + 1]));
  }
  if (!mid.empty() && first_suffix) out.push_back(Write::set(Slot::of(mid.back()), *first_suffix));
  return out;
}

std::optional<std::string> control_violation(const std::vector<std::string>& old_ps,
                                             const std::vector<std::string>& new_ps) {
  const auto old_chain = loaded_chain(old_ps);
  const auto new_chain = new_instances(old_ps, new_ps, {});
  FreshCounter fc;
  auto plan = plan_chain(old_chain, new_chain, fc.fn());
  if (!plan) return "plan failed: " + plan.error().to_string();
  if (!plan->changes()) return std::nullopt;
  return first_violation(old_chain, new_chain, original_order(*plan));
}

TEST(ChainExhaustive, ControlOriginalOrderIsCaughtByTheSameChecker) {
  const auto chains = all_chains();
  std::size_t violating = 0, pairs = 0;
  for (const auto& old_ps : chains) {
    for (const auto& new_ps : chains) {
      ++pairs;
      if (control_violation(old_ps, new_ps)) ++violating;
    }
  }
  EXPECT_EQ(pairs, 4225u);
  EXPECT_GT(violating, 0u) << "the checker never fails: it proves nothing";
  EXPECT_LT(violating, pairs) << "append (W2) has no window in the original either";
  RecordProperty("violating_pairs", static_cast<int>(violating));

  // W1: insert B between A and C bypasses B and C while A's slot is clear.
  auto w1 = control_violation({"A", "C"}, {"A", "B", "C"});
  ASSERT_TRUE(w1.has_value());
  EXPECT_NE(w1->find("reachable [A]"), std::string::npos) << *w1;
  // W3: removing B between A and C empties B's array while A still points at B.
  auto w3 = control_violation({"A", "B", "C"}, {"A", "C"});
  ASSERT_TRUE(w3.has_value());
  // W2: appending after the last program has no window.
  EXPECT_FALSE(control_violation({"A"}, {"A", "B"}).has_value());
}

}  // namespace
}  // namespace l3afd::chain::test
