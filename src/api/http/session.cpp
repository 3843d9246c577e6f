#include "api/http/session.h"

#include <algorithm>

namespace l3afd::api::http::detail {

bool ServerState::add(const std::shared_ptr<SessionBase>& s) {
  std::lock_guard lock(mu_);
  if (stopping_) return false;
  // Forget connections that ended, so the registry stays as small as the live set.
  std::erase_if(sessions_, [](const auto& w) { return w.expired(); });
  sessions_.push_back(s);
  return true;
}

std::vector<std::shared_ptr<SessionBase>> ServerState::begin_stop() {
  std::lock_guard lock(mu_);
  auto live = stop_locked();
  sessions_.clear();
  return live;
}

std::vector<std::shared_ptr<SessionBase>> ServerState::begin_drain() {
  std::lock_guard lock(mu_);
  return stop_locked();
}

std::vector<std::shared_ptr<SessionBase>> ServerState::stop_locked() {
  stopping_ = true;
  std::vector<std::shared_ptr<SessionBase>> live;
  for (const auto& w : sessions_) {
    if (auto s = w.lock()) live.push_back(std::move(s));
  }
  return live;
}

bool ServerState::all_ended() const {
  std::lock_guard lock(mu_);
  return std::all_of(sessions_.begin(), sessions_.end(), [](const auto& w) { return w.expired(); });
}

bool ServerState::is_stopping() const {
  std::lock_guard lock(mu_);
  return stopping_;
}

namespace {

std::string endpoint_text(const net::ip::tcp::socket& socket) {
  beast::error_code ec;
  const auto ep = socket.remote_endpoint(ec);
  if (ec) return "?";
  const auto addr = ep.address();
  if (addr.is_v6()) return "[" + addr.to_string() + "]:" + std::to_string(ep.port());
  return addr.to_string() + ":" + std::to_string(ep.port());
}

}  // namespace

PlainSession::PlainSession(net::ip::tcp::socket&& socket, std::shared_ptr<ServerState> state)
    : HttpSession<PlainSession>(std::move(state)), stream_(std::move(socket)) {
  remote_ = endpoint_text(stream_.socket());
}

void PlainSession::run() {
  net::dispatch(stream_.get_executor(), [self = shared_from_this()] { self->do_read(); });
}

void PlainSession::close() {
  net::post(stream_.get_executor(), [self = shared_from_this()] { self->close_now(); });
}

void PlainSession::close_if_idle() {
  net::post(stream_.get_executor(), [self = shared_from_this()] {
    // A request whose bytes already arrived is not idle: it is read and answered (with
    // Connection: close) instead of being cut off.
    beast::error_code ec;
    if (self->idle() && self->stream_.socket().available(ec) == 0 && !ec) self->close_now();
  });
}

void PlainSession::close_now() {
  beast::error_code ec;
  stream_.socket().shutdown(net::ip::tcp::socket::shutdown_both, ec);
  stream_.close();
}

void PlainSession::close_gracefully() {
  beast::error_code ec;
  stream_.socket().shutdown(net::ip::tcp::socket::shutdown_send, ec);
  if (ec) return close_now();
  stream_.expires_after(kDrainTimeout);
  drain();
}

void PlainSession::drain() {
  stream_.async_read_some(net::buffer(drain_buf_),
                          [self = shared_from_this()](beast::error_code ec, std::size_t n) {
                            self->drained_ += n;
                            if (ec || self->drained_ > kMaxDrainBytes) return self->close_now();
                            self->drain();
                          });
}

// ---- SslSession ----------------------------------------------------------------------------

SslSession::SslSession(net::ip::tcp::socket&& socket, std::shared_ptr<ServerState> state,
                       std::shared_ptr<net::ssl::context> context)
    : HttpSession<SslSession>(std::move(state)),
      context_(std::move(context)),
      stream_(std::move(socket), *context_) {
  remote_ = endpoint_text(beast::get_lowest_layer(stream_).socket());
}

void SslSession::run() {
  net::dispatch(stream_.get_executor(), [self = shared_from_this()] {
    const auto& tls = self->state_->options.tls;
    // The callback runs inside the handshake, on this strand, while the session is alive.
    SslSession* raw = self.get();
    self->stream_.set_verify_callback([raw, tls](bool preverified, net::ssl::verify_context& vctx) {
      std::string reason;
      const bool ok = tls->verify(preverified, vctx.native_handle(), reason);
      if (!ok && raw->verify_failure_.empty()) raw->verify_failure_ = std::move(reason);
      return ok;
    });
    beast::get_lowest_layer(self->stream_).expires_after(self->opts().read_timeout);
    // A plain HTTP request to a TLS port gets a plain answer saying so, instead of a closed
    // connection the client cannot explain.
    beast::async_detect_ssl(beast::get_lowest_layer(self->stream_), self->buffer_,
                            [self](beast::error_code ec, bool is_tls) {
                              if (ec) return self->on_handshake(ec);
                              if (!is_tls) return self->refuse_plain_http();
                              self->stream_.async_handshake(
                                  net::ssl::stream_base::server, self->buffer_.data(),
                                  // The default argument satisfies Boost 1.81's requires
                                  // clause, which names the one-argument signature.
                                  [self](beast::error_code hec, std::size_t used = 0) {
                                    self->buffer_.consume(used);
                                    self->on_handshake(hec);
                                  });
                            });
  });
}

void SslSession::refuse_plain_http() {
  spdlog::info("{}: plain HTTP on the TLS listener refused remote={}", opts().name, remote_);
  static const std::string kAnswer = [] {
    const std::string body =
        R"({"code":"tls_required","message":"this listener speaks TLS only: use https://",)"
        R"("errors":[]})";
    return "HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\nContent-Length: " +
           std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body;
  }();
  beast::get_lowest_layer(stream_).expires_after(opts().write_timeout);
  net::async_write(beast::get_lowest_layer(stream_), net::buffer(kAnswer),
                   [self = shared_from_this()](beast::error_code, std::size_t) {
                     beast::error_code ec;
                     auto& socket = beast::get_lowest_layer(self->stream_).socket();
                     socket.shutdown(net::ip::tcp::socket::shutdown_send, ec);
                     self->close_now();
                   });
}

void SslSession::on_handshake(beast::error_code ec) {
  if (ec) {
    if (ec == net::error::operation_aborted) return;  // closed by stop()
    // A refused client is worth a line (who tried, and why); scanners and health checks that
    // connect and leave produce the same line, so it is info, not warn.
    const std::string why = !verify_failure_.empty()      ? verify_failure_
                            : ec == beast::error::timeout ? "handshake timed out"
                                                          : ec.message();
    spdlog::info("{}: tls handshake refused remote={}: {}", opts().name, remote_, why);
    return close_now();
  }
  const TlsPeer peer = state_->options.tls->authorize(stream_.native_handle());
  client_ = peer.identity;
  if (!peer.allowed) refused_ = peer.reason.empty() ? "client certificate refused" : peer.reason;
  do_read();
}

void SslSession::close() {
  net::post(stream_.get_executor(), [self = shared_from_this()] { self->close_now(); });
}

void SslSession::close_if_idle() {
  net::post(stream_.get_executor(), [self = shared_from_this()] {
    beast::error_code ec;
    auto& socket = beast::get_lowest_layer(self->stream_).socket();
    if (self->idle() && socket.available(ec) == 0 && !ec) self->close_now();
  });
}

void SslSession::close_now() {
  beast::error_code ec;
  auto& socket = beast::get_lowest_layer(stream_).socket();
  socket.shutdown(net::ip::tcp::socket::shutdown_both, ec);
  beast::get_lowest_layer(stream_).close();
}

void SslSession::close_gracefully() {
  if (closing_) return;
  closing_ = true;
  beast::get_lowest_layer(stream_).expires_after(kDrainTimeout);
  stream_.async_shutdown([self = shared_from_this()](beast::error_code) { self->close_now(); });
}

}  // namespace l3afd::api::http::detail
