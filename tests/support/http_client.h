// Small synchronous HTTP/1.1 client for tests, plus a raw socket for sending arbitrary bytes
// (malformed requests, stalled requests). Every wait is bounded by a generous safety limit
// so that a broken server fails a test instead of hanging it; tests must not assert on
// durations.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace l3afd::test {

using Headers = std::vector<std::pair<std::string, std::string>>;

struct HttpResult {
  int status = 0;   ///< 0 when the exchange failed (see error)
  Headers headers;  ///< in received order
  std::string body;
  std::string error;        ///< transport or parse failure, empty on success
  bool keep_alive = false;  ///< whether the server keeps the connection open

  /// First header named `name` (case-insensitive), "" if absent.
  std::string header(std::string_view name) const;
  /// Number of headers named `name` (case-insensitive).
  std::size_t header_count(std::string_view name) const;
};

/// Safety limit for every blocking operation of this client.
inline constexpr std::chrono::seconds kClientSafetyTimeout{20};

/// One request on a fresh connection ("Connection: close" is not added; the server decides).
/// Adds Host and, when `body` is not empty, Content-Length.
HttpResult request(const std::string& host, uint16_t port, const std::string& method,
                   const std::string& target, const std::string& body = {},
                   const Headers& headers = {});

/// A keep-alive connection carrying several requests in sequence.
class HttpConnection {
 public:
  HttpConnection(const std::string& host, uint16_t port);
  ~HttpConnection();
  HttpConnection(const HttpConnection&) = delete;
  HttpConnection& operator=(const HttpConnection&) = delete;

  /// Empty when connected, the reason otherwise.
  const std::string& connect_error() const;
  HttpResult request(const std::string& method, const std::string& target,
                     const std::string& body = {}, const Headers& headers = {});
  /// The local port of this connection (identifies it on the server side).
  uint16_t local_port() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// A blocking TCP socket for hand-written bytes.
class RawSocket {
 public:
  RawSocket(const std::string& host, uint16_t port);
  ~RawSocket();
  RawSocket(const RawSocket&) = delete;
  RawSocket& operator=(const RawSocket&) = delete;

  bool connected() const { return fd_ >= 0; }
  /// Sends all of `bytes`; false if the peer reset or closed the connection.
  bool send(std::string_view bytes);
  /// Half-closes the sending side.
  void shutdown_send();
  /// Reads one HTTP response (status line, headers, Content-Length body).
  HttpResult read_response();
  /// Reads until the peer closes (true) or the safety limit passes (false); what was
  /// received is appended to `data` when given.
  bool wait_closed(std::string* data = nullptr);

 private:
  /// Reads more bytes into buf_; false on close, error or safety timeout.
  bool fill();

  int fd_ = -1;
  std::string buf_;
};

/// Parses one HTTP response from the start of `data`; on success erases the bytes consumed.
/// Returns false while the response is incomplete; sets `out.error` if it is malformed.
bool parse_response(std::string& data, HttpResult& out);

}  // namespace l3afd::test
