// Encoder with the byte-exact output of Go's encoding/json (docs/compatibility.md §5.1):
// json.MarshalIndent(v, "", indent) for Writer::indented, json.Marshal for Writer::compact.
// HTML-safe string escaping, Go float64 formatting, no trailing newline.
// Pure. A Writer is not thread-safe; the free functions are.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "json/value.h"

namespace l3afd::json {

/// Appends `s` as a quoted JSON string with Go's escaping: \" \\ \n \r \t \b \f; other bytes
/// below 0x20 as \u00xx (lower-case hex); < > & as \u003c \u003e \u0026; U+2028/U+2029 as
/// \u2028/\u2029; each invalid UTF-8 byte as \ufffd. '/' and DEL are written raw.
void append_string(std::string& out, std::string_view s);

/// Appends a finite double as Go formats a float64: shortest round-trip digits, plain notation
/// when 1e-6 <= |x| < 1e21 (or x == 0), otherwise d.ddde±X with no leading exponent zeros;
/// -0 is "-0". Precondition: std::isfinite(d) (a non-finite value is written as "null").
void append_double(std::string& out, double d);

/// append_double into a new string.
std::string format_double(double d);

/// Streaming writer. Callers emit a well-formed sequence (key() before each member value of an
/// object, matching begin/end); violations are programmer errors and are not diagnosed.
class Writer {
 public:
  /// json.Marshal layout: no whitespace at all.
  static Writer compact();
  /// json.MarshalIndent(v, "", indent) layout: newline + indent per level, `"key": value`,
  /// empty containers as {} / [].
  static Writer indented(std::string_view indent);

  void begin_object();
  void end_object();
  void begin_array();
  void end_array();
  /// Next member's key (escaped like a string).
  void key(std::string_view k);

  void null_value();
  void bool_value(bool b);
  void int_value(std::int64_t i);
  void double_value(double d);
  void string_value(std::string_view s);
  /// A whole Value tree; object members come out sorted by key bytes (std::map order).
  void value(const Value& v);

  const std::string& str() const { return out_; }
  std::string take() { return std::move(out_); }

 private:
  Writer(bool pretty, std::string_view indent) : pretty_(pretty), indent_(indent) {}
  void before_value();
  void newline(std::size_t depth);

  struct Frame {
    bool empty = true;
  };
  bool pretty_;
  std::string indent_;
  std::string out_;
  std::vector<Frame> stack_;
  bool after_key_ = false;
};

/// Value as json.MarshalIndent(v, "", indent).
std::string encode_indent(const Value& v, std::string_view indent = "  ");
/// Value as json.Marshal(v).
std::string encode_compact(const Value& v);

}  // namespace l3afd::json
