#include "config/values.h"

#include <array>
#include <cstddef>
#include <utility>

namespace l3afd::config {
namespace {

char to_lower_ascii(char c) noexcept {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c;
}

bool equals_ignore_case(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (to_lower_ascii(a[i]) != b[i]) return false;
  }
  return true;
}

bool is_digit(char c) noexcept {
  return c >= '0' && c <= '9';
}

constexpr std::uint64_t kMaxMagnitude = std::uint64_t{1} << 63;  // |INT64_MIN|

// Go's leadingInt: consumes digits; fails (returns false) when the value exceeds 2^63.
bool leading_int(std::string_view& s, std::uint64_t& out) noexcept {
  std::uint64_t x = 0;
  std::size_t i = 0;
  for (; i < s.size() && is_digit(s[i]); ++i) {
    if (x > kMaxMagnitude / 10) return false;
    x = x * 10 + static_cast<std::uint64_t>(s[i] - '0');
    if (x > kMaxMagnitude) return false;
  }
  out = x;
  s.remove_prefix(i);
  return true;
}

// Go's leadingFraction: consumes digits; digits beyond int64 precision are consumed but ignored.
void leading_fraction(std::string_view& s, std::uint64_t& out, double& scale) noexcept {
  std::uint64_t x = 0;
  scale = 1.0;
  bool overflow = false;
  std::size_t i = 0;
  for (; i < s.size() && is_digit(s[i]); ++i) {
    if (overflow) continue;
    if (x > (kMaxMagnitude - 1) / 10) {
      overflow = true;
      continue;
    }
    const std::uint64_t y = x * 10 + static_cast<std::uint64_t>(s[i] - '0');
    if (y > kMaxMagnitude) {
      overflow = true;
      continue;
    }
    x = y;
    scale *= 10;
  }
  out = x;
  s.remove_prefix(i);
}

std::optional<std::uint64_t> unit_nanos(std::string_view unit) noexcept {
  static constexpr std::array<std::pair<std::string_view, std::uint64_t>, 8> kUnits{{
      {"ns", 1},
      {"us", 1000},
      {"\xC2\xB5s", 1000},  // U+00B5 micro sign
      {"\xCE\xBCs", 1000},  // U+03BC greek small letter mu
      {"ms", 1000000},
      {"s", 1000000000},
      {"m", 60ULL * 1000000000},
      {"h", 3600ULL * 1000000000},
  }};
  for (const auto& [name, nanos] : kUnits) {
    if (name == unit) return nanos;
  }
  return std::nullopt;
}

}  // namespace

std::optional<bool> parse_go_bool(std::string_view text) noexcept {
  for (std::string_view t : {"t", "true", "y", "yes", "on", "1"}) {
    if (equals_ignore_case(text, t)) return true;
  }
  for (std::string_view f : {"f", "false", "n", "no", "off", "0"}) {
    if (equals_ignore_case(text, f)) return false;
  }
  return std::nullopt;
}

std::optional<std::int64_t> parse_go_int(std::string_view text) noexcept {
  bool negative = false;
  if (!text.empty() && (text[0] == '+' || text[0] == '-')) {
    negative = text[0] == '-';
    text.remove_prefix(1);
  }
  if (text.empty()) return std::nullopt;
  std::uint64_t magnitude = 0;
  for (char c : text) {
    if (!is_digit(c)) return std::nullopt;
    if (magnitude > kMaxMagnitude / 10) return std::nullopt;
    magnitude = magnitude * 10 + static_cast<std::uint64_t>(c - '0');
    if (magnitude > kMaxMagnitude) return std::nullopt;
  }
  if (negative) {
    if (magnitude == kMaxMagnitude) return INT64_MIN;
    return -static_cast<std::int64_t>(magnitude);
  }
  if (magnitude == kMaxMagnitude) return std::nullopt;
  return static_cast<std::int64_t>(magnitude);
}

std::optional<std::chrono::nanoseconds> parse_go_duration(std::string_view s) noexcept {
  bool negative = false;
  if (!s.empty() && (s[0] == '-' || s[0] == '+')) {
    negative = s[0] == '-';
    s.remove_prefix(1);
  }
  if (s == "0") return std::chrono::nanoseconds{0};
  if (s.empty()) return std::nullopt;
  std::uint64_t total = 0;
  while (!s.empty()) {
    if (!(s[0] == '.' || is_digit(s[0]))) return std::nullopt;
    const std::size_t before_int = s.size();
    std::uint64_t whole = 0;
    if (!leading_int(s, whole)) return std::nullopt;
    const bool has_int = before_int != s.size();
    std::uint64_t frac = 0;
    double scale = 1.0;
    bool has_frac = false;
    if (!s.empty() && s[0] == '.') {
      s.remove_prefix(1);
      const std::size_t before_frac = s.size();
      leading_fraction(s, frac, scale);
      has_frac = before_frac != s.size();
    }
    if (!has_int && !has_frac) return std::nullopt;
    std::size_t unit_len = 0;
    while (unit_len < s.size() && s[unit_len] != '.' && !is_digit(s[unit_len])) ++unit_len;
    if (unit_len == 0) return std::nullopt;
    const auto unit = unit_nanos(s.substr(0, unit_len));
    s.remove_prefix(unit_len);
    if (!unit) return std::nullopt;
    if (whole > kMaxMagnitude / *unit) return std::nullopt;
    std::uint64_t term = whole * *unit;
    if (frac > 0) {
      const double extra = static_cast<double>(frac) * (static_cast<double>(*unit) / scale);
      // extra < unit <= 3.6e12, so the conversion is always in range.
      term += static_cast<std::uint64_t>(extra);
      if (term > kMaxMagnitude) return std::nullopt;
    }
    total += term;
    if (total > kMaxMagnitude) return std::nullopt;
  }
  if (negative) {
    if (total == kMaxMagnitude) return std::chrono::nanoseconds{INT64_MIN};
    return std::chrono::nanoseconds{-static_cast<std::int64_t>(total)};
  }
  if (total == kMaxMagnitude) return std::nullopt;
  return std::chrono::nanoseconds{static_cast<std::int64_t>(total)};
}

}  // namespace l3afd::config
