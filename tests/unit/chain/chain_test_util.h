// Helpers shared by the chain tests: building instances and chains, a deterministic fresh-id
// generator, and the write-by-write invariant checker used by both the exhaustive test and its
// control (so the checker is known to be able to fail).
#pragma once

#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "chain/chain_types.h"
#include "chain/planner.h"
#include "chain/simulator.h"

namespace l3afd::chain {

inline void PrintTo(const Instance& i, std::ostream* os) {
  *os << to_string(i);
}
inline void PrintTo(const Slot& s, std::ostream* os) {
  *os << to_string(s);
}
inline void PrintTo(const Write& w, std::ostream* os) {
  *os << to_string(w);
}

}  // namespace l3afd::chain

namespace l3afd::chain::test {

/// The old-chain instance of a program: "<p>#o".
inline Instance loaded(const std::string& p) {
  return Instance{p, "o"};
}
/// A caller-supplied new instance (not loaded yet, or a new definition): "<p>#n".
inline Instance brand_new(const std::string& p) {
  return Instance{p, "n"};
}

inline std::vector<Instance> loaded_chain(const std::vector<std::string>& ps) {
  std::vector<Instance> out;
  for (const auto& p : ps) out.push_back(loaded(p));
  return out;
}

/// Program names of a chain, in order.
inline std::vector<std::string> programs(const std::vector<Instance>& chain) {
  std::vector<std::string> out;
  for (const auto& i : chain) out.push_back(i.program);
  return out;
}

inline std::string show(const std::vector<std::string>& ps) {
  std::string out = "[";
  for (const auto& p : ps) out += (out.size() > 1 ? "," : "") + p;
  return out + "]";
}
inline std::string show(const std::vector<Instance>& chain) {
  std::string out = "[";
  for (const auto& i : chain) out += (out.size() > 1 ? "," : "") + to_string(i);
  return out + "]";
}

/// fresh(): "<p>#f<k>" with a counter, so every call yields a distinct instance.
class FreshCounter {
 public:
  FreshInstance fn() {
    return [this](const Instance& of) {
      ++calls_;
      return Instance{of.program, "f" + std::to_string(calls_)};
    };
  }
  int calls() const { return calls_; }

 private:
  int calls_ = 0;
};

/// Applies `writes` one at a time to wired(old) and checks I1 by program after every write:
/// the reachable chain names exactly old's programs or exactly new's programs, and at the end
/// exactly new's. Returns a description of the first violation, or nullopt.
inline std::optional<std::string> first_violation(const std::vector<Instance>& old_chain,
                                                  const std::vector<Instance>& new_chain,
                                                  const std::vector<Write>& writes) {
  const auto want_old = programs(old_chain);
  const auto want_new = programs(new_chain);
  ChainState st = wired(old_chain);
  for (std::size_t k = 0; k < writes.size(); ++k) {
    auto next = apply(st, writes[k]);
    if (!next) return "write " + std::to_string(k) + " rejected: " + next.error().to_string();
    st = std::move(*next);
    auto r = reachable(st);
    if (!r) return "after write " + std::to_string(k) + ": " + r.error().to_string();
    const auto got = programs(*r);
    if (got != want_old && got != want_new) {
      return "after write " + std::to_string(k) + " (" + to_string(writes[k]) + ") reachable " +
             show(got) + " is neither old " + show(want_old) + " nor new " + show(want_new);
    }
  }
  auto r = reachable(st);
  if (!r) return "at the end: " + r.error().to_string();
  if (programs(*r) != want_new) return "at the end reachable is " + show(programs(*r));
  return std::nullopt;
}

}  // namespace l3afd::chain::test
