#include "api/http/server.h"

#include <sys/socket.h>

#include <future>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <thread>
#include <vector>

#include "api/http/session.h"
#include "core/log.h"

namespace l3afd::api::http {

namespace net = boost::asio;
using tcp = net::ip::tcp;

namespace {

/// Grace period for connections to end after stop() before the io_context is stopped hard.
constexpr std::chrono::seconds kStopGrace{5};

struct HostPort {
  std::string host;
  uint16_t port = 0;
};

bool parse_host_port(const std::string& address, HostPort& out) {
  std::string host;
  std::string port;
  if (!address.empty() && address.front() == '[') {
    const std::size_t close = address.find(']');
    if (close == std::string::npos || close + 1 >= address.size() || address[close + 1] != ':') {
      return false;
    }
    host = address.substr(1, close - 1);
    port = address.substr(close + 2);
  } else {
    const std::size_t colon = address.rfind(':');
    if (colon == std::string::npos) return false;
    host = address.substr(0, colon);
    port = address.substr(colon + 1);
    if (host.find(':') != std::string::npos) return false;  // IPv6 needs brackets
  }
  if (port.empty() || port.size() > 5) return false;
  unsigned value = 0;
  for (char c : port) {
    if (c < '0' || c > '9') return false;
    value = value * 10 + static_cast<unsigned>(c - '0');
  }
  if (value > 65535) return false;
  out.host = host;
  out.port = static_cast<uint16_t>(value);
  return true;
}

Error io_error(std::string what, const boost::system::error_code& ec) {
  Error e;
  e.code = Errc::Io;
  e.sys_errno = ec.category() == boost::system::system_category() ? ec.value() : 0;
  e.message = std::move(what) + ": " + ec.message();
  return e;
}

}  // namespace

struct Server::Impl {
  Impl(ServerOptions options, Router router)
      : state(std::make_shared<detail::ServerState>(std::move(options), std::move(router))),
        acceptor(net::make_strand(ioc)),
        retry_timer(acceptor.get_executor()) {}

  Status open_address();
  Status adopt_fd(int fd);
  void do_accept();
  void on_accept(boost::system::error_code ec, tcp::socket socket);
  void run_threads();

  net::io_context ioc;
  std::shared_ptr<detail::ServerState> state;
  tcp::acceptor acceptor;
  net::steady_timer retry_timer;
  uint16_t port = 0;
  int fd = -1;
  std::vector<std::thread> threads;

