#include "json/utf8.h"

namespace l3afd::json {

namespace {

bool is_cont(unsigned char c) {
  return (c & 0xC0) == 0x80;
}

}  // namespace

DecodedRune decode_rune(std::string_view s) noexcept {
  if (s.empty()) return {kReplacementChar, 0, false};
  const auto b0 = static_cast<unsigned char>(s[0]);
  if (b0 < 0x80) return {b0, 1, true};
  const DecodedRune bad{kReplacementChar, 1, false};
  // Allowed range of the second byte depends on the first (Go's acceptRanges).
  unsigned char lo = 0x80;
  unsigned char hi = 0xBF;
  std::size_t need = 0;
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    need = 2;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    need = 3;
    if (b0 == 0xE0) lo = 0xA0;
    if (b0 == 0xED) hi = 0x9F;
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    need = 4;
    if (b0 == 0xF0) lo = 0x90;
    if (b0 == 0xF4) hi = 0x8F;
  } else {
    return bad;
  }
  if (s.size() < need) return bad;
  const auto b1 = static_cast<unsigned char>(s[1]);
  if (b1 < lo || b1 > hi) return bad;
  for (std::size_t i = 2; i < need; ++i) {
    if (!is_cont(static_cast<unsigned char>(s[i]))) return bad;
  }
  char32_t r = 0;
  if (need == 2) {
    r = (char32_t{b0} & 0x1F) << 6 | (char32_t{b1} & 0x3F);
  } else if (need == 3) {
    r = (char32_t{b0} & 0x0F) << 12 | (char32_t{b1} & 0x3F) << 6 |
        (static_cast<char32_t>(static_cast<unsigned char>(s[2])) & 0x3F);
  } else {
    r = (char32_t{b0} & 0x07) << 18 | (char32_t{b1} & 0x3F) << 12 |
        (static_cast<char32_t>(static_cast<unsigned char>(s[2])) & 0x3F) << 6 |
        (static_cast<char32_t>(static_cast<unsigned char>(s[3])) & 0x3F);
  }
  return {r, need, true};
}

void append_utf8(std::string& out, char32_t r) {
  if ((r >= 0xD800 && r <= 0xDFFF) || r > 0x10FFFF) r = kReplacementChar;
  if (r < 0x80) {
    out.push_back(static_cast<char>(r));
  } else if (r < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (r >> 6)));
    out.push_back(static_cast<char>(0x80 | (r & 0x3F)));
  } else if (r < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (r >> 12)));
    out.push_back(static_cast<char>(0x80 | ((r >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (r & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (r >> 18)));
    out.push_back(static_cast<char>(0x80 | ((r >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((r >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (r & 0x3F)));
  }
}

std::string sanitize_utf8(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  while (!s.empty()) {
    const DecodedRune d = decode_rune(s);
    if (d.valid) {
      out.append(s.substr(0, d.size));
    } else {
      append_utf8(out, kReplacementChar);
    }
    s.remove_prefix(d.size);
  }
  return out;
}

bool is_valid_utf8(std::string_view s) noexcept {
  while (!s.empty()) {
    const DecodedRune d = decode_rune(s);
    if (!d.valid) return false;
    s.remove_prefix(d.size);
  }
  return true;
}

}  // namespace l3afd::json
