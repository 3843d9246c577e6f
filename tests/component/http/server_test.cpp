// Server over real sockets on 127.0.0.1: routing, keep-alive, limits, timeouts, errors,
// concurrency and shutdown.
#include "api/http/server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "core/log.h"
#include "support/http_client.h"
#include "support/log_capture.h"

namespace l3afd::api::http {
namespace {

using test::HttpConnection;
using test::HttpResult;
using test::RawSocket;

constexpr const char* kHost = "127.0.0.1";

/// Handlers used by every test; they count their calls.
struct Handlers {
  std::atomic<int> calls{0};
  std::atomic<int> bodies{0};

  Router router() {
    Router r;
    r.add("GET", "/l3af/configs/{version}/{iface}", [this](const Request& q) {
      ++calls;
      Response res;
      res.body = "{\"version\":\"" + q.params.at("version") + "\",\"iface\":\"" +
                 q.params.at("iface") + "\",\"remote\":\"" + q.remote + "\"}";
      return res;
    });
    r.add("POST", "/l3af/configs/{version}/add", [this](const Request& q) {
      ++calls;
      ++bodies;
      Response res;
      res.body = q.body;
      res.headers.emplace_back("X-Body-Size", std::to_string(q.body.size()));
      res.headers.emplace_back("X-Echo", q.header("x-test"));
      return res;
    });
    r.add("HEAD", "/l3af/configs/{version}", [this](const Request&) {
      ++calls;
      Response res;
      res.body = "0123456789";
      return res;
    });
    r.add("GET", "/id", [this](const Request& q) {
      ++calls;
      Response res;
      res.content_type = "text/plain";
      res.body = q.id + " " + std::string(log::current_request_id());
      return res;
    });
    r.add("GET", "/boom", [this](const Request&) -> Response {
      ++calls;
      throw std::runtime_error("kaputt");
    });
    r.add("GET", "/status/{code}", [this](const Request& q) {
      ++calls;
      Response res;
      res.status = std::stoi(q.params.at("code"));
      res.content_type = "text/plain";
      return res;
    });
    return r;
  }
};

ServerOptions small_options() {
  ServerOptions o;
  o.address = "127.0.0.1:0";
  o.max_body_bytes = 1024;
  o.max_header_bytes = 1024;
  o.name = "test";
  return o;
}

class ServerTest : public ::testing::Test {
 protected:
  void start(ServerOptions o = small_options()) {
    auto s = Server::start(std::move(o), handlers_.router());
    ASSERT_TRUE(s.has_value()) << s.error().to_string();
    server_ = std::move(*s);
    ASSERT_NE(server_->port(), 0);
  }
  void SetUp() override { start(); }
  uint16_t port() const { return server_->port(); }

  Handlers handlers_;
  std::unique_ptr<Server> server_;
};

/// Content-Length, Content-Type and one sane X-Request-Id are on every answer, and the length
/// is right.
void expect_framing(const HttpResult& r) {
  EXPECT_FALSE(r.header("Content-Type").empty());
  ASSERT_FALSE(r.header("Content-Length").empty());
  EXPECT_EQ(r.header("Content-Length"), std::to_string(r.body.size()));
  EXPECT_EQ(r.header_count("X-Request-Id"), 1u);
  EXPECT_TRUE(is_sane_request_id(r.header("X-Request-Id"))) << r.header("X-Request-Id");
}

/// Position of the first header named `name` in `r` (exact case), -1 if absent.
int header_index(const HttpResult& r, const std::string& name) {
  for (std::size_t i = 0; i < r.headers.size(); ++i) {
    if (r.headers[i].first == name) return static_cast<int>(i);
  }
  return -1;
}

TEST_F(ServerTest, RoutesRequestsAndFramesEveryAnswer) {
  HttpResult r = test::request(kHost, port(), "GET", "/l3af/configs/v1/eth%30");
  ASSERT_TRUE(r.error.empty()) << r.error;
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.header("Content-Type"), "application/json");
  EXPECT_NE(r.body.find("\"version\":\"v1\",\"iface\":\"eth0\""), std::string::npos) << r.body;
  expect_framing(r);

