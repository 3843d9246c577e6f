#include "json/encode.h"

#include <charconv>
#include <cmath>

#include "json/utf8.h"

namespace l3afd::json {

namespace {

constexpr char kHex[] = "0123456789abcdef";

void append_u4(std::string& out, unsigned v) {
  out += "\\u";
  out.push_back(kHex[(v >> 12) & 0xF]);
  out.push_back(kHex[(v >> 8) & 0xF]);
  out.push_back(kHex[(v >> 4) & 0xF]);
  out.push_back(kHex[v & 0xF]);
}

}  // namespace

void append_string(std::string& out, std::string_view s) {
  out.push_back('"');
  std::size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      switch (c) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        case '\b': out += "\\b"; break;
        case '\f': out += "\\f"; break;
        case '<':
        case '>':
        case '&': append_u4(out, c); break;
        default:
          if (c < 0x20) {
            append_u4(out, c);
          } else {
            out.push_back(static_cast<char>(c));
          }
      }
      ++i;
      continue;
    }
    const DecodedRune d = decode_rune(s.substr(i));
    if (!d.valid) {
      out += "\\ufffd";
    } else if (d.rune == 0x2028 || d.rune == 0x2029) {
      append_u4(out, d.rune);
    } else {
      out.append(s.substr(i, d.size));
    }
    i += d.size;
  }
  out.push_back('"');
}

void append_double(std::string& out, double d) {
  if (!std::isfinite(d)) {
    out += "null";
    return;
  }
  // Shortest round-trip digits come from the scientific form ("-d.ddde±XX"); Go then lays
  // them out in plain or exponent notation. (to_chars' own fixed form would print the exact
  // binary value of large numbers, e.g. 999999999999999868928 instead of Go's ...900000.)
  char buf[64];
  const auto res = std::to_chars(buf, buf + sizeof buf, d, std::chars_format::scientific);
  std::string_view text(buf, static_cast<std::size_t>(res.ptr - buf));
  const bool negative = text.front() == '-';
  if (negative) text.remove_prefix(1);
  const std::size_t e = text.find('e');
  std::string digits(text.substr(0, e));
  if (digits.size() > 1) digits.erase(1, 1);  // drop the '.'
  int exp = 0;
  std::from_chars(text.data() + e + 1 + (text[e + 1] == '+' ? 1 : 0), text.data() + text.size(),
                  exp);

  if (negative) out.push_back('-');
  const double a = std::fabs(d);
  if (a != 0 && (a < 1e-6 || a >= 1e21)) {
    out.push_back(digits[0]);
    if (digits.size() > 1) {
      out.push_back('.');
      out.append(digits, 1);
    }
    out.push_back('e');
    out.push_back(exp < 0 ? '-' : '+');
    out += std::to_string(exp < 0 ? -exp : exp);  // no leading zeros (Go strips e-07 -> e-7)
    return;
  }
  if (exp < 0) {
    out += "0.";
    out.append(static_cast<std::size_t>(-exp - 1), '0');
    out += digits;
    return;
  }
  const auto int_len = static_cast<std::size_t>(exp) + 1;
  if (digits.size() <= int_len) {
    out += digits;
    out.append(int_len - digits.size(), '0');
  } else {
    out.append(digits, 0, int_len);
    out.push_back('.');
    out.append(digits, int_len);
  }
}

std::string format_double(double d) {
  std::string s;
  append_double(s, d);
  return s;
}

Writer Writer::compact() {
  return Writer(false, "");
}

Writer Writer::indented(std::string_view indent) {
  return Writer(true, indent);
}

void Writer::newline(std::size_t depth) {
  out_.push_back('\n');
  for (std::size_t i = 0; i < depth; ++i) out_ += indent_;
}

void Writer::before_value() {
  if (after_key_) {
    after_key_ = false;
    return;
  }
  if (stack_.empty()) return;
  Frame& f = stack_.back();
  if (!f.empty) out_.push_back(',');
  f.empty = false;
  if (pretty_) newline(stack_.size());
}

void Writer::begin_object() {
  before_value();
  out_.push_back('{');
  stack_.push_back({});
}

void Writer::end_object() {
  const bool empty = stack_.back().empty;
  stack_.pop_back();
  if (!empty && pretty_) newline(stack_.size());
  out_.push_back('}');
}

void Writer::begin_array() {
  before_value();
  out_.push_back('[');
  stack_.push_back({});
}

void Writer::end_array() {
  const bool empty = stack_.back().empty;
  stack_.pop_back();
  if (!empty && pretty_) newline(stack_.size());
  out_.push_back(']');
}

void Writer::key(std::string_view k) {
  Frame& f = stack_.back();
  if (!f.empty) out_.push_back(',');
  f.empty = false;
  if (pretty_) newline(stack_.size());
  append_string(out_, k);
  out_ += pretty_ ? ": " : ":";
  after_key_ = true;
}

void Writer::null_value() {
  before_value();
  out_ += "null";
}

void Writer::bool_value(bool b) {
  before_value();
  out_ += b ? "true" : "false";
}

void Writer::int_value(std::int64_t i) {
  before_value();
  out_ += std::to_string(i);
}

void Writer::double_value(double d) {
  before_value();
  append_double(out_, d);
}

void Writer::string_value(std::string_view s) {
  before_value();
  append_string(out_, s);
}

void Writer::value(const Value& v) {
  if (v.is_null()) {
    null_value();
  } else if (const auto* b = std::get_if<bool>(&v.v)) {
    bool_value(*b);
  } else if (const auto* d = std::get_if<double>(&v.v)) {
    double_value(*d);
  } else if (const auto* s = std::get_if<std::string>(&v.v)) {
    string_value(*s);
  } else if (const auto* a = std::get_if<Array>(&v.v)) {
    begin_array();
    for (const Value& e : *a) value(e);
    end_array();
  } else if (const auto* o = std::get_if<Object>(&v.v)) {
    begin_object();
    for (const auto& [k, e] : *o) {
      key(k);
      value(e);
    }
    end_object();
  }
}

std::string encode_indent(const Value& v, std::string_view indent) {
  Writer w = Writer::indented(indent);
  w.value(v);
  return w.take();
}

std::string encode_compact(const Value& v) {
  Writer w = Writer::compact();
  w.value(v);
  return w.take();
}

}  // namespace l3afd::json
