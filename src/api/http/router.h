// Method + path router with the matching rules of go-chi v5 (docs/compatibility.md §3), so that the
// API answers exactly like the original l3afd for every path.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "api/http/message.h"

namespace l3afd::api::http {

/// Splits and percent-decodes the path of a request-target.
/// Returns false when the target is not origin-form ("/...") or absolute-form
/// ("http://host/..."), or when a percent escape is malformed.
/// `path` receives the decoded path, `query` the raw text after the first '?'.
/// `segments` receives the decoded segments between '/' (a trailing '/' yields a last
/// empty segment; an encoded "%2F" stays inside its segment).
bool split_target(std::string_view target, std::string& path, std::string& query,
                  std::vector<std::string>& segments);

/// Routing table. Patterns are '/'-separated segments; a segment is either static text,
/// "{name}" (matches one non-empty segment, captured as params[name]) or, as the last
/// segment only, "*" (matches the rest of the path, possibly empty, captured as params["*"]).
///
/// Matching (go-chi v5):
///  * at each position static segments are tried first, then parameters (in the order they
///    were added), then "*"; the search backtracks, so a static segment wins only for the
///    methods registered on it: with only POST on ".../{version}/add", a GET of
///    ".../v1/add" is routed to a GET ".../{version}/{iface}" route;
///  * a parameter never matches an empty segment (".../v1/" does not match ".../{iface}");
///  * no route for the path -> 404, text/plain, body "404 page not found\n";
///  * routes for the path but none for the method, or a method outside the standard set
///    (GET HEAD POST PUT PATCH DELETE CONNECT OPTIONS TRACE) -> 405, empty body, with an
///    `Allow` header listing the registered methods.
///
/// Thread-safety: add() must complete before the first dispatch(); dispatch() is const and
/// may run concurrently on any number of threads.
class Router {
 public:
  Router();
  ~Router();
  Router(Router&&) noexcept;
  Router& operator=(Router&&) noexcept;

  /// Registers `h` for `method` and `pattern` (e.g. "/l3af/configs/{version}/add"); a second
  /// registration of the same method and pattern replaces the first.
  /// Precondition (programmer error, throws std::invalid_argument): `pattern` starts with
  /// '/', parameter names are non-empty and unique within the pattern, "*" is last, and
  /// `method` is one of the standard methods.
  void add(std::string method, std::string pattern, Handler h);

  /// Routes `req` (method and target must be set): fills req.path, req.query and
  /// req.params, then calls the matched handler and returns its response. A target that
  /// cannot be parsed gives 400 {"code":"bad_request",...}. Exceptions thrown by the handler
  /// propagate to the caller.
  Response dispatch(Request& req) const;

 private:
  struct Node;
  std::unique_ptr<Node> root_;
};

/// The 404 answer for unknown paths (same bytes as Go's http.NotFound).
Response not_found_response();

}  // namespace l3afd::api::http
