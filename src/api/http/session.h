// One HTTP/1.1 connection (internal to the server). The protocol logic is written once in
// HttpSession<Derived> over `derived().stream()`; PlainSession supplies a tcp_stream, SslSession
// (TLS and mTLS, docs/compatibility.md §8.4) a beast::ssl_stream<beast::tcp_stream> with the
// handshake in run() and the TLS shutdown in close_gracefully().
//
// Threading: every member runs on the connection's strand (the stream's executor), so a
// session needs no lock. close() may be called from any thread; it posts to the strand.
#pragma once

#include <algorithm>
#include <array>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "api/http/server_state.h"
#include "core/log.h"

namespace l3afd::api::http::detail {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace net = boost::asio;

/// Most bytes read and discarded after an error answer, so that the peer receives the
/// answer instead of a reset caused by unread data.
inline constexpr std::size_t kMaxDrainBytes = 1 << 20;
inline constexpr std::chrono::milliseconds kDrainTimeout{1000};

template <class Derived>
class HttpSession {
 public:
  explicit HttpSession(std::shared_ptr<ServerState> state) : state_(std::move(state)) {}

 protected:
  using Clock = std::chrono::steady_clock;

  Derived& derived() { return static_cast<Derived&>(*this); }
  /// Waiting for the first byte of a keep-alive connection's next request (on the strand).
  bool idle() const { return idle_; }
  auto& lowest() { return beast::get_lowest_layer(derived().stream()); }
  const ServerOptions& opts() const { return state_->options; }

  /// Starts reading the next request: the first one under read_timeout, a later one under
  /// idle_timeout until its first byte arrives (unless pipelined bytes are buffered).
  void do_read() {
    parser_.emplace();
    parser_->header_limit(
        static_cast<std::uint32_t>(std::min<std::size_t>(opts().max_header_bytes, UINT32_MAX)));
    parser_->body_limit(opts().max_body_bytes);
    method_.clear();
    target_.clear();
    request_id_.clear();
    if (first_ || buffer_.size() > 0) {
      first_ = false;
      read_header();
      return;
    }
    // Draining (Server::drain): everything this connection sent has been answered.
    if (state_->is_stopping()) return derived().close_gracefully();
    idle_ = true;
    lowest().expires_after(opts().idle_timeout);
    derived().stream().async_read_some(
        buffer_.prepare(4096),
        [self = derived().shared_from_this()](beast::error_code ec, std::size_t n) {
          self->on_idle_data(ec, n);
        });
  }

  void on_idle_data(beast::error_code ec, std::size_t n) {
    idle_ = false;
    if (ec) return on_read_error(ec);
    buffer_.commit(n);
    read_header();
  }

  void read_header() {
    started_ = Clock::now();
    lowest().expires_after(opts().read_timeout);
    bhttp::async_read_header(derived().stream(), buffer_, *parser_,
                             [self = derived().shared_from_this()](
                                 beast::error_code ec, std::size_t) { self->on_header(ec); });
  }

  void on_header(beast::error_code ec) {
    if (ec) return on_read_error(ec);
    const auto& req = parser_->get();
    method_ = std::string(req.method_string());
    target_ = std::string(req.target());
    take_request_id();
    // A TLS client the certificate policy refused (SslSession): no request reaches a handler.
    if (!refused_.empty()) return send_error(403, "forbidden", refused_);
    if (req.version() == 11 && req.find(bhttp::field::host) == req.end()) {
      return send_error(400, "bad_request", "missing required Host header");
    }
    if (const auto len = parser_->content_length(); len && *len > opts().max_body_bytes) {
      return send_too_large();
    }
    if (parser_->is_done()) return handle_request();
    // The body is read under the deadline set for the header (one deadline per request).
    if (iequals(std::string_view(req[bhttp::field::expect]), "100-continue")) {
      static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
      net::async_write(derived().stream(), net::buffer(kContinue.data(), kContinue.size()),
                       [self = derived().shared_from_this()](beast::error_code wec, std::size_t) {
                         if (wec) return self->on_read_error(wec);
                         self->read_body();
                       });
      return;
    }
    read_body();
  }

  void read_body() {
    bhttp::async_read(derived().stream(), buffer_, *parser_,
                      [self = derived().shared_from_this()](beast::error_code ec, std::size_t) {
                        if (ec) return self->on_read_error(ec);
                        self->handle_request();
                      });
  }