  r = test::request(kHost, port(), "GET", "/l3af/configs/v1/add");
  EXPECT_EQ(r.status, 200);
  EXPECT_NE(r.body.find("\"iface\":\"add\""), std::string::npos) << r.body;

  r = test::request(kHost, port(), "GET", "/nope");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.body, "404 page not found\n");
  EXPECT_EQ(r.header("Content-Type").rfind("text/plain", 0), 0u);
  expect_framing(r);

  r = test::request(kHost, port(), "GET", "/l3af/configs/v1/");
  EXPECT_EQ(r.status, 404);

  r = test::request(kHost, port(), "PUT", "/l3af/configs/v1/add", "x");
  EXPECT_EQ(r.status, 405);
  EXPECT_TRUE(r.body.empty());
  expect_framing(r);

  r = test::request(kHost, port(), "POST", "/l3af/configs/v1/add", "[1,2]", {{"X-Test", "t1"}});
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "[1,2]");
  EXPECT_EQ(r.header("X-Body-Size"), "5");
  EXPECT_EQ(r.header("X-Echo"), "t1");
  expect_framing(r);
  // The id comes after the handler's headers; their order is the handler's.
  EXPECT_EQ(header_index(r, "Content-Type"), 0);
  EXPECT_EQ(header_index(r, "X-Body-Size"), 1);
  EXPECT_EQ(header_index(r, "X-Echo"), 2);
  EXPECT_EQ(header_index(r, "X-Request-Id"), 3);
}

TEST_F(ServerTest, EveryAnsweredRequestIsReportedWithItsRouteStatusAndDuration) {
  struct Seen {
    std::string method, route;
    int status;
    std::chrono::nanoseconds elapsed;
  };
  auto seen = std::make_shared<std::vector<Seen>>();
  auto mu = std::make_shared<std::mutex>();
  server_.reset();
  ServerOptions o = small_options();
  o.on_request = [seen, mu](std::string_view m, std::string_view route, int status,
                            std::chrono::nanoseconds elapsed) {
    std::lock_guard lk(*mu);
    seen->push_back({std::string(m), std::string(route), status, elapsed});
  };
  start(std::move(o));
  EXPECT_EQ(test::request(kHost, port(), "GET", "/l3af/configs/v1/eth0").status, 200);
  EXPECT_EQ(test::request(kHost, port(), "GET", "/status/503").status, 503);
  EXPECT_EQ(test::request(kHost, port(), "GET", "/nope").status, 404);
  EXPECT_EQ(test::request(kHost, port(), "GET", "/boom").status, 500);
  std::lock_guard lk(*mu);
  ASSERT_EQ(seen->size(), 4u);
  EXPECT_EQ((*seen)[0].route, "/l3af/configs/{version}/{iface}");
  EXPECT_EQ((*seen)[0].method, "GET");
  EXPECT_EQ((*seen)[0].status, 200);
  EXPECT_GT((*seen)[0].elapsed.count(), 0);
  EXPECT_EQ((*seen)[1].route, "/status/{code}");
  EXPECT_EQ((*seen)[1].status, 503);
  EXPECT_EQ((*seen)[2].route, "") << "no route matched";
  EXPECT_EQ((*seen)[2].status, 404);
  EXPECT_EQ((*seen)[3].route, "/boom") << "a throwing handler counts under its route";
  EXPECT_EQ((*seen)[3].status, 500);
}

