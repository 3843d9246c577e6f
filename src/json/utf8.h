// UTF-8 helpers with Go's unicode/utf8 semantics (strict decoding: no overlongs, no encoded
// surrogates, nothing above U+10FFFF; every invalid byte is one error of length 1).
// Pure. Thread-safe.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace l3afd::json {

inline constexpr char32_t kReplacementChar = 0xFFFD;

/// One decoded code point and the number of bytes it used.
struct DecodedRune {
  char32_t rune = kReplacementChar;
  std::size_t size = 0;  ///< 0 only for empty input; 1 for an invalid byte
  bool valid = false;    ///< false: the byte at the start is not valid UTF-8 (rune = U+FFFD)
};

/// Decodes the first code point of `s` like Go's utf8.DecodeRune.
DecodedRune decode_rune(std::string_view s) noexcept;

/// Appends the UTF-8 encoding of `r` (surrogates and values above U+10FFFF become U+FFFD).
void append_utf8(std::string& out, char32_t r);

/// Copies `s`, replacing each invalid byte by U+FFFD (EF BF BD), as Go's decoder does.
std::string sanitize_utf8(std::string_view s);

/// True when `s` is entirely valid UTF-8.
bool is_valid_utf8(std::string_view s) noexcept;

}  // namespace l3afd::json
