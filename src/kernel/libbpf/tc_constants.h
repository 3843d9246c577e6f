// The identity of l3afd's legacy (clsact) TC filters. A filter is deleted or replaced only by
// this exact handle and priority, so filters of other owners on the same hook are never touched
// (docs/compatibility.md §18 D20, docs/chain-protocol.md §4.7).
#pragma once

#include <cstdint>

namespace l3afd::kernel::libbpf {

inline constexpr uint32_t kClassicFilterHandle = 0x1a3f;
inline constexpr uint16_t kClassicFilterPriority = 0xc3af;

}  // namespace l3afd::kernel::libbpf
