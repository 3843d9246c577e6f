// parse_restart_version: a hand-written parser for "vX.Y.Z" (D39 e: no precomputed set).
#include "restart/version.h"

#include <cstdio>
#include <limits>
#include <vector>

namespace l3afd::restart {
namespace {

/// Longest value quoted in an error message; a longer one is cut and marked with "...".
constexpr std::size_t kMaxQuoted = 64;

/// `v` in double quotes, for messages: '"' and '\' escaped, bytes outside printable ASCII as
/// \xNN, cut after kMaxQuoted bytes.
std::string quoted(std::string_view v) {
  std::string out = "\"";
  for (std::size_t i = 0; i < v.size() && i < kMaxQuoted; ++i) {
    const auto u = static_cast<unsigned char>(v[i]);
    if (v[i] == '"' || v[i] == '\\') {
      out += '\\';
      out += v[i];
    } else if (u < 0x20 || u >= 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", u);
      out += buf;
    } else {
      out += v[i];
    }
  }
  if (v.size() > kMaxQuoted) out += "...";
  out += '"';
  return out;
}

/// Checks one of X, Y, Z; returns the reason it is not acceptable, or "" when it is.
std::string check_number(std::string_view n, std::int64_t limit) {
  if (n.empty()) return "empty number";
  for (char c : n) {
    if (c < '0' || c > '9') return quoted(n) + " is not a decimal integer";
  }
  if (n.size() > 1 && n.front() == '0') return quoted(n) + " has a leading zero";
  // Accumulate with an overflow check: the digits may be arbitrarily many.
  std::int64_t value = 0;
  for (char c : n) {
    const int d = c - '0';
    if (value > (std::numeric_limits<std::int64_t>::max() - d) / 10) {
      return quoted(n) + " is above " + std::to_string(limit);
    }
    value = value * 10 + d;
  }
  if (value > limit) return quoted(n) + " is above " + std::to_string(limit);
  return {};
}

/// The reason `v` is not acceptable, or "" when it is.
std::string check(std::string_view v, std::int64_t limit) {
  if (limit < 0) return "no version is allowed by a negative limit";
  if (v.empty() || v.front() != 'v') return "missing leading 'v'";
  std::vector<std::string_view> parts;
  std::string_view rest = v.substr(1);
  for (;;) {
    const std::size_t dot = rest.find('.');
    parts.push_back(rest.substr(0, dot));
    if (dot == std::string_view::npos) break;
    rest.remove_prefix(dot + 1);
  }
  if (parts.size() != 3) {
    return std::to_string(parts.size()) + (parts.size() == 1 ? " part" : " parts") + ", not 3";
  }
  for (auto p : parts) {
    if (auto why = check_number(p, limit); !why.empty()) return why;
  }
  return {};
}

}  // namespace

Result<std::string> parse_restart_version(std::string_view v, std::int64_t limit) {
  if (auto why = check(v, limit); !why.empty()) {
    return fail(Errc::InvalidPayload, "version " + quoted(v) +
                                          ": expected vX.Y.Z with X, Y, Z integers in [0, " +
                                          std::to_string(limit) + "]: " + why);
  }
  return std::string(v);
}

}  // namespace l3afd::restart
