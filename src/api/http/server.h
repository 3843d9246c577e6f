// HTTP/1.1 server over Boost.Beast: one listening socket, a pool of io threads, request
// limits and timeouts (docs/compatibility.md §18 D48), one Router.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <spdlog/common.h>

#include "api/http/router.h"
#include "api/http/tls_source.h"
#include "core/result.h"

namespace l3afd::api::http {

struct ServerOptions {
  /// "host:port". "localhost" binds 127.0.0.1 only; "" or "0.0.0.0" all IPv4 addresses;
  /// "[::]" / "[::1]" IPv6 literals; other names are resolved and the first address is
  /// used. Port 0 picks a free port (see Server::port()). Ignored when listen_fd is set.
  std::string address = "localhost:53000";
  /// An already bound socket to adopt instead of binding `address` (graceful restart).
  /// The server takes ownership and closes it on stop(). listen() is called if needed.
  std::optional<int> listen_fd;
  std::size_t max_body_bytes = 16 << 20;  ///< larger bodies get 413
  std::size_t max_header_bytes = 16384;   ///< request line + headers; larger get 431
  /// Deadline for receiving one whole request (header and body), counted from its first
  /// byte (from the accept for the first request of a connection). Exceeded -> connection
  /// closed without an answer.
  std::chrono::milliseconds read_timeout{30000};
  std::chrono::milliseconds write_timeout{30000};  ///< deadline for sending one response
  /// How long a keep-alive connection may wait for the first byte of its next request.
  std::chrono::milliseconds idle_timeout{60000};
  int threads = 2;           ///< io threads; values below 2 are raised to 2
  std::string name = "api";  ///< used in log lines
  /// TLS on every connection (certificates, client verification and authorization from the
  /// source); null = plain HTTP. A handshake that fails or exceeds read_timeout closes the
  /// connection without an answer (logged at info with the reason); a client the source refuses
  /// after the handshake gets `403 {"code":"forbidden",...}` and the connection is closed.
  std::shared_ptr<TlsSource> tls;
  /// Level of the one log line per request (5xx answers: warn at least). The daemon uses
  /// info for the API listener and debug for metrics and debug, which are polled.
  spdlog::level::level_enum request_log_level = spdlog::level::debug;
  /// Called once per answered request, on the io thread, when the answer is about to be
  /// written (with the log line): method as received, Request::route ("" when no route matched
  /// or the server answered itself), status, time since the request's first byte. Must be
  /// thread-safe and quick; null = nothing.
  std::function<void(std::string_view method, std::string_view route, int status,
                     std::chrono::nanoseconds elapsed)>
      on_request;
};

/// A running server. Created by start(); stop() or the destructor shut it down.
///
/// Behaviour: HTTP/1.1 with keep-alive and pipelining; each connection is served on its own
/// strand, so requests of one connection are handled in order while different connections
/// run in parallel on the io threads. Every response carries Content-Length and
/// Content-Type. Errors answered by the server itself (then the connection is closed):
///   400 {"code":"bad_request",...}         malformed request, missing Host on HTTP/1.1
///   413 {"code":"payload_too_large",...}   body (declared or chunked) above max_body_bytes
///   431 {"code":"header_too_large",...}    request line + headers above max_header_bytes
///   505 {"code":"http_version_not_supported",...}  other than HTTP/1.0 and HTTP/1.1
///   500 {"code":"internal",...}            the handler threw, or returned a bad status
/// Every response carries X-Request-Id (Request::id; a new id when the request could not be
/// read), after the handler's own headers. While the handler runs, the id is the io thread's
/// log::RequestScope. One log line per request, at options.request_log_level (5xx: warn):
/// `<name>: request method=.. path=<raw path> status=.. duration_ms=.. remote=..[: <detail>]`.
///
/// Thread-safety: port() and listen_fd() may be called from any thread; stop() from any
/// thread except an io thread of this server (i.e. not from a handler).
class Server {
 public:
  /// Binds and listens on options.address (SO_REUSEADDR), or adopts options.listen_fd, and
  /// starts the io threads. Errors: Errc::InvalidPayload for an unparsable address,
  /// Errc::Io (with errno) when resolving, binding or listening fails.
  static Result<std::unique_ptr<Server>> start(ServerOptions options, Router router);

  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  /// The local port of the listening socket (the chosen one when port 0 was requested).
  uint16_t port() const;
  /// The listening socket; owned by the server, valid until stop().
  int listen_fd() const;

  /// Stops accepting, closes the listening socket and every connection, waits for running
  /// handlers to return and joins the io threads. Idempotent; also run by the destructor.
  void stop();

  /// The end of a graceful restart's old process: stops accepting (connections still queued on
  /// a listening socket another process shares are left to that process), closes idle
  /// keep-alive connections, lets every request being read or handled finish and answers it
  /// with `Connection: close`, then stop(). Connections still busy after `grace` are closed by
  /// stop(). Same thread rule as stop().
  void drain(std::chrono::milliseconds grace);

 private:
  struct Impl;
  explicit Server(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace l3afd::api::http
