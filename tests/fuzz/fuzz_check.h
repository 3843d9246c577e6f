// Shared by the libFuzzer targets of tests/fuzz: the property check that turns a violated
// invariant into a crash libFuzzer records (abort() -> "deadly signal", reproducer written).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

namespace l3afd::fuzz {

/// Prints "fuzz property violated: <what> (<file>:<line>)" and the detail, then abort()s.
[[noreturn]] inline void violated(const char* what, std::string_view detail, const char* file,
                                  int line) {
  std::fprintf(stderr, "fuzz property violated: %s (%s:%d)\n", what, file, line);
  if (!detail.empty()) {
    std::fprintf(stderr, "  detail: %.*s\n", static_cast<int>(detail.size()), detail.data());
  }
  std::abort();
}

/// The fuzzer's input as a string_view (libFuzzer passes nullptr for an empty input).
inline std::string_view as_text(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return {};
  return {reinterpret_cast<const char*>(data), size};
}

}  // namespace l3afd::fuzz

/// FUZZ_CHECK(condition, detail): aborts with the condition's text and `detail` (a
/// string_view-convertible expression, evaluated only on failure) when `condition` is false.
#define FUZZ_CHECK(cond, detail)                                               \
  do {                                                                         \
    if (!(cond)) ::l3afd::fuzz::violated(#cond, (detail), __FILE__, __LINE__); \
  } while (false)