  std::mutex stop_mu;
  bool stopped = false;
  std::condition_variable threads_done_cv;
  int threads_running = 0;
};

Status Server::Impl::open_address() {
  const std::string& address = state->options.address;
  HostPort hp;
  if (!parse_host_port(address, hp)) {
    return fail(Errc::InvalidPayload, "invalid listen address '" + address +
                                          "': expected host:port with a port in 0-65535");
  }
  boost::system::error_code ec;
  tcp::endpoint endpoint;
  if (hp.host.empty()) {
    endpoint = tcp::endpoint(tcp::v4(), hp.port);
  } else if (hp.host == "localhost") {
    endpoint = tcp::endpoint(net::ip::address_v4::loopback(), hp.port);
  } else if (auto addr = net::ip::make_address(hp.host, ec); !ec) {
    endpoint = tcp::endpoint(addr, hp.port);
  } else {
    tcp::resolver resolver(ioc);
    auto results = resolver.resolve(hp.host, std::to_string(hp.port),
                                    tcp::resolver::numeric_service | tcp::resolver::passive, ec);
    if (ec || results.empty()) {
      return fail(io_error("resolve listen host '" + hp.host + "'", ec));
    }
    endpoint = results.begin()->endpoint();
  }
  const std::string where = " " + address;
  if (acceptor.open(endpoint.protocol(), ec)) return fail(io_error("open socket for" + where, ec));
  if (acceptor.set_option(net::socket_base::reuse_address(true), ec)) {
    return fail(io_error("set SO_REUSEADDR on" + where, ec));
  }
  if (acceptor.bind(endpoint, ec)) return fail(io_error("bind" + where, ec));
  if (acceptor.listen(net::socket_base::max_listen_connections, ec)) {
    return fail(io_error("listen on" + where, ec));
  }
  return ok();
}

Status Server::Impl::adopt_fd(int listen_fd) {
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  if (::getsockname(listen_fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0) {
    const int err = errno;
    return fail(Errc::Io,
                "getsockname of inherited listen fd " + std::to_string(listen_fd) + ": " +
                    std::strerror(err),
                err);
  }
  if (ss.ss_family != AF_INET && ss.ss_family != AF_INET6) {
    return fail(Errc::Io, "inherited listen fd " + std::to_string(listen_fd) +
                              " is not an IPv4 or IPv6 socket");
  }
  int type = 0;
  int accepting = 0;
  socklen_t ilen = sizeof type;
  if (::getsockopt(listen_fd, SOL_SOCKET, SO_TYPE, &type, &ilen) != 0 || type != SOCK_STREAM) {
    return fail(Errc::Io,
                "inherited listen fd " + std::to_string(listen_fd) + " is not a stream socket");
  }
  ilen = sizeof accepting;
  if (::getsockopt(listen_fd, SOL_SOCKET, SO_ACCEPTCONN, &accepting, &ilen) != 0) {
    const int err = errno;
    return fail(
        Errc::Io,
        "getsockopt SO_ACCEPTCONN of inherited listen fd: " + std::string(std::strerror(err)), err);
  }
  boost::system::error_code ec;
  const tcp protocol = ss.ss_family == AF_INET6 ? tcp::v6() : tcp::v4();
  if (acceptor.assign(protocol, listen_fd, ec)) {
    return fail(io_error("adopt listen fd " + std::to_string(listen_fd), ec));
  }
  if (!accepting && acceptor.listen(net::socket_base::max_listen_connections, ec)) {
    boost::system::error_code ignored;
    acceptor.release(ignored);  // on error the caller keeps ownership
    return fail(io_error("listen on inherited fd " + std::to_string(listen_fd), ec));
  }
  return ok();
}

void Server::Impl::do_accept() {
  acceptor.async_accept(net::make_strand(ioc),
                        [this](boost::system::error_code ec, tcp::socket socket) {
                          on_accept(ec, std::move(socket));
                        });
}

void Server::Impl::on_accept(boost::system::error_code ec, tcp::socket socket) {
  if (ec == net::error::operation_aborted || !acceptor.is_open()) return;
  if (ec) {
    // E.g. EMFILE: retry a little later instead of spinning.
    spdlog::warn("{}: accept failed: {}", state->options.name, ec.message());
    retry_timer.expires_after(std::chrono::milliseconds(100));
    retry_timer.async_wait([this](boost::system::error_code tec) {
      if (!tec && acceptor.is_open()) do_accept();
    });
    return;
  }
  if (state->options.tls) {
    auto session = std::make_shared<detail::SslSession>(std::move(socket), state,
                                                        state->options.tls->context());
    if (state->add(session)) session->run();
  } else {
    auto session = std::make_shared<detail::PlainSession>(std::move(socket), state);
    if (state->add(session)) session->run();
  }
  do_accept();
}

void Server::Impl::run_threads() {
  const int n = std::max(2, state->options.threads);
  threads_running = n;
  for (int i = 0; i < n; ++i) {
    threads.emplace_back([this] {
      for (;;) {
        try {
          ioc.run();
          break;
        } catch (const std::exception& e) {
          spdlog::error("{}: io thread caught: {}", state->options.name, e.what());
        }
      }
      std::lock_guard lock(stop_mu);
      if (--threads_running == 0) threads_done_cv.notify_all();
    });
  }
}

Server::Server(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Server::~Server() {
  stop();
}

Result<std::unique_ptr<Server>> Server::start(ServerOptions options, Router router) {
  const std::optional<int> inherited = options.listen_fd;
  auto impl = std::make_unique<Impl>(std::move(options), std::move(router));
  Status opened = inherited ? impl->adopt_fd(*inherited) : impl->open_address();
  if (!opened) return fail(std::move(opened).error());
  boost::system::error_code ec;
  const auto local = impl->acceptor.local_endpoint(ec);
  if (ec) return fail(io_error("read local address of listener", ec));
  impl->port = local.port();
  impl->fd = impl->acceptor.native_handle();
  impl->do_accept();
  impl->run_threads();
  spdlog::info("{}: listening address={} port={} tls={}", impl->state->options.name,
               local.address().to_string(), impl->port, impl->state->options.tls ? "on" : "off");
  return std::unique_ptr<Server>(new Server(std::move(impl)));
}

uint16_t Server::port() const {
  return impl_->port;
}

int Server::listen_fd() const {
  return impl_->fd;
}

void Server::drain(std::chrono::milliseconds grace) {
  Impl& s = *impl_;
  {
    std::lock_guard lock(s.stop_mu);
    if (s.stopped) return;
  }
  std::promise<void> closed;
  net::post(s.acceptor.get_executor(), [&s, &closed] {
    boost::system::error_code ignored;
    s.acceptor.cancel(ignored);
    s.acceptor.close(ignored);
    s.retry_timer.cancel();
    closed.set_value();
  });
  closed.get_future().wait();
  for (const auto& session : s.state->begin_drain()) session->close_if_idle();
  const auto deadline = std::chrono::steady_clock::now() + grace;
  while (!s.state->all_ended() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  if (!s.state->all_ended()) {
    spdlog::warn("{}: connections still busy after drain, closing them grace_ms={}",
                 s.state->options.name, grace.count());
  }
  stop();
}

void Server::stop() {
  Impl& s = *impl_;
  {
    std::lock_guard lock(s.stop_mu);
    if (s.stopped) return;
    s.stopped = true;
  }
  const auto sessions = s.state->begin_stop();
  net::post(s.acceptor.get_executor(), [&s] {
    boost::system::error_code ignored;
    s.acceptor.close(ignored);
    s.retry_timer.cancel();
  });
  for (const auto& session : sessions) session->close();
  {
    // Connections end on their own once their sockets are closed; a handler still running
    // is waited for. Past the grace period the io_context is stopped so run() returns as
    // soon as the running handlers do.
    std::unique_lock lock(s.stop_mu);
    if (!s.threads_done_cv.wait_for(lock, kStopGrace, [&s] { return s.threads_running == 0; })) {
      spdlog::warn("{}: connections still busy after stop, stopping io grace_s={}",
                   s.state->options.name, kStopGrace.count());
      s.ioc.stop();
    }
  }
  for (auto& t : s.threads) {
    if (t.joinable()) t.join();
  }
  spdlog::info("{}: stopped", s.state->options.name);
}

}  // namespace l3afd::api::http