  /// Sets request_id_ from the fields parsed so far: the client's X-Request-Id when sane,
  /// a new id otherwise.
  void take_request_id() {
    const auto& fields = parser_->get();
    const auto client_id = fields.find(kRequestIdHeader);
    request_id_ = client_id != fields.end() && is_sane_request_id(client_id->value())
                      ? std::string(client_id->value())
                      : new_request_id();
  }

  void on_read_error(beast::error_code ec) {
    if (ec == bhttp::error::header_limit) {
      return send_error(
          431, "header_too_large",
          "request header exceeds " + std::to_string(opts().max_header_bytes) + " bytes");
    }
    if (ec == bhttp::error::body_limit) return send_too_large();
    if (ec == bhttp::error::bad_version) {  // the parser accepts HTTP/1.0 and HTTP/1.1 only
      return send_error(505, "http_version_not_supported", "only HTTP/1.0 and HTTP/1.1 are served");
    }
    if (ec == beast::error::timeout) {
      spdlog::debug("{}: read timeout, closing connection remote={}", opts().name, remote_);
      return derived().close_now();
    }
    if (ec == net::error::operation_aborted) return;  // closed by stop()
    if (ec == bhttp::error::end_of_stream || ec == bhttp::error::partial_message ||
        ec.category() != bhttp::make_error_code(bhttp::error::end_of_stream).category()) {
      // Peer closed or socket error: nobody to answer.
      return derived().close_now();
    }
    send_error(400, "bad_request", "malformed request: " + ec.message());
  }

  void send_too_large() {
    send_error(413, "payload_too_large",
               "request body exceeds " + std::to_string(opts().max_body_bytes) + " bytes");
  }

  /// Answers a request the server refuses itself. A request refused while its header was read
  /// (413, 431, 505, 400) is still logged and answered with what was parsed of it: method,
  /// target and the client's id.
  void send_error(int status, std::string_view code, const std::string& message) {
    if (request_id_.empty() && parser_) {
      const auto& req = parser_->get();
      method_ = std::string(req.method_string());
      target_ = std::string(req.target());
      take_request_id();
    }
    Response resp = error_response(status, code, message);
    resp.log_detail = message;
    send(std::move(resp), false, false);
  }

  void handle_request() {
    auto msg = parser_->release();
    Request r;
    r.method = std::string(msg.method_string());
    r.target = std::string(msg.target());
    r.remote = remote_;
    r.id = request_id_;
    r.body = std::move(msg.body());
    for (const auto& f : msg) r.headers.emplace_back(f.name_string(), f.value());
    const log::RequestScope scope(r.id);
    Response resp;
    try {
      resp = state_->router.dispatch(r);
    } catch (const std::exception& e) {
      resp = error_response(500, "internal", std::string("handler failed: ") + e.what());
      resp.log_detail = "handler threw: " + std::string(e.what());
    } catch (...) {
      resp = error_response(500, "internal", "handler failed: unknown exception");
      resp.log_detail = "handler threw a non-standard exception";
    }
    route_ = r.route;  // set before the handler ran, so a throwing handler counts under its route
    if (resp.status < 200 || resp.status > 999) {
      const std::string why = "handler returned invalid status " + std::to_string(resp.status);
      resp = error_response(500, "internal", why);
      resp.log_detail = why;
    }
    const bool keep_alive = msg.keep_alive() && !state_->is_stopping();
    send(std::move(resp), keep_alive, r.method == "HEAD");
  }

  void send(Response resp, bool keep_alive, bool head) {
    res_.emplace();
    res_->version(11);
    res_->result(static_cast<unsigned>(resp.status));
    res_->set(bhttp::field::content_type, resp.content_type);
    for (const auto& [k, v] : resp.headers) res_->insert(k, v);
    if (request_id_.empty()) request_id_ = new_request_id();  // the request line was unreadable
    res_->set(kRequestIdHeader, request_id_);
    const bool no_body = resp.status == 204 || resp.status == 304;
    if (!no_body) res_->body() = std::move(resp.body);
    res_->keep_alive(keep_alive);
    res_->prepare_payload();
    if (head) {
      const std::size_t n = res_->body().size();
      res_->body().clear();
      if (!no_body) res_->content_length(n);
    }
    log_request(resp);
    lowest().expires_after(opts().write_timeout);
    bhttp::async_write(derived().stream(), *res_,
                       [self = derived().shared_from_this(), keep_alive](
                           beast::error_code ec, std::size_t) { self->on_write(ec, keep_alive); });
  }

