// Error codes of libbpf in words, in one place for the whole adapter. libbpf reports failures
// as negative errnos or as its own codes (LIBBPF_ERRNO__*, 4000 and up: "BPF object format
// invalid", ...), which strerror() does not know ("Unknown error 4001"). Every Error the
// adapter builds from a libbpf return value goes through libbpf_fail(), so that no libbpf code
// ends up in Error::sys_errno.
#pragma once

#include <string>

#include "core/result.h"

namespace l3afd::kernel::libbpf {

/// True for libbpf's own error codes (positive, 4000 <= err < 4100), which are not errnos.
bool is_libbpf_code(int err) noexcept;

/// Words for `err` (positive): libbpf_strerror() for libbpf's own codes, strerror() otherwise.
std::string error_words(int err);

/// fail() for a libbpf call that failed with `err` (positive; the sign is ignored). An errno
/// goes into Error::sys_errno as usual; a libbpf code goes into the message as words
/// ("<message>: BPF object format invalid") and sys_errno stays 0.
tl::unexpected<Error> libbpf_fail(Errc code, std::string message, int err);

}  // namespace l3afd::kernel::libbpf
