#include "chain/simulator.h"

#include <set>
#include <utility>

namespace l3afd::chain {

ChainState wired(const std::vector<Instance>& chain) {
  ChainState st;
  Slot owner = Slot::root();
  for (const auto& i : chain) {
    st.slots[owner] = i;
    owner = Slot::of(i);
  }
  st.slots[owner] = std::nullopt;
  return st;
}

Result<ChainState> apply(ChainState state, const Write& w) {
  switch (w.kind) {
    case WriteKind::Set:
      if (!w.target) return fail(Errc::Internal, "set write without target: " + to_string(w));
      state.slots[w.owner] = *w.target;
      return state;
    case WriteKind::Clear:
      if (w.target) return fail(Errc::Internal, "clear write with a target: " + to_string(w));
      state.slots[w.owner] = std::nullopt;
      return state;
  }
  return fail(Errc::Internal, "unknown write kind");
}

Result<std::vector<Instance>> reachable(const ChainState& state) {
  std::vector<Instance> out;
  std::set<Instance> seen;
  Slot at = Slot::root();
  // Each step visits a distinct slot key, so a cycle-free walk takes at most slots.size() steps.
  for (std::size_t steps = 0; steps <= state.slots.size(); ++steps) {
    auto it = state.slots.find(at);
    if (it == state.slots.end() || !it->second) return out;
    const Instance& next = *it->second;
    if (!seen.insert(next).second) {
      return fail(Errc::Internal, "chain has a cycle: " + to_string(next) + " is reached twice");
    }
    out.push_back(next);
    at = Slot::of(next);
  }
  return fail(Errc::Internal, "chain walk exceeded the number of slots");
}

}  // namespace l3afd::chain
