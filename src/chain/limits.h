// The tail-call limit of a chained hook, the one definition (model/validate and chain/planner
// use it). Header-only, no dependencies.
#pragma once

#include <cstddef>

namespace l3afd::chain {

/// Tail-call limit (K4, MAX_TAIL_CALL_CNT): the root plus at most 33 chained programs.
inline constexpr std::size_t kMaxChainLength = 33;

}  // namespace l3afd::chain
