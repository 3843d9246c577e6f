// The version of a daemon release in a restart request (compat §16.2 step 1;
// docs/compatibility.md §16, D39). Pure; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/result.h"

namespace l3afd::restart {

/// Accepts exactly `vX.Y.Z` where each of X, Y, Z is a decimal integer in [0, limit] written
/// without sign, spaces or leading zeros ("0" is accepted, "01" is not: the Original accepted
/// exactly the strings fmt "%d" produces). Validated by parsing, not against a precomputed set
/// of all such strings (D39 e). Returns the version (the accepted text is its canonical form).
/// Errors: InvalidPayload, the message naming the field `version`, the value (quoted, control
/// bytes escaped) and the reason, e.g.
///   version "v1.2": expected vX.Y.Z with X, Y, Z integers in [0, 100]: 2 parts, not 3
/// A negative `limit` accepts nothing.
Result<std::string> parse_restart_version(std::string_view v, std::int64_t limit);

}  // namespace l3afd::restart
