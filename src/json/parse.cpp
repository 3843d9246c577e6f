#include "json/parse.h"

#include <cstdio>

#include "json/utf8.h"

namespace l3afd::json {

std::string_view kind_name(Node::Kind k) noexcept {
  switch (k) {
    case Node::Kind::Null: return "null";
    case Node::Kind::Bool: return "boolean";
    case Node::Kind::Number: return "number";
    case Node::Kind::String: return "string";
    case Node::Kind::List: return "array";
    case Node::Kind::Map: return "object";
  }
  return "value";
}

namespace {

/// Quotes a byte for an error message: 'x' for printable ASCII, otherwise 0xNN.
std::string describe(char c) {
  const auto u = static_cast<unsigned char>(c);
  char buf[16];
  if (u >= 0x20 && u < 0x7F) {
    std::snprintf(buf, sizeof buf, "'%c'", c);
  } else {
    std::snprintf(buf, sizeof buf, "byte 0x%02x", u);
  }
  return buf;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

class Parser {
 public:
  Parser(std::string_view text, const ParseOptions& options) : s_(text), opts_(options) {}

  tl::expected<Node, SyntaxError> run() {
    skip_ws();
    if (pos_ >= s_.size()) return error("unexpected end of input, expected a value");
    Node root;
    if (!value(root, 0)) return tl::unexpected(std::move(err_));
    skip_ws();
    if (pos_ < s_.size())
      return error("invalid character " + describe(s_[pos_]) + " after top-level value");
    return root;
  }

 private:
  tl::unexpected<SyntaxError> error(std::string reason) {
    return tl::unexpected(SyntaxError{pos_, std::move(reason)});
  }
  bool fail(std::string reason) {
    err_ = SyntaxError{pos_, std::move(reason)};
    return false;
  }
  bool fail_eof(std::string_view what) {
    return fail("unexpected end of input " + std::string(what));
  }

  void skip_ws() {
    while (pos_ < s_.size()) {
      const char c = s_[pos_];
      if (c != ' ' && c != '\t' && c != '\n' && c != '\r') break;
      ++pos_;
    }
  }

  bool value(Node& out, std::size_t depth) {
    out.offset = pos_;
    if (pos_ >= s_.size()) return fail_eof("looking for beginning of value");
    const char c = s_[pos_];
    switch (c) {
      case '{': return object(out, depth + 1);
      case '[': return array(out, depth + 1);
      case '"': out.kind = Node::Kind::String; return string(out.text);
      case 't':
        out.kind = Node::Kind::Bool;
        out.boolean = true;
        return literal("true");
      case 'f':
        out.kind = Node::Kind::Bool;
        out.boolean = false;
        return literal("false");
      case 'n': out.kind = Node::Kind::Null; return literal("null");
      default: break;
    }
    if (c == '-' || (c >= '0' && c <= '9')) {
      out.kind = Node::Kind::Number;
      return number(out.text);
    }
    return fail("invalid character " + describe(c) + " looking for beginning of value");
  }

  bool literal(std::string_view word) {
    for (std::size_t i = 0; i < word.size(); ++i) {
      if (pos_ >= s_.size()) return fail_eof("in literal " + std::string(word));
      if (s_[pos_] != word[i]) {
        return fail("invalid character " + describe(s_[pos_]) + " in literal " + std::string(word));
      }
      ++pos_;
    }
    return true;
  }

  bool digits(std::string_view where) {
    if (pos_ >= s_.size()) return fail_eof(where);
    if (s_[pos_] < '0' || s_[pos_] > '9') {
      return fail("invalid character " + describe(s_[pos_]) + " " + std::string(where));
    }
    while (pos_ < s_.size() && s_[pos_] >= '0' && s_[pos_] <= '9') ++pos_;
    return true;
  }

  bool number(std::string& text) {
    const std::size_t start = pos_;
    if (s_[pos_] == '-') ++pos_;
    if (pos_ >= s_.size()) return fail_eof("in numeric literal");
    if (s_[pos_] == '0') {
      ++pos_;
    } else if (!digits("in numeric literal")) {
      return false;
    }
    if (pos_ < s_.size() && s_[pos_] == '.') {
      ++pos_;
      if (!digits("after decimal point in numeric literal")) return false;
    }
    if (pos_ < s_.size() && (s_[pos_] == 'e' || s_[pos_] == 'E')) {
      ++pos_;
      if (pos_ < s_.size() && (s_[pos_] == '+' || s_[pos_] == '-')) ++pos_;
      if (!digits("in exponent of numeric literal")) return false;
    }
    text.assign(s_.substr(start, pos_ - start));
    return true;
  }

  /// Reads 4 hex digits at `at`; -1 if not present.
  long hex4(std::size_t at) const {
    if (at + 4 > s_.size()) return -1;
    long v = 0;
    for (std::size_t i = 0; i < 4; ++i) {
      const int h = hex_value(s_[at + i]);
      if (h < 0) return -1;
      v = v * 16 + h;
    }
    return v;
  }

  bool string(std::string& out) {
    ++pos_;  // opening quote
    out.clear();
    while (true) {
      if (pos_ >= s_.size()) return fail_eof("in string literal");
      const auto c = static_cast<unsigned char>(s_[pos_]);
      if (c == '"') {
        ++pos_;
        return true;
      }
      if (c < 0x20) return fail("invalid character " + describe(s_[pos_]) + " in string literal");
      if (c == '\\') {
        if (!escape(out)) return false;
        continue;
      }
      if (c < 0x80) {
        out.push_back(static_cast<char>(c));
        ++pos_;
        continue;
      }
      const DecodedRune d = decode_rune(s_.substr(pos_));
      if (d.valid) {
        out.append(s_.substr(pos_, d.size));
      } else {
        append_utf8(out, kReplacementChar);
      }
      pos_ += d.size;
    }
  }

  bool escape(std::string& out) {
    ++pos_;  // backslash
    if (pos_ >= s_.size()) return fail_eof("in string escape code");
    const char e = s_[pos_];
    switch (e) {
      case '"': out.push_back('"'); break;
      case '\\': out.push_back('\\'); break;
      case '/': out.push_back('/'); break;
      case 'b': out.push_back('\b'); break;
      case 'f': out.push_back('\f'); break;
      case 'n': out.push_back('\n'); break;
      case 'r': out.push_back('\r'); break;
      case 't': out.push_back('\t'); break;
      case 'u': return unicode_escape(out);
      default: return fail("invalid character " + describe(e) + " in string escape code");
    }
    ++pos_;
    return true;
  }

  bool unicode_escape(std::string& out) {
    ++pos_;  // 'u'
    for (std::size_t i = 0; i < 4; ++i) {
      if (pos_ + i >= s_.size()) {
        pos_ += i;
        return fail_eof("in \\u hexadecimal character escape");
      }
      if (hex_value(s_[pos_ + i]) < 0) {
        pos_ += i;
        return fail("invalid character " + describe(s_[pos_]) +
                    " in \\u hexadecimal character escape");
      }
    }
    auto r = static_cast<char32_t>(hex4(pos_));
    pos_ += 4;
    if (r >= 0xD800 && r <= 0xDFFF) {
      // A high surrogate directly followed by an escaped low surrogate is one code point;
      // anything else is unpaired and becomes U+FFFD (only the first escape is consumed).
      const bool high = r < 0xDC00;
      if (high && pos_ + 6 <= s_.size() && s_[pos_] == '\\' && s_[pos_ + 1] == 'u') {
        const long lo = hex4(pos_ + 2);
        if (lo >= 0xDC00 && lo <= 0xDFFF) {
          r = 0x10000 + ((r - 0xD800) << 10) + (static_cast<char32_t>(lo) - 0xDC00);
          pos_ += 6;
          append_utf8(out, r);
          return true;
        }
      }
      r = kReplacementChar;
    }
    append_utf8(out, r);
    return true;
  }

  bool depth_ok(std::size_t depth) {
    if (depth > opts_.max_depth) {
      return fail("exceeded max nesting depth of " + std::to_string(opts_.max_depth));
    }
    return true;
  }

  bool array(Node& out, std::size_t depth) {
    if (!depth_ok(depth)) return false;
    out.kind = Node::Kind::List;
    ++pos_;
    skip_ws();
    if (pos_ < s_.size() && s_[pos_] == ']') {
      ++pos_;
      return true;
    }
    while (true) {
      skip_ws();
      Node& el = out.elements.emplace_back();
      if (!value(el, depth)) return false;
      skip_ws();
      if (pos_ >= s_.size()) return fail_eof("after array element");
      if (s_[pos_] == ',') {
        ++pos_;
        continue;
      }
      if (s_[pos_] == ']') {
        ++pos_;
        return true;
      }
      return fail("invalid character " + describe(s_[pos_]) + " after array element");
    }
  }

  bool object(Node& out, std::size_t depth) {
    if (!depth_ok(depth)) return false;
    out.kind = Node::Kind::Map;
    ++pos_;
    skip_ws();
    if (pos_ < s_.size() && s_[pos_] == '}') {
      ++pos_;
      return true;
    }
    while (true) {
      skip_ws();
      if (pos_ >= s_.size()) return fail_eof("looking for beginning of object key string");
      if (s_[pos_] != '"') {
        return fail("invalid character " + describe(s_[pos_]) +
                    " looking for beginning of object key string");
      }
      Member& m = out.members.emplace_back();
      if (!string(m.key)) return false;
      skip_ws();
      if (pos_ >= s_.size()) return fail_eof("after object key");
      if (s_[pos_] != ':')
        return fail("invalid character " + describe(s_[pos_]) + " after object key");
      ++pos_;
      skip_ws();
      if (!value(m.value, depth)) return false;
      skip_ws();
      if (pos_ >= s_.size()) return fail_eof("after object key:value pair");
      if (s_[pos_] == ',') {
        ++pos_;
        continue;
      }
      if (s_[pos_] == '}') {
        ++pos_;
        return true;
      }
      return fail("invalid character " + describe(s_[pos_]) + " after object key:value pair");
    }
  }

  std::string_view s_;
  ParseOptions opts_;
  std::size_t pos_ = 0;
  SyntaxError err_;
};

}  // namespace

tl::expected<Node, SyntaxError> parse(std::string_view text, const ParseOptions& options) {
  return Parser(text, options).run();
}

Error to_error(const SyntaxError& e) {
  Error err;
  err.code = Errc::InvalidJson;
  err.message = "invalid json at byte " + std::to_string(e.offset) + ": " + e.reason;
  return err;
}

}  // namespace l3afd::json
