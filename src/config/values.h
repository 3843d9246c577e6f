// Parsers for the value syntaxes of l3afd.cfg, matching Go's behaviour exactly
// (docs/compatibility.md §8.1 item 9): robfig/config booleans, strconv.Atoi integers and
// time.ParseDuration durations. Pure functions; thread-safe; total on every input.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string_view>

namespace l3afd::config {

/// Go/robfig boolean: `t true y yes on 1` -> true, `f false n no off 0` -> false,
/// case-insensitive (ASCII). Anything else (including surrounding spaces) -> nullopt.
std::optional<bool> parse_go_bool(std::string_view text) noexcept;

/// Go strconv.Atoi on 64-bit: optional `+`/`-` then one or more decimal digits, the value in
/// int64 range. No spaces, no underscores, no base prefixes. Anything else -> nullopt.
std::optional<std::int64_t> parse_go_int(std::string_view text) noexcept;

/// Go time.ParseDuration: optional sign, then one or more `<number><unit>` terms where number
/// is `digits`, `digits.`, `.digits` or `digits.digits` and unit is ns, us, µs (U+00B5),
/// μs (U+03BC), ms, s, m or h; a bare `0` (optionally signed) is also accepted. Values outside
/// the int64 nanosecond range, empty text, a missing or unknown unit -> nullopt.
std::optional<std::chrono::nanoseconds> parse_go_duration(std::string_view text) noexcept;

}  // namespace l3afd::config