TEST_F(ServerTest, EveryAnswerGetsItsOwnRequestIdWhichIsTheHandlersLogScope) {
  HttpConnection c(kHost, port());
  const HttpResult a = c.request("GET", "/id");
  const HttpResult b = c.request("GET", "/id");
  const HttpResult missing = c.request("GET", "/missing");
  ASSERT_EQ(a.status, 200) << a.error;
  ASSERT_EQ(b.status, 200) << b.error;
  ASSERT_EQ(missing.status, 404) << missing.error;
  for (const HttpResult* r : {&a, &b, &missing}) expect_framing(*r);
  const std::string id = a.header("X-Request-Id");
  EXPECT_EQ(id.size(), 16u) << id;
  EXPECT_EQ(id.find_first_not_of("0123456789abcdef"), std::string::npos) << id;
  // The handler saw the same id, as Request::id and as its thread's log scope.
  EXPECT_EQ(a.body, id + " " + id);
  EXPECT_EQ(b.body, b.header("X-Request-Id") + " " + b.header("X-Request-Id"));
  EXPECT_NE(b.header("X-Request-Id"), id);
  EXPECT_NE(missing.header("X-Request-Id"), id);
  EXPECT_NE(missing.header("X-Request-Id"), b.header("X-Request-Id"));
}

TEST_F(ServerTest, ASaneClientRequestIdIsEchoedAndUsed) {
  const std::string longest(64, 'z');
  for (const std::string& id : {std::string("abc-123"), std::string("A.b_C-9"), longest}) {
    const HttpResult r = test::request(kHost, port(), "GET", "/id", {}, {{"X-Request-Id", id}});
    ASSERT_EQ(r.status, 200) << r.error;
    EXPECT_EQ(r.header("X-Request-Id"), id);
    EXPECT_EQ(r.body, id + " " + id);
    expect_framing(r);
  }
  // Header names are case-insensitive.
  const HttpResult lower =
      test::request(kHost, port(), "GET", "/id", {}, {{"x-request-id", "lower-case"}});
  EXPECT_EQ(lower.header("X-Request-Id"), "lower-case");
}

TEST_F(ServerTest, AnInsaneClientRequestIdIsReplaced) {
  const std::vector<std::string> insane = {
      std::string(65, 'z'),  // too long
      "two words",           // space
      "tab\there",           // control character
      "semi;colon",          // outside [A-Za-z0-9._-]
      "caf\xc3\xa9",         // non-ASCII
      "x\\u0022quote",       // backslash
  };
  for (const std::string& id : insane) {
    const HttpResult r = test::request(kHost, port(), "GET", "/id", {}, {{"X-Request-Id", id}});
    ASSERT_EQ(r.status, 200) << r.error << " for " << id;
    const std::string got = r.header("X-Request-Id");
    EXPECT_NE(got, id);
    EXPECT_EQ(got.size(), 16u) << got;
    EXPECT_EQ(r.body, got + " " + got);
    expect_framing(r);
  }
  // An empty value is no id either.
  const HttpResult empty = test::request(kHost, port(), "GET", "/id", {}, {{"X-Request-Id", ""}});
  EXPECT_EQ(empty.header("X-Request-Id").size(), 16u);
}

TEST_F(ServerTest, AnswersTheServerMakesItselfCarryARequestIdToo) {
  testing::CapturedLog captured(log::Format::Console, spdlog::level::debug);
  {
    // Refused before the body is read: the client's id is already known.
    RawSocket s(kHost, port());
    ASSERT_TRUE(
        s.send("POST /l3af/configs/v1/add HTTP/1.1\r\nHost: x\r\nX-Request-Id: too-big-1\r\n"
               "Content-Length: 5000\r\n\r\n"));
    const HttpResult r = s.read_response();
    ASSERT_EQ(r.status, 413) << r.error;
    EXPECT_EQ(r.header("X-Request-Id"), "too-big-1");
    expect_framing(r);
  }
  {
    // The header could not be read: a new id.
    RawSocket s(kHost, port());
    ASSERT_TRUE(s.send("GARBAGE\r\n\r\n"));
    const HttpResult r = s.read_response();
    ASSERT_EQ(r.status, 400) << r.error;
    expect_framing(r);
  }
  // The refused request is logged with what was read of it, the cause and the id.
  const std::string text = captured.text();
  EXPECT_NE(text.find(" debug test: request method=POST path=/l3af/configs/v1/add status=413 "),
            std::string::npos)
      << text;
  EXPECT_NE(text.find(": request body exceeds 1024 bytes req=too-big-1\n"), std::string::npos)
      << text;
}

