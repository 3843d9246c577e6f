#include "chain/chain_types.h"

namespace l3afd::chain {

std::string to_string(const Instance& i) {
  return i.program + "#" + i.id;
}

std::string to_string(const Slot& s) {
  return s.is_root() ? "root" : to_string(*s.owner);
}

std::string to_string(const Write& w) {
  std::string out = to_string(w.owner) + "[0] := ";
  if (w.kind == WriteKind::Clear) return out + "clear";
  return out + (w.target ? to_string(*w.target) : "<missing target>");
}

}  // namespace l3afd::chain
