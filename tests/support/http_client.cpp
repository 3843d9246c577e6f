#include "support/http_client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace l3afd::test {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

namespace {

bool iequal(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

}  // namespace

std::string HttpResult::header(std::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (iequal(k, name)) return v;
  }
  return {};
}

std::size_t HttpResult::header_count(std::string_view name) const {
  std::size_t n = 0;
  for (const auto& [k, v] : headers) n += iequal(k, name) ? 1 : 0;
  return n;
}

struct HttpConnection::Impl {
  net::io_context ioc;
  beast::tcp_stream stream{ioc};
  beast::flat_buffer buffer;
  std::string host;
  std::string error;
};

HttpConnection::HttpConnection(const std::string& host, uint16_t port)
    : impl_(std::make_unique<Impl>()) {
  impl_->host = host + ":" + std::to_string(port);
  beast::error_code ec;
  tcp::resolver resolver(impl_->ioc);
  auto results = resolver.resolve(host, std::to_string(port), ec);
  if (ec) {
    impl_->error = "resolve: " + ec.message();
    return;
  }
  impl_->stream.expires_after(kClientSafetyTimeout);
  impl_->stream.async_connect(results,
                              [&ec](beast::error_code e, const tcp::endpoint&) { ec = e; });
  impl_->ioc.run();
  impl_->ioc.restart();
  if (ec) impl_->error = "connect: " + ec.message();
}

HttpConnection::~HttpConnection() {
  beast::error_code ec;
  impl_->stream.socket().shutdown(tcp::socket::shutdown_both, ec);
}

const std::string& HttpConnection::connect_error() const {
  return impl_->error;
}

uint16_t HttpConnection::local_port() const {
  beast::error_code ec;
  return impl_->stream.socket().local_endpoint(ec).port();
}

HttpResult HttpConnection::request(const std::string& method, const std::string& target,
                                   const std::string& body, const Headers& headers) {
  HttpResult out;
  if (!impl_->error.empty()) {
    out.error = impl_->error;
    return out;
  }
  bhttp::request<bhttp::string_body> req;
  req.method_string(method);
  req.target(target);
  req.version(11);
  req.set(bhttp::field::host, impl_->host);
  for (const auto& [k, v] : headers) req.insert(k, v);
  req.body() = body;
  if (!body.empty()) req.prepare_payload();
  // Asynchronous operations bounded by the stream's deadline, run to completion here.
  beast::error_code ec;
  impl_->stream.expires_after(kClientSafetyTimeout);
  bhttp::async_write(impl_->stream, req, [&ec](beast::error_code e, std::size_t) { ec = e; });
  impl_->ioc.run();
  impl_->ioc.restart();
  if (ec) {
    out.error = "write: " + ec.message();
    return out;
  }
  bhttp::response_parser<bhttp::string_body> parser;
  parser.body_limit(64u << 20);
  if (method == "HEAD") parser.skip(true);
  impl_->stream.expires_after(kClientSafetyTimeout);
  bhttp::async_read(impl_->stream, impl_->buffer, parser,
                    [&ec](beast::error_code e, std::size_t) { ec = e; });
  impl_->ioc.run();
  impl_->ioc.restart();
  if (ec) {
    out.error = "read: " + ec.message();
    return out;
  }
  auto& res = parser.get();
  out.status = static_cast<int>(res.result_int());
  for (const auto& f : res) out.headers.emplace_back(f.name_string(), f.value());
  out.body = res.body();
  out.keep_alive = res.keep_alive();
  return out;
}

HttpResult request(const std::string& host, uint16_t port, const std::string& method,
                   const std::string& target, const std::string& body, const Headers& headers) {
  HttpConnection c(host, port);
  return c.request(method, target, body, headers);
}

RawSocket::RawSocket(const std::string& host, uint16_t port) {
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(port);
  if (::inet_pton(AF_INET, host.c_str(), &sa.sin_addr) != 1) return;
  fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd_ < 0) return;
  if (::connect(fd_, reinterpret_cast<const sockaddr*>(&sa), sizeof sa) != 0) {
    ::close(fd_);
    fd_ = -1;
  }
}

RawSocket::~RawSocket() {
  if (fd_ >= 0) ::close(fd_);
}

bool RawSocket::send(std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

void RawSocket::shutdown_send() {
  ::shutdown(fd_, SHUT_WR);
}

bool RawSocket::fill() {
  pollfd p{fd_, POLLIN, 0};
  const int ms = static_cast<int>(
      std::chrono::duration_cast<std::chrono::milliseconds>(kClientSafetyTimeout).count());
  int r;
  do {
    r = ::poll(&p, 1, ms);
  } while (r < 0 && errno == EINTR);
  if (r <= 0) return false;
  char tmp[4096];
  const ssize_t n = ::recv(fd_, tmp, sizeof tmp, 0);
  if (n <= 0) return false;
  buf_.append(tmp, static_cast<std::size_t>(n));
  return true;
}

HttpResult RawSocket::read_response() {
  HttpResult out;
  while (!parse_response(buf_, out)) {
    if (!out.error.empty()) return out;
    if (!fill()) {
      out.error = "connection closed or timed out before a complete response";
      return out;
    }
  }
  return out;
}

bool RawSocket::wait_closed(std::string* data) {
  for (;;) {
    pollfd p{fd_, POLLIN, 0};
    const int ms = static_cast<int>(
        std::chrono::duration_cast<std::chrono::milliseconds>(kClientSafetyTimeout).count());
    const int r = ::poll(&p, 1, ms);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return false;
    char tmp[4096];
    const ssize_t n = ::recv(fd_, tmp, sizeof tmp, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      if (data) data->append(buf_);
      buf_.clear();
      return true;  // EOF or reset: closed by the peer
    }
    buf_.append(tmp, static_cast<std::size_t>(n));
  }
}

bool parse_response(std::string& data, HttpResult& out) {
  const std::size_t end = data.find("\r\n\r\n");
  if (end == std::string::npos) return false;
  const std::string head = data.substr(0, end);
  std::size_t line_end = head.find("\r\n");
  const std::string status_line = head.substr(0, line_end);
  if (status_line.rfind("HTTP/1.", 0) != 0 || status_line.size() < 12) {
    out.error = "bad status line: " + status_line;
    return false;
  }
  HttpResult r;
  r.status = std::atoi(status_line.c_str() + 9);
  std::size_t pos = line_end == std::string::npos ? head.size() : line_end + 2;
  while (pos < head.size()) {
    std::size_t next = head.find("\r\n", pos);
    if (next == std::string::npos) next = head.size();
    const std::string line = head.substr(pos, next - pos);
    const std::size_t colon = line.find(':');
    if (colon != std::string::npos) {
      std::string value = line.substr(colon + 1);
      const std::size_t first = value.find_first_not_of(" \t");
      value = first == std::string::npos ? "" : value.substr(first);
      r.headers.emplace_back(line.substr(0, colon), value);
    }
    pos = next + 2;
  }
  const std::string len_text = r.header("Content-Length");
  const std::size_t len = len_text.empty() ? 0 : std::stoul(len_text);
  if (data.size() < end + 4 + len) return false;
  r.body = data.substr(end + 4, len);
  r.keep_alive = !iequal(r.header("Connection"), "close");
  data.erase(0, end + 4 + len);
  out = std::move(r);
  return true;
}

}  // namespace l3afd::test