  /// The one line of a request (core/log.h): written before the answer so that it exists once
  /// the client has the answer. 5xx answers are logged at warn at least.
  void log_request(const Response& resp) {
    const auto elapsed = Clock::now() - started_;
    const auto us = std::chrono::duration_cast<std::chrono::microseconds>(elapsed).count();
    if (opts().on_request) {
      opts().on_request(method_, route_, resp.status,
                        std::chrono::duration_cast<std::chrono::nanoseconds>(elapsed));
    }
    route_.clear();
    auto level = opts().request_log_level;
    if (resp.status >= 500 && level < spdlog::level::warn) level = spdlog::level::warn;
    // The raw target without its query: percent-escapes kept, so the value holds no spaces or
    // control characters whatever the client sent.
    const std::string_view path = std::string_view(target_).substr(0, target_.find('?'));
    const log::RequestScope scope(request_id_);
    spdlog::log(
        level, "{}: request method={} path={} status={} duration_ms={}.{:03} remote={}{}{}{}{}",
        opts().name, method_.empty() ? "-" : method_, path.empty() ? "-" : path, resp.status,
        us / 1000, us % 1000, remote_, client_.empty() ? "" : " client=", client_,
        resp.log_detail.empty() ? "" : ": ", resp.log_detail);
  }

  void on_write(beast::error_code ec, bool keep_alive) {
    if (ec) {
      spdlog::debug("{}: writing the answer failed remote={}: {}", opts().name, remote_,
                    ec.message());
    }
    res_.reset();
    if (ec) return derived().close_now();
    if (!keep_alive) return derived().close_gracefully();
    do_read();
  }

  std::shared_ptr<ServerState> state_;
  beast::flat_buffer buffer_;
  std::string remote_;
  /// The verified client certificate's identity (TLS), logged as `client=`; "" = none.
  std::string client_;
  /// Non-empty: every request is answered 403 with this reason (a refused TLS client).
  std::string refused_;

 private:
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  std::optional<bhttp::response<bhttp::string_body>> res_;
  bool first_ = true;
  bool idle_ = false;
  Clock::time_point started_ = Clock::now();
  std::string method_;
  std::string target_;      ///< as received (raw), "" when the request line was unreadable
  std::string route_;       ///< Request::route of the request being answered ("" = none)
  std::string request_id_;  ///< of the request being served, "" until its header is read
};

/// A plain-TCP connection.
class PlainSession : public HttpSession<PlainSession>,
                     public SessionBase,
                     public std::enable_shared_from_this<PlainSession> {
 public:
  PlainSession(net::ip::tcp::socket&& socket, std::shared_ptr<ServerState> state);

  beast::tcp_stream& stream() { return stream_; }

  /// Starts serving on the connection's strand.
  void run();
  /// SessionBase: closes the socket from any thread (pending operations are aborted).
  void close() override;
  /// SessionBase: closes it (on the strand) if it waits idle for a keep-alive request.
  void close_if_idle() override;

  /// Closes at once (on the strand).
  void close_now();
  /// Half-closes, discards what the peer still sends (bounded), then closes, so that an
  /// answer sent before closing is not lost to a reset.
  void close_gracefully();

 private:
  void drain();

  beast::tcp_stream stream_;
  std::size_t drained_ = 0;
  std::array<char, 4096> drain_buf_{};
};

/// A TLS connection: the handshake (under read_timeout) precedes the first request; the
/// context comes from ServerOptions::tls at accept time and lives as long as the connection.
class SslSession : public HttpSession<SslSession>,
                   public SessionBase,
                   public std::enable_shared_from_this<SslSession> {
 public:
  SslSession(net::ip::tcp::socket&& socket, std::shared_ptr<ServerState> state,
             std::shared_ptr<net::ssl::context> context);

  beast::ssl_stream<beast::tcp_stream>& stream() { return stream_; }

  /// Handshakes, then serves, on the connection's strand.
  void run();
  void close() override;
  void close_if_idle() override;
  void close_now();
  /// Sends the TLS close_notify (bounded by the drain timeout), then closes.
  void close_gracefully();

 private:
  void on_handshake(beast::error_code ec);
  /// Answers `400 {"code":"tls_required",...}` in plain text to a client that sent plain HTTP.
  void refuse_plain_http();

  std::shared_ptr<net::ssl::context> context_;  ///< outlives stream_ (declared before it)
  beast::ssl_stream<beast::tcp_stream> stream_;
  std::string verify_failure_;  ///< what TlsSource::verify refused, for the handshake log line
  bool closing_ = false;
};

}  // namespace l3afd::api::http::detail
