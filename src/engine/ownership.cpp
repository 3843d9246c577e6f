#include "engine/ownership.h"

#include <algorithm>
#include <iterator>

namespace l3afd::engine {

std::vector<OwnedInstance> owned_by(const AppliedState& s) {
  std::vector<OwnedInstance> out;
  for (const auto& [iface, rec] : s.ifaces) {
    for (const auto& [h, progs] : rec.hooks) {
      for (const auto& r : progs) out.push_back({iface, r.paths});
    }
    for (const auto& [h, root] : rec.roots) out.push_back({iface, root.paths});
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

std::vector<OwnedInstance> merge_owned(const std::vector<OwnedInstance>& a,
                                       const std::vector<OwnedInstance>& b) {
  std::vector<OwnedInstance> out;
  std::set_union(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(out));
  return out;
}

}  // namespace l3afd::engine
