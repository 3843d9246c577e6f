#include "component/artifact/http_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace l3afd::artifact::testing {
namespace {

const char* reason(int status) {
  switch (status) {
    case 200: return "OK";
    case 404: return "Not Found";
    case 500: return "Internal Server Error";
    default: return "Status";
  }
}

void send_all(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;  // the client went away (e.g. it aborted at its size cap)
    data.remove_prefix(static_cast<std::size_t>(n));
  }
}

}  // namespace

TestHttpServer::TestHttpServer() {
  listen_fd_.reset(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!listen_fd_) throw std::runtime_error(std::string("socket: ") + std::strerror(errno));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  if (::bind(listen_fd_.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::listen(listen_fd_.get(), 16) != 0) {
    throw std::runtime_error(std::string("bind/listen: ") + std::strerror(errno));
  }
  socklen_t len = sizeof addr;
  if (::getsockname(listen_fd_.get(), reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    throw std::runtime_error(std::string("getsockname: ") + std::strerror(errno));
  }
  port_ = ntohs(addr.sin_port);
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error("pipe2 failed");
  wake_rd_.reset(fds[0]);
  wake_wr_.reset(fds[1]);
  thread_ = std::thread([this] { run(); });
}

TestHttpServer::~TestHttpServer() {
  const char b = 'x';
  while (::write(wake_wr_.get(), &b, 1) < 0 && errno == EINTR) {
  }
  thread_.join();
}

void TestHttpServer::set(const std::string& path, Response response) {
  std::lock_guard lock(mu_);
  routes_[path] = std::move(response);
}

std::string TestHttpServer::base_url() const {
  return "http://127.0.0.1:" + std::to_string(port_);
}

int TestHttpServer::hits(const std::string& path) const {
  std::lock_guard lock(mu_);
  auto it = hits_.find(path);
  return it == hits_.end() ? 0 : it->second;
}

bool TestHttpServer::wait_readable(int fd) const {
  pollfd p[2] = {{fd, POLLIN, 0}, {wake_rd_.get(), POLLIN, 0}};
  for (;;) {
    const int n = ::poll(p, 2, -1);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return false;
    if (p[1].revents != 0) return false;
    if (p[0].revents != 0) return true;
  }
}

void TestHttpServer::run() {
  while (wait_readable(listen_fd_.get())) {
    UniqueFd conn(::accept4(listen_fd_.get(), nullptr, nullptr, SOCK_CLOEXEC));
    if (conn) serve(conn.get());
  }
}

void TestHttpServer::serve(int fd) {
  std::string request;
  char buf[4096];
  while (request.find("\r\n\r\n") == std::string::npos) {
    if (!wait_readable(fd)) return;
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) return;
    request.append(buf, static_cast<std::size_t>(n));
  }
  const std::size_t sp1 = request.find(' ');
  const std::size_t sp2 = request.find(' ', sp1 + 1);
  const std::string path = request.substr(sp1 + 1, sp2 - sp1 - 1);
  Response resp{404, "not found\n", true, false};
  {
    std::lock_guard lock(mu_);
    ++hits_[path];
    if (auto it = routes_.find(path); it != routes_.end()) resp = it->second;
  }
  if (resp.stall) {
    while (wait_readable(fd)) {
      if (::recv(fd, buf, sizeof buf, 0) <= 0) return;  // client gave up
    }
    return;
  }
  std::string head = "HTTP/1.1 " + std::to_string(resp.status) + " " + reason(resp.status) + "\r\n";
  if (resp.send_content_length)
    head += "Content-Length: " + std::to_string(resp.body.size()) + "\r\n";
  head += "Connection: close\r\n\r\n";
  send_all(fd, head);
  send_all(fd, resp.body);
}

}  // namespace l3afd::artifact::testing
