// A JSON value that keeps what Go's encoding/json distinguishes and what l3afd must echo
// byte-exactly: null vs [] vs {}, numbers as IEEE doubles (Go decodes *_args members into
// interface{} -> float64), object members sorted by key bytes on output (Go sorts map keys).
// Pure, no I/O. Thread-safety: a value type.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <variant>
#include <vector>

namespace l3afd::json {

struct Value;
using Array = std::vector<Value>;
using Object = std::map<std::string, Value>;  // std::string compares bytes as unsigned char

struct Value {
  using Storage = std::variant<std::nullptr_t, bool, double, std::string, Array, Object>;
  Storage v = nullptr;

  Value() = default;
  Value(std::nullptr_t) {}
  Value(bool b) : v(b) {}
  Value(double d) : v(d) {}
  Value(std::string s) : v(std::move(s)) {}
  Value(Array a) : v(std::move(a)) {}
  Value(Object o) : v(std::move(o)) {}

  bool is_null() const { return std::holds_alternative<std::nullptr_t>(v); }
  /// Deep equality with Go reflect.DeepEqual semantics for decoded interface{} values
  /// (numbers compare as doubles, so 0 == -0).
  bool operator==(const Value& o) const = default;
};

}  // namespace l3afd::json
