// Strict RFC 8259 parser (the syntax accepted by Go's encoding/json) into a json::Node tree.
// Pure. Thread-safe (no shared state).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <tl/expected.hpp>

#include "core/result.h"
#include "json/node.h"

namespace l3afd::json {

inline constexpr std::size_t kDefaultMaxDepth = 256;

struct ParseOptions {
  /// Arrays/objects nested deeper than this are refused with a SyntaxError (never a crash).
  std::size_t max_depth = kDefaultMaxDepth;
};

/// Where and why a text is not valid JSON.
struct SyntaxError {
  std::size_t offset = 0;  ///< byte offset of the offending character (input size at EOF)
  std::string reason;      ///< lower case, e.g. "invalid character 'x' after object key"
};

/// Parses exactly one JSON value with optional surrounding whitespace (space, tab, CR, LF).
/// Strings: escapes are decoded; an unpaired surrogate escape becomes U+FFFD; each invalid
/// UTF-8 byte becomes U+FFFD; raw control characters are refused. Numbers must follow the
/// RFC 8259 grammar and are kept as raw text. Duplicate keys and member order are kept.
tl::expected<Node, SyntaxError> parse(std::string_view text, const ParseOptions& options = {});

/// Converts a SyntaxError into Errc::InvalidJson with message
/// "invalid json at byte <offset>: <reason>".
Error to_error(const SyntaxError& e);

}  // namespace l3afd::json
