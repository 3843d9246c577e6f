// Test support: a minimal HTTP/1.1 server on 127.0.0.1 (ephemeral port) in its own thread,
// written with plain POSIX sockets. One connection at a time; every response closes it.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <thread>

#include "core/unique_fd.h"

namespace l3afd::artifact::testing {

class TestHttpServer {
 public:
  struct Response {
    int status = 200;
    std::string body;
    bool send_content_length = true;  ///< false: body ends when the connection closes
    bool stall = false;               ///< read the request, then never answer
  };

  /// Binds 127.0.0.1:0 and starts serving. Throws std::runtime_error when the socket fails.
  TestHttpServer();
  ~TestHttpServer();
  TestHttpServer(const TestHttpServer&) = delete;
  TestHttpServer& operator=(const TestHttpServer&) = delete;

  /// Serves `response` for request path `path` (unknown paths get 404).
  void set(const std::string& path, Response response);
  /// "http://127.0.0.1:<port>"
  std::string base_url() const;
  /// How many requests asked for `path`.
  int hits(const std::string& path) const;

 private:
  void run();
  void serve(int fd);
  bool wait_readable(int fd) const;  ///< false when stopping

  UniqueFd listen_fd_;
  UniqueFd wake_rd_;
  UniqueFd wake_wr_;
  uint16_t port_ = 0;
  mutable std::mutex mu_;
  std::map<std::string, Response> routes_;
  std::map<std::string, int> hits_;
  std::thread thread_;
};

}  // namespace l3afd::artifact::testing
