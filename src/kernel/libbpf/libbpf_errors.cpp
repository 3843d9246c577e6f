#include "kernel/libbpf/libbpf_errors.h"

#include <bpf/libbpf.h>

#include <array>
#include <cstdlib>
#include <cstring>

namespace l3afd::kernel::libbpf {

namespace {
/// Upper bound of the range libbpf reserves for its codes (__LIBBPF_ERRNO__END is below it).
constexpr int kLibbpfCodeLimit = 4100;
}  // namespace

bool is_libbpf_code(int err) noexcept {
  err = std::abs(err);
  return err >= __LIBBPF_ERRNO__START && err < kLibbpfCodeLimit;
}

std::string error_words(int err) {
  err = std::abs(err);
  std::array<char, 256> buf{};
  // libbpf_strerror() covers both its own codes and errnos; it fails (leaving "Unknown
  // libbpf error N") only for a code in its range that it does not know.
  if (libbpf_strerror(err, buf.data(), buf.size()) == 0) return buf.data();
  if (!is_libbpf_code(err)) return std::strerror(err);
  return "libbpf error " + std::to_string(err);
}

tl::unexpected<Error> libbpf_fail(Errc code, std::string message, int err) {
  err = std::abs(err);
  if (!is_libbpf_code(err)) return fail(code, std::move(message), err);
  return fail(code, std::move(message) + ": " + error_words(err));
}

}  // namespace l3afd::kernel::libbpf
