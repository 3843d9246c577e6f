#include "chain/planner.h"

#include <algorithm>
#include <cstddef>
#include <set>
#include <string>
#include <utility>

namespace l3afd::chain {

namespace {

/// The program named twice in `chain`, if any.
std::optional<std::string> duplicate_program(const std::vector<Instance>& chain) {
  std::set<std::string> seen;
  for (const auto& i : chain) {
    if (!seen.insert(i.program).second) return i.program;
  }
  return std::nullopt;
}

bool contains(const std::vector<Instance>& v, const Instance& i) {
  return std::find(v.begin(), v.end(), i) != v.end();
}

}  // namespace

Status check_length(std::size_t n) {
  if (n <= kMaxChainLength) return ok();
  return fail(Errc::InvalidPayload, "chain of " + std::to_string(n) +
                                        " programs exceeds the tail-call limit of " +
                                        std::to_string(kMaxChainLength) + " programs per hook");
}

Result<Plan> plan_chain(const std::vector<Instance>& old_chain,
                        const std::vector<Instance>& new_chain, const FreshInstance& fresh) {
  if (auto st = check_length(new_chain.size()); !st) return fail(std::move(st.error()));
  if (auto d = duplicate_program(new_chain)) {
    return fail(Errc::InvalidPayload, "program " + *d + " appears twice in the chain of a hook");
  }
  if (auto d = duplicate_program(old_chain)) {
    return fail(Errc::Internal, "live chain lists program " + *d + " twice");
  }

  const std::size_t m = old_chain.size();
  const std::size_t n = new_chain.size();
  Plan plan;
  std::size_t a = 0;
  while (a < m && a < n && old_chain[a] == new_chain[a]) ++a;
  std::size_t s = 0;
  while (s < m - a && s < n - a && old_chain[m - 1 - s] == new_chain[n - 1 - s]) ++s;
  plan.prefix = a;
  plan.suffix = s;
  if (m == 0 && n > 0) plan.root = RootChange::Create;
  if (m > 0 && n == 0) plan.root = RootChange::Remove;

  // The chain after the flip: prefix and suffix kept, the middle built anew.
  plan.chain.assign(new_chain.begin(), new_chain.begin() + static_cast<std::ptrdiff_t>(a));
  for (std::size_t k = a; k < n - s; ++k) {
    const Instance& want = new_chain[k];
    if (!contains(old_chain, want)) {
      plan.build.push_back(want);
      continue;
    }
    Instance made = fresh(want);
    if (made.program != want.program) {
      return fail(Errc::Internal, "fresh instance " + to_string(made) + " for " + to_string(want) +
                                      " is of another program");
    }
    if (contains(old_chain, made) || contains(new_chain, made) || contains(plan.build, made)) {
      return fail(Errc::Internal, "fresh instance " + to_string(made) + " already exists");
    }
    plan.build.push_back(std::move(made));
  }
  plan.chain.insert(plan.chain.end(), plan.build.begin(), plan.build.end());
  plan.chain.insert(plan.chain.end(), new_chain.begin() + static_cast<std::ptrdiff_t>(n - s),
                    new_chain.end());

  if (a == m && a == n) return plan;  // identical chains: nothing to write or retire

  // Wire the middle backwards, so each write points at something already complete.
  const std::vector<Instance>& mid = plan.build;
  const std::optional<Instance> first_suffix =
      s > 0 ? std::optional<Instance>(new_chain[n - s]) : std::nullopt;
  for (std::size_t k = mid.size(); k-- > 0;) {
    if (k + 1 < mid.size()) {
      plan.writes.push_back(Write::set(Slot::of(mid[k]), mid[k + 1]));
    } else if (first_suffix) {
      plan.writes.push_back(Write::set(Slot::of(mid[k]), *first_suffix));
    }
  }

  // The flip: the last kept prefix element (or the root) now leads into the new part.
  const Slot flip_owner = a > 0 ? Slot::of(new_chain[a - 1]) : Slot::root();
  if (!mid.empty()) {
    plan.writes.push_back(Write::set(flip_owner, mid.front()));
  } else if (first_suffix) {
    plan.writes.push_back(Write::set(flip_owner, *first_suffix));
  } else {
    plan.writes.push_back(Write::clear(flip_owner));
  }
  plan.flip_index = plan.writes.size() - 1;

  plan.retire.assign(old_chain.begin() + static_cast<std::ptrdiff_t>(a),
                     old_chain.begin() + static_cast<std::ptrdiff_t>(m - s));
  return plan;
}

}  // namespace l3afd::chain
