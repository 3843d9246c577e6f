// The request and response values exchanged between the HTTP server, the router and the
// handlers. Plain values: no Beast types leak out of this module.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace l3afd::api::http {

/// One received request. The server fills method, target, body, remote, headers and id;
/// Router::dispatch fills path, query and params.
struct Request {
  std::string method;  ///< as received, case-sensitive ("GET", "POST", ...)
  std::string target;  ///< raw request-target, e.g. "/l3af/configs/v1/eth%30?x=1"
  std::string path;    ///< percent-decoded path, without the query
  std::string query;   ///< raw query string after '?', without the '?'
  std::map<std::string, std::string> params;  ///< route parameters, percent-decoded
  /// The pattern of the matched route (e.g. "/l3af/configs/{version}/add"); "" when no route
  /// matched (404, 405, malformed target). Bounded, unlike the path: metrics label by it.
  std::string route;
  std::string body;
  std::string remote;  ///< peer "ip:port" ("[v6]:port" for IPv6)
  /// The request id: the client's X-Request-Id when sane (is_sane_request_id), otherwise a
  /// new_request_id(). Echoed in the response's X-Request-Id and, while the handler runs, the
  /// thread's current log::RequestScope id.
  std::string id;

  /// Value of the first header named `name` (ASCII case-insensitive), "" if absent.
  std::string header(std::string_view name) const;

  std::vector<std::pair<std::string, std::string>> headers;  ///< in received order
};

/// The answer of a handler. The server always sends Content-Type and Content-Length.
struct Response {
  int status = 200;  ///< 200..999; anything else is answered with 500
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  ///< extra headers, e.g. Retry-After
  /// Why the request failed (Error::to_string()), for the server's one log line of the
  /// request (`...: <log_detail>`); never sent. Empty for successes.
  std::string log_detail;
};

/// Request handler. Called on a server io thread; it may block for a while (the server runs
/// several threads) and may be called concurrently for different connections. An exception
/// escaping it is answered with 500 {"code":"internal",...}.
using Handler = std::function<Response(const Request&)>;

/// The request id header, read from requests and set on every response.
inline constexpr std::string_view kRequestIdHeader = "X-Request-Id";

/// Whether a client's X-Request-Id value is used as is: 1 to 64 characters, each one of
/// [A-Za-z0-9._-]. Anything else (empty, longer, spaces, control characters, other bytes) is
/// replaced by a new id, so ids are safe to print in log lines and headers.
bool is_sane_request_id(std::string_view id) noexcept;

/// A new request id: 16 lower-case hex characters, a random per-process prefix (8) followed by
/// a per-process counter (8), so ids are unique within a process and unlikely to repeat across
/// restarts. Thread-safe.
std::string new_request_id();

/// Content-Type of Go's http.Error / http.NotFound answers.
inline constexpr std::string_view kTextPlain = "text/plain; charset=utf-8";

/// A JSON error body in the shape of docs/compatibility.md §7.3 without items:
/// {"code":"<code>","message":"<message>","errors":[]} (strings JSON-escaped).
std::string json_error_body(std::string_view code, std::string_view message);

/// A Response with `status` and the JSON error body of json_error_body().
Response error_response(int status, std::string_view code, std::string_view message);

/// Appends `s` to `out` as a JSON string literal (with the quotes), escaping as RFC 8259 needs.
void append_json_string(std::string& out, std::string_view s);

/// Case-insensitive ASCII comparison (header names).
bool iequals(std::string_view a, std::string_view b) noexcept;

}  // namespace l3afd::api::http