TEST_F(ServerTest, KeepAliveServesSeveralRequestsOnOneConnection) {
  HttpConnection c(kHost, port());
  ASSERT_TRUE(c.connect_error().empty()) << c.connect_error();
  const std::string remote = "127.0.0.1:" + std::to_string(c.local_port());
  for (int i = 0; i < 5; ++i) {
    const HttpResult r = c.request("GET", "/l3af/configs/v1/eth" + std::to_string(i));
    ASSERT_TRUE(r.error.empty()) << r.error;
    EXPECT_EQ(r.status, 200);
    EXPECT_TRUE(r.keep_alive);
    EXPECT_NE(r.body.find("\"iface\":\"eth" + std::to_string(i) + "\""), std::string::npos);
    // Every request arrived over this very connection.
    EXPECT_NE(r.body.find("\"remote\":\"" + remote + "\""), std::string::npos) << r.body;
  }
  const HttpResult posted = c.request("POST", "/l3af/configs/v2/add", "abc");
  EXPECT_EQ(posted.status, 200);
  EXPECT_EQ(posted.body, "abc");
}

TEST_F(ServerTest, PipelinedRequestsAreAnsweredInOrder) {
  RawSocket s(kHost, port());
  ASSERT_TRUE(s.connected());
  ASSERT_TRUE(
      s.send("GET /l3af/configs/v1/first HTTP/1.1\r\nHost: x\r\n\r\n"
             "POST /l3af/configs/v1/add HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc"
             "GET /l3af/configs/v1/third HTTP/1.1\r\nHost: x\r\n\r\n"));
  HttpResult r = s.read_response();
  EXPECT_EQ(r.status, 200) << r.error;
  EXPECT_NE(r.body.find("first"), std::string::npos);
  r = s.read_response();
  EXPECT_EQ(r.status, 200) << r.error;
  EXPECT_EQ(r.body, "abc");
  r = s.read_response();
  EXPECT_EQ(r.status, 200) << r.error;
  EXPECT_NE(r.body.find("third"), std::string::npos);
}

TEST_F(ServerTest, HeadAnswerHasLengthButNoBody) {
  HttpConnection c(kHost, port());
  HttpResult r = c.request("HEAD", "/l3af/configs/v1");
  ASSERT_TRUE(r.error.empty()) << r.error;
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.header("Content-Length"), "10");
  EXPECT_TRUE(r.body.empty());
  // Had the body been sent, it would be read as the start of this answer.
  r = c.request("GET", "/l3af/configs/v1/eth0");
  EXPECT_EQ(r.status, 200) << r.error;
}

TEST_F(ServerTest, DeclaredBodyAboveLimitIs413WithoutCallingTheHandler) {
  RawSocket s(kHost, port());
  ASSERT_TRUE(s.connected());
  ASSERT_TRUE(
      s.send("POST /l3af/configs/v1/add HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n\r\n"));
  const HttpResult r = s.read_response();
  ASSERT_TRUE(r.error.empty()) << r.error;
  EXPECT_EQ(r.status, 413);
  EXPECT_EQ(r.header("Content-Type"), "application/json");
  EXPECT_EQ(r.body,
            "{\"code\":\"payload_too_large\",\"message\":\"request body exceeds 1024 bytes\","
            "\"errors\":[]}");
  expect_framing(r);
  EXPECT_TRUE(s.wait_closed());
  EXPECT_EQ(handlers_.bodies.load(), 0);
}

