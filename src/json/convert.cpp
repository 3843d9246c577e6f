#include "json/convert.h"

#include <charconv>
#include <system_error>

namespace l3afd::json {

std::optional<std::int64_t> parse_int64(std::string_view raw) noexcept {
  std::int64_t v = 0;
  if (raw.empty() || raw.front() == '+') return std::nullopt;
  const auto res = std::from_chars(raw.data(), raw.data() + raw.size(), v);
  if (res.ec != std::errc() || res.ptr != raw.data() + raw.size()) return std::nullopt;
  return v;
}

namespace {

/// For a syntactically valid literal whose magnitude is outside the double range: true when
/// it is too large (overflow), false when it is too small (underflow to zero).
bool is_overflow(std::string_view raw) {
  std::size_t i = raw.front() == '-' ? 1 : 0;
  long long int_digits = 0;  // digits before '.', after leading zeros
  long long leading_frac_zeros = 0;
  bool seen_nonzero = false;
  for (; i < raw.size() && raw[i] >= '0' && raw[i] <= '9'; ++i) {
    if (raw[i] != '0') seen_nonzero = true;
    if (seen_nonzero) ++int_digits;
  }
  if (i < raw.size() && raw[i] == '.') {
    for (++i; i < raw.size() && raw[i] >= '0' && raw[i] <= '9'; ++i) {
      if (!seen_nonzero && raw[i] == '0') ++leading_frac_zeros;
      if (raw[i] != '0') seen_nonzero = true;
    }
  }
  long long exp = 0;
  if (i < raw.size() && (raw[i] == 'e' || raw[i] == 'E')) {
    ++i;
    bool neg = false;
    if (i < raw.size() && (raw[i] == '+' || raw[i] == '-')) neg = raw[i++] == '-';
    for (; i < raw.size(); ++i) {
      if (exp < 1'000'000'000) exp = exp * 10 + (raw[i] - '0');
    }
    if (neg) exp = -exp;
  }
  // Decimal exponent of the leading significant digit.
  const long long lead = int_digits > 0 ? int_digits - 1 + exp : -(leading_frac_zeros + 1) + exp;
  return lead > 0;
}

}  // namespace

std::optional<double> parse_double(std::string_view raw) noexcept {
  if (raw.empty() || raw.front() == '+') return std::nullopt;
  double v = 0;
  const auto res = std::from_chars(raw.data(), raw.data() + raw.size(), v);
  if (res.ptr != raw.data() + raw.size()) return std::nullopt;
  if (res.ec == std::errc()) return v;
  if (res.ec == std::errc::result_out_of_range) {
    if (is_overflow(raw)) return std::nullopt;
    return raw.front() == '-' ? -0.0 : 0.0;
  }
  return std::nullopt;
}

std::string pointer_token(std::string_view token) {
  std::string out;
  out.reserve(token.size());
  for (const char c : token) {
    if (c == '~') {
      out += "~0";
    } else if (c == '/') {
      out += "~1";
    } else {
      out.push_back(c);
    }
  }
  return out;
}

namespace {

/// Fills `out`; returns false and sets `err` on a number outside the float64 range.
/// (Building the Value in place also keeps GCC 12's -Wmaybe-uninitialized quiet about
/// moving variants through tl::expected.)
bool fill_value(const Node& n, const std::string& pointer, Value& out, Error& err) {
  switch (n.kind) {
    case Node::Kind::Null: out.v = nullptr; return true;
    case Node::Kind::Bool: out.v = n.boolean; return true;
    case Node::Kind::String: out.v = n.text; return true;
    case Node::Kind::Number: {
      const auto d = parse_double(n.text);
      if (!d) {
        err.code = Errc::InvalidJson;
        err.message = "number " + n.text + " at " + (pointer.empty() ? "/" : pointer) +
                      " is out of the float64 range";
        err.items.push_back(ErrorItem{"", "", "", pointer, err.message});
        return false;
      }
      out.v = *d;
      return true;
    }
    case Node::Kind::List: {
      Array& a = out.v.emplace<Array>();
      a.resize(n.elements.size());
      for (std::size_t i = 0; i < n.elements.size(); ++i) {
        if (!fill_value(n.elements[i], pointer + "/" + std::to_string(i), a[i], err)) return false;
      }
      return true;
    }
    case Node::Kind::Map: {
      Object& o = out.v.emplace<Object>();
      for (const Member& m : n.members) {
        Value& slot = o[m.key];
        slot = Value();  // a later duplicate replaces the earlier value entirely
        if (!fill_value(m.value, pointer + "/" + pointer_token(m.key), slot, err)) return false;
      }
      return true;
    }
  }
  return true;
}

}  // namespace

Result<Value> to_value(const Node& n, std::string_view pointer) {
  // Not `out{tl::in_place}`: clang 14 wrongly finds Value not default-constructible there
  // (a recursive type with a default member initializer), so the null Value is passed in.
  Result<Value> out{Value()};
  Error err;
  if (!fill_value(n, std::string(pointer), *out, err)) return tl::unexpected(std::move(err));
  return out;
}

}  // namespace l3afd::json
