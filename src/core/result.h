// One error type for the whole daemon.
//
// Policy: every fallible function returns Result<T> (or Status for no value) and is
// [[nodiscard]] by virtue of tl::expected's own attribute. Exceptions are reserved for
// programmer errors and construction failures in the composition root; they are caught at
// thread boundaries. The Errc is mapped to an HTTP status in exactly one place
// (api/status.cpp).
#pragma once

#include <string>
#include <tl/expected.hpp>
#include <utility>
#include <vector>

namespace l3afd {

/// What went wrong, coarsely: decides the HTTP status and the API `code`.
enum class Errc {
  InvalidJson,       ///< body is not valid JSON or has a type mismatch            -> 400
  InvalidPayload,    ///< a validation rule of the payload failed                    -> 400
  WrongHost,         ///< host_name is not this host                                 -> 400
  UnknownInterface,  ///< interface missing or loopback                              -> 400
  Conflict,          ///< same name with another definition, seq_id taken, occupied  -> 409
  NotFound,          ///< an object that must exist does not                         -> 404/500
  NotReady,          ///< the daemon has not finished restoring                      -> 503
  PayloadTooLarge,   ///< body above the configured limit                            -> 413
  Unavailable,       ///< a dependency (network, repository) cannot be reached       -> 500
  Kernel,            ///< a bpf(2)/netlink call failed                               -> 500
  Io,                ///< a file system or process operation failed                  -> 500
  Timeout,           ///< an operation exceeded its deadline                         -> 500
  Internal,          ///< a bug                                                      -> 500
  /// A graceful restart is in progress: writes are refused meanwhile              -> 503
  /// (a second restart request: 409)
  RestartInProgress,
  RestartFailed,  ///< a graceful restart failed and was rolled back                 -> 500
  /// A downloaded package failed its integrity check (digest mismatch, bad or missing   -> 502
  /// signature, not listed in a signed SHA256SUMS): the repository served something that
  /// must not be trusted; nothing of it was unpacked or loaded
  PackageIntegrity,
};

/// Stable lower-case name of an Errc, for logs.
const char* errc_name(Errc c) noexcept;

/// One problem in a request, located as precisely as known. Rendered into the
/// `errors` array of the API error body (docs/compatibility.md §7.3).
struct ErrorItem {
  std::string iface;      ///< empty when unknown
  std::string direction;  ///< xdpingress | ingress | egress | "" (probes/unknown)
  std::string program;    ///< empty when unknown
  std::string
      field;  ///< JSON pointer into the request body, e.g. /0/bpf_programs/xdp_ingress/1/name
  std::string message;
  bool operator==(const ErrorItem&) const = default;
};

struct Error {
  Errc code = Errc::Internal;
  int sys_errno = 0;                 ///< kernel/libc errno when there is one
  std::string message;               ///< lower case, no trailing period
  std::vector<std::string> context;  ///< outermost first, added as the error travels up
  std::vector<ErrorItem> items;      ///< per-field details for API errors
  std::string step;                  ///< label of the plan step that failed, if any

  /// Adds an outer context ("load ratelimiting", ...) and returns the error by value, so that
  /// `e = std::move(e).with_context(..)` is safe (no self-move).
  Error with_context(std::string c) && {
    context.insert(context.begin(), std::move(c));
    return std::move(*this);
  }
  /// "ctx1: ctx2: message: strerror(errno)".
  std::string to_string() const;
};

template <class T>
using Result = tl::expected<T, Error>;
using Status = tl::expected<void, Error>;

/// Builds the unexpected value for a Result: `return fail(Errc::Io, "open x");`
inline tl::unexpected<Error> fail(Errc code, std::string message, int sys_errno = 0) {
  return tl::unexpected<Error>(Error{code, sys_errno, std::move(message), {}, {}, {}});
}
inline tl::unexpected<Error> fail(Error e) {
  return tl::unexpected<Error>(std::move(e));
}

/// Success value for Status.
inline Status ok() {
  return {};
}

}  // namespace l3afd