TEST_F(ServerTest, BodyAtTheLimitIsAccepted) {
  const std::string body(1024, 'b');
  const HttpResult r = test::request(kHost, port(), "POST", "/l3af/configs/v1/add", body);
  EXPECT_EQ(r.status, 200) << r.error;
  EXPECT_EQ(r.body, body);
}

TEST_F(ServerTest, ChunkedBodyIsReassembled) {
  RawSocket s(kHost, port());
  ASSERT_TRUE(
      s.send("POST /l3af/configs/v1/add HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
             "3\r\nabc\r\n4\r\ndefg\r\n0\r\n\r\n"));
  const HttpResult r = s.read_response();
  EXPECT_EQ(r.status, 200) << r.error;
  EXPECT_EQ(r.body, "abcdefg");
}

TEST_F(ServerTest, ChunkedBodyAboveLimitIs413) {
  RawSocket s(kHost, port());
  ASSERT_TRUE(s.send(
      "POST /l3af/configs/v1/add HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"));
  const std::string chunk = "200\r\n" + std::string(0x200, 'c') + "\r\n";  // 512 bytes each
  for (int i = 0; i < 4; ++i) {
    if (!s.send(chunk)) break;  // the server may already have answered and closed
  }
  s.send("0\r\n\r\n");
  const HttpResult r = s.read_response();
  ASSERT_TRUE(r.error.empty()) << r.error;
  EXPECT_EQ(r.status, 413);
  EXPECT_NE(r.body.find("\"code\":\"payload_too_large\""), std::string::npos);
  EXPECT_TRUE(s.wait_closed());
  EXPECT_EQ(handlers_.bodies.load(), 0);
}

TEST_F(ServerTest, HeaderAboveLimitIsRejectedAndClosed) {
  RawSocket s(kHost, port());
  ASSERT_TRUE(s.send("GET /l3af/configs/v1/eth0 HTTP/1.1\r\nHost: x\r\nX-Big: " +
                     std::string(2000, 'h') + "\r\n\r\n"));
  const HttpResult r = s.read_response();
  ASSERT_TRUE(r.error.empty()) << r.error;
  EXPECT_EQ(r.status, 431);
  EXPECT_NE(r.body.find("\"code\":\"header_too_large\""), std::string::npos) << r.body;
  expect_framing(r);
  EXPECT_TRUE(s.wait_closed());
  EXPECT_EQ(handlers_.calls.load(), 0);
}

TEST_F(ServerTest, MalformedRequestsAre400AndClosed) {
  const std::vector<std::string> bad = {
      "GARBAGE\r\n\r\n",
      "GET /l3af/configs/v1/eth0 HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n",
      "GET /l3af/configs/v1/eth0 HTTP/1.1\r\nno colon here\r\n\r\n",
      "GET /l3af/configs/v1/eth0 HTTP/1.1\r\n\r\n",  // HTTP/1.1 without Host
      "GET /l3af/configs/v1/%zz HTTP/1.1\r\nHost: x\r\n\r\n",
  };
  for (const std::string& bytes : bad) {
    RawSocket s(kHost, port());
    ASSERT_TRUE(s.send(bytes));
    const HttpResult r = s.read_response();
    ASSERT_TRUE(r.error.empty()) << r.error << " for " << bytes;
    EXPECT_EQ(r.status, 400) << bytes;
    EXPECT_EQ(r.header("Content-Type"), "application/json");
    EXPECT_NE(r.body.find("\"code\":\"bad_request\""), std::string::npos) << r.body;
    expect_framing(r);
  }
  EXPECT_EQ(handlers_.calls.load(), 0);
  // The server is still serving.
  EXPECT_EQ(test::request(kHost, port(), "GET", "/l3af/configs/v1/eth0").status, 200);
}

