// The single table from Errc to HTTP status and API error code (docs/compatibility.md §7.2), and
// the error body of §7.3. Every handler maps errors through here and nowhere else.
#pragma once

#include "api/http/message.h"
#include "core/result.h"

namespace l3afd::api {

/// HTTP status for an error code.
int http_status(Errc c) noexcept;

/// API `code` string: invalid_json, invalid_payload, wrong_host, unknown_interface, conflict,
/// not_ready, payload_too_large, apply_failed (every failure while applying), internal,
/// restart_in_progress, restart_failed, package_integrity (502: a package failed verification).
const char* api_code(Errc c) noexcept;

/// {"code":..,"message":..,"errors":[{"iface","direction","program","field","message"}],"step":..}
/// `step` (the failing plan step) and `errno` appear when known.
std::string error_body(const Error& e);

/// The response for an error: status, JSON body, Retry-After for 503, and e.to_string() as
/// the log_detail of the request's log line.
http::Response error_response(const Error& e);

}  // namespace l3afd::api
