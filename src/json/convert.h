// Go decoding of JSON numbers and of untyped values (interface{}): Node -> Value.
// Pure. Thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/result.h"
#include "json/node.h"
#include "json/value.h"

namespace l3afd::json {

/// Go strconv.ParseInt(raw, 10, 64) on a JSON number literal: only integer syntax
/// ("-12"; not "1.0", "1e2") within the signed 64-bit range; nullopt otherwise.
std::optional<std::int64_t> parse_int64(std::string_view raw) noexcept;

/// Go strconv.ParseFloat(raw, 64) on a JSON number literal: correctly rounded; values too small
/// for a double become ±0; nullopt when the literal is out of float64 range or malformed.
std::optional<double> parse_double(std::string_view raw) noexcept;

/// Decodes a node as Go decodes into interface{}: null, bool, float64, string, []interface{},
/// map[string]interface{} (for duplicate keys the later value wins).
/// Errors: Errc::InvalidJson when a number does not fit a double; the single ErrorItem's
/// `field` is `pointer` extended to the offending number.
Result<Value> to_value(const Node& n, std::string_view pointer = "");

/// Escapes one JSON pointer reference token (RFC 6901): '~' -> "~0", '/' -> "~1".
std::string pointer_token(std::string_view token);

}  // namespace l3afd::json