TEST_F(ServerTest, UnsupportedHttpVersionIs505) {
  RawSocket s(kHost, port());
  ASSERT_TRUE(s.send("GET /l3af/configs/v1/eth0 HTTP/2.0\r\nHost: x\r\n\r\n"));
  const HttpResult r = s.read_response();
  ASSERT_TRUE(r.error.empty()) << r.error;
  EXPECT_EQ(r.status, 505) << r.body;
  EXPECT_NE(r.body.find("\"code\":\"http_version_not_supported\""), std::string::npos);
  EXPECT_EQ(handlers_.calls.load(), 0);
}

TEST_F(ServerTest, HandlerExceptionIs500AndTheConnectionKeepsWorking) {
  HttpConnection c(kHost, port());
  HttpResult r = c.request("GET", "/boom");
  ASSERT_TRUE(r.error.empty()) << r.error;
  EXPECT_EQ(r.status, 500);
  EXPECT_EQ(r.header("Content-Type"), "application/json");
  EXPECT_NE(r.body.find("\"code\":\"internal\""), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("kaputt"), std::string::npos) << r.body;
  expect_framing(r);
  r = c.request("GET", "/l3af/configs/v1/eth0");
  EXPECT_EQ(r.status, 200) << r.error;
  EXPECT_EQ(test::request(kHost, port(), "GET", "/l3af/configs/v1/eth1").status, 200);
}

TEST_F(ServerTest, InvalidStatusFromHandlerIs500) {
  EXPECT_EQ(test::request(kHost, port(), "GET", "/status/42").status, 500);
  EXPECT_EQ(test::request(kHost, port(), "GET", "/status/1000").status, 500);
  const HttpResult r = test::request(kHost, port(), "GET", "/status/418");
  EXPECT_EQ(r.status, 418);
  EXPECT_EQ(r.header("Content-Type"), "text/plain");
  expect_framing(r);
}

TEST_F(ServerTest, ExpectContinueGetsInterimAnswer) {
  RawSocket s(kHost, port());
  ASSERT_TRUE(
      s.send("POST /l3af/configs/v1/add HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
             "Expect: 100-continue\r\n\r\n"));
  HttpResult r = s.read_response();
  ASSERT_TRUE(r.error.empty()) << r.error;
  EXPECT_EQ(r.status, 100);
  ASSERT_TRUE(s.send("hello"));
  r = s.read_response();
  EXPECT_EQ(r.status, 200) << r.error;
  EXPECT_EQ(r.body, "hello");
}

TEST_F(ServerTest, Http10WithoutKeepAliveIsClosedAfterTheAnswer) {
  RawSocket s(kHost, port());
  ASSERT_TRUE(s.send("GET /l3af/configs/v1/eth0 HTTP/1.0\r\n\r\n"));
  const HttpResult r = s.read_response();
  EXPECT_EQ(r.status, 200) << r.error;
  EXPECT_TRUE(s.wait_closed());
}

