// The parse tree of a JSON text: keeps what Go's decoder needs and json::Value drops —
// member order, duplicate keys, the raw text of numbers, and byte offsets for error reports.
// Strings are already unescaped and valid UTF-8. Pure. Value type.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace l3afd::json {

struct Member;

struct Node {
  /// List = JSON array, Map = JSON object (named so as not to shadow json::Array/Object).
  enum class Kind : std::uint8_t { Null, Bool, Number, String, List, Map };

  Kind kind = Kind::Null;
  bool boolean = false;         ///< Bool: the value
  std::string text;             ///< String: decoded UTF-8; Number: the raw literal as written
  std::vector<Node> elements;   ///< Array: in document order
  std::vector<Member> members;  ///< Object: in document order, duplicates kept
  std::size_t offset = 0;       ///< byte offset of the value's first character in the input

  bool is_null() const { return kind == Kind::Null; }
};

struct Member {
  std::string key;  ///< decoded key (valid UTF-8)
  Node value;
};

/// Lower-case English name of a kind, for error messages: "null", "boolean", "number",
/// "string", "array", "object".
std::string_view kind_name(Node::Kind k) noexcept;

}  // namespace l3afd::json