TEST_F(ServerTest, ConcurrentClientsAreAllAnswered) {
  constexpr int kThreads = 8;
  constexpr int kRequests = 50;
  std::atomic<int> good{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      // Even threads reuse one connection, odd threads open one per request.
      HttpConnection c(kHost, port());
      for (int i = 0; i < kRequests; ++i) {
        const std::string iface = "t" + std::to_string(t) + "r" + std::to_string(i);
        const HttpResult r = t % 2 == 0
                                 ? c.request("GET", "/l3af/configs/v1/" + iface)
                                 : test::request(kHost, port(), "GET", "/l3af/configs/v1/" + iface);
        if (r.status == 200 && r.body.find("\"iface\":\"" + iface + "\"") != std::string::npos) {
          ++good;
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(good.load(), kThreads * kRequests);
  EXPECT_EQ(handlers_.calls.load(), kThreads * kRequests);
}

TEST_F(ServerTest, LogsOneLinePerRequestWithItsId) {
  testing::CapturedLog captured(log::Format::Console, spdlog::level::debug);
  HttpConnection c(kHost, port());
  const HttpResult r = c.request("GET", "/l3af/configs/v1/eth%30?x=1");
  const HttpResult missing = c.request("GET", "/missing", {}, {{"X-Request-Id", "miss-1"}});
  const HttpResult boom = c.request("GET", "/boom");
  ASSERT_EQ(r.status, 200);
  ASSERT_EQ(missing.status, 404);
  ASSERT_EQ(boom.status, 500);
  const std::string remote = "remote=127.0.0.1:" + std::to_string(c.local_port());
  const std::vector<std::string> lines = captured.lines();
  ASSERT_EQ(lines.size(), 3u) << captured.text();
  // The raw path (escapes kept, no query), the status, the remote, then the id.
  EXPECT_NE(lines[0].find(" debug test: request method=GET path=/l3af/configs/v1/eth%30 "
                          "status=200 duration_ms="),
            std::string::npos)
      << lines[0];
  EXPECT_NE(lines[0].find(remote + " req=" + r.header("X-Request-Id")), std::string::npos)
      << lines[0];
  EXPECT_NE(lines[1].find(" debug test: request method=GET path=/missing status=404 "),
            std::string::npos)
      << lines[1];
  EXPECT_NE(lines[1].find(remote + " req=miss-1"), std::string::npos) << lines[1];
  // 5xx: warn, with the cause.
  EXPECT_NE(lines[2].find(" warning test: request method=GET path=/boom status=500 "),
            std::string::npos)
      << lines[2];
  EXPECT_NE(lines[2].find(remote + ": handler threw: kaputt req=" + boom.header("X-Request-Id")),
            std::string::npos)
      << lines[2];
}

TEST_F(ServerTest, StopWithOpenConnectionsReturnsAndClosesThem) {
  RawSocket stalled(kHost, port());
  ASSERT_TRUE(stalled.send("GET /l3af/configs/v1/eth0 HTTP/1.1\r\nHost: x\r\n"));
  HttpConnection idle(kHost, port());
  ASSERT_EQ(idle.request("GET", "/l3af/configs/v1/eth0").status, 200);
  const uint16_t p = port();
  server_->stop();
  EXPECT_TRUE(stalled.wait_closed());
  EXPECT_NE(idle.request("GET", "/l3af/configs/v1/eth0").status, 200);
  RawSocket after(kHost, p);
  EXPECT_FALSE(after.connected());
  server_->stop();  // idempotent
  server_.reset();  // and the destructor after stop() is fine
}

class ShortTimeoutTest : public ServerTest {
 protected:
  void SetUp() override {
    ServerOptions o = small_options();
    o.read_timeout = std::chrono::milliseconds(200);
    o.idle_timeout = std::chrono::milliseconds(200);
    start(o);
  }
};

TEST_F(ShortTimeoutTest, StalledHeaderIsCutOff) {
  RawSocket s(kHost, port());
  ASSERT_TRUE(s.send("GET /l3af/configs/v1/eth0 HTTP/1.1\r\nHost: x\r\n"));
  std::string received;
  EXPECT_TRUE(s.wait_closed(&received));
  // Closed without an answer, or with a 408; never served.
  EXPECT_TRUE(received.empty() || received.rfind("HTTP/1.1 408", 0) == 0) << received;
  EXPECT_EQ(handlers_.calls.load(), 0);
}

TEST_F(ShortTimeoutTest, StalledBodyIsCutOff) {
  RawSocket s(kHost, port());
  ASSERT_TRUE(
      s.send("POST /l3af/configs/v1/add HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nabc"));
  EXPECT_TRUE(s.wait_closed());
  EXPECT_EQ(handlers_.bodies.load(), 0);
}

TEST_F(ShortTimeoutTest, SilentAndIdleConnectionsAreClosed) {
  RawSocket silent(kHost, port());
  ASSERT_TRUE(silent.connected());
  EXPECT_TRUE(silent.wait_closed());

  RawSocket idle(kHost, port());
  ASSERT_TRUE(idle.send("GET /l3af/configs/v1/eth0 HTTP/1.1\r\nHost: x\r\n\r\n"));
  EXPECT_EQ(idle.read_response().status, 200);
  EXPECT_TRUE(idle.wait_closed());
}

TEST(ServerStart, AdoptsAnInheritedListeningSocket) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa), 0);
  ASSERT_EQ(::listen(fd, 16), 0);
  socklen_t len = sizeof sa;
  ASSERT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&sa), &len), 0);

  Handlers h;
  ServerOptions o = small_options();
  o.address = "bogus";  // ignored when a socket is given
  o.listen_fd = fd;
  auto s = Server::start(o, h.router());
  ASSERT_TRUE(s.has_value()) << s.error().to_string();
  EXPECT_EQ((*s)->listen_fd(), fd);
  EXPECT_EQ((*s)->port(), ntohs(sa.sin_port));
  EXPECT_EQ(test::request(kHost, (*s)->port(), "GET", "/l3af/configs/v1/eth0").status, 200);
  (*s)->stop();
  // The server owned the socket and closed it.
  EXPECT_EQ(::fcntl(fd, F_GETFD), -1);
}

TEST(ServerStart, BoundButNotListeningSocketIsPutIntoListen) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa), 0);
  Handlers h;
  ServerOptions o = small_options();
  o.listen_fd = fd;
  auto s = Server::start(o, h.router());
  ASSERT_TRUE(s.has_value()) << s.error().to_string();
  EXPECT_EQ(test::request(kHost, (*s)->port(), "GET", "/l3af/configs/v1/eth0").status, 200);
}

TEST(ServerStart, RejectsNonSocketFdAndLeavesItOpen) {
  int pipe_fds[2];
  ASSERT_EQ(::pipe(pipe_fds), 0);
  Handlers h;
  ServerOptions o = small_options();
  o.listen_fd = pipe_fds[0];
  auto s = Server::start(o, h.router());
  ASSERT_FALSE(s.has_value());
  EXPECT_EQ(s.error().code, Errc::Io);
  EXPECT_NE(::fcntl(pipe_fds[0], F_GETFD), -1);
  ::close(pipe_fds[0]);
  ::close(pipe_fds[1]);
}

TEST(ServerStart, LocalhostBindsLoopbackAndPortZeroPicksAPort) {
  Handlers h;
  ServerOptions o = small_options();
  o.address = "localhost:0";
  auto s = Server::start(o, h.router());
  ASSERT_TRUE(s.has_value()) << s.error().to_string();
  EXPECT_NE((*s)->port(), 0);
  EXPECT_EQ(test::request(kHost, (*s)->port(), "GET", "/l3af/configs/v1/eth0").status, 200);
}

TEST(ServerStart, BadAddressesAndBusyPortsAreErrors) {
  Handlers h;
  for (const char* address :
       {"", "nohost", "127.0.0.1:", "127.0.0.1:65536", "127.0.0.1:x", "::1:80", "[::1"}) {
    ServerOptions o = small_options();
    o.address = address;
    auto s = Server::start(o, h.router());
    ASSERT_FALSE(s.has_value()) << address;
    EXPECT_EQ(s.error().code, Errc::InvalidPayload) << address;
    EXPECT_NE(s.error().message.find(address), std::string::npos) << s.error().message;
  }
  auto first = Server::start(small_options(), h.router());
  ASSERT_TRUE(first.has_value());
  ServerOptions o = small_options();
  o.address = "127.0.0.1:" + std::to_string((*first)->port());
  auto second = Server::start(o, h.router());
  ASSERT_FALSE(second.has_value());
  EXPECT_EQ(second.error().code, Errc::Io);
  EXPECT_EQ(second.error().sys_errno, EADDRINUSE);
}

}  // namespace
}  // namespace l3afd::api::http
