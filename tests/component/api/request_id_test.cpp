// The API listener, the routes and the engine thread on fakes, over a real socket on
// 127.0.0.1: a write request's id reaches every line logged for it, on the io thread and on
// the engine thread, and no other request's lines.
#include <gtest/gtest.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "component/api/api_harness.h"
#include "core/log.h"
#include "engine/engine.h"
#include "kernel/fake/fake_kernel.h"
#include "model/l3af_json.h"
#include "support/http_client.h"
#include "support/log_capture.h"
#include "support/memory_store.h"

namespace l3afd {
namespace {

/// One add request body for `iface` with a single XDP program `name`.
std::string add_body(const std::string& iface, const std::string& name) {
  return model::encode(std::vector<model::L3afBpfPrograms>{testing::counter_entry(iface, name)});
}

/// Engine (started, on its own thread) on fakes behind the API listener, with every log line
/// captured through the daemon's console format at debug level.
class RequestIdTest : public ::testing::Test, protected testing::ApiHarness {
 protected:
  void SetUp() override {
    api::http::ServerOptions o;
    o.name = "api";
    o.request_log_level = spdlog::level::info;
    ASSERT_EQ(start(std::move(o)), "");

    captured_ = std::make_unique<testing::CapturedLog>(log::Format::Console, spdlog::level::debug);
  }

  void TearDown() override {
    captured_.reset();
    stop();
  }

  /// The captured lines so far.
  std::vector<std::string> lines() { return captured_->lines(); }

  test::HttpResult add(const std::string& iface, const std::string& name,
                       const test::Headers& headers = {}) {
    return test::request("127.0.0.1", server_->port(), "POST", "/l3af/configs/v1/add",
                         add_body(iface, name), headers);
  }

  std::unique_ptr<testing::CapturedLog> captured_;
};

bool contains(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}
bool ends_with(const std::string& s, const std::string& tail) {
  return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

TEST_F(RequestIdTest, EveryLineOfAWriteRequestCarriesItsIdFromTheEdgeToTheEngineThread) {
  const auto r = add("eth0", "alpha", {{"X-Request-Id", "client-req-1"}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.header("X-Request-Id"), "client-req-1");

  const auto all = lines();
  ASSERT_FALSE(all.empty());
  bool plan = false;
  bool step = false;
  bool edge = false;
  for (const auto& line : all) {
    // Nothing else ran meanwhile, so every line belongs to this request.
    EXPECT_TRUE(ends_with(line, " req=client-req-1")) << line;
    plan = plan || contains(line, "applying plan");
    step = step || contains(line, " debug step ");
    edge = edge || contains(line,
                            " info  api: request method=POST path=/l3af/configs/v1/add "
                            "status=200 duration_ms=");
  }
  EXPECT_TRUE(plan) << captured_->text();  // engine thread
  EXPECT_TRUE(step) << captured_->text();  // plan runner, engine thread
  EXPECT_TRUE(edge) << captured_->text();  // io thread, after the engine answered
}

TEST_F(RequestIdTest, ConsecutiveRequestsKeepTheirOwnIdsAndAGeneratedIdIsLoggedToo) {
  const auto first = add("eth0", "alpha", {{"X-Request-Id", "first"}});
  ASSERT_EQ(first.status, 200) << first.body;
  const auto second = add("eth1", "beta");  // no id: the server makes one
  ASSERT_EQ(second.status, 200) << second.body;
  const std::string generated = second.header("X-Request-Id");
  ASSERT_EQ(generated.size(), 16u) << generated;
  ASSERT_NE(generated, "first");

  int first_plans = 0;
  int second_plans = 0;
  for (const auto& line : lines()) {
    if (!contains(line, "applying plan")) continue;
    if (ends_with(line, " req=first")) ++first_plans;
    if (ends_with(line, " req=" + generated)) ++second_plans;
  }
  EXPECT_EQ(first_plans, 1) << captured_->text();
  EXPECT_EQ(second_plans, 1) << captured_->text();
}

TEST_F(RequestIdTest, AFailedRequestLogsOneEdgeLineWithTheErrorAndTheId) {
  const auto r = add("eth9", "alpha", {{"X-Request-Id", "bad-iface"}});
  ASSERT_EQ(r.status, 400) << r.body;
  EXPECT_EQ(r.header("X-Request-Id"), "bad-iface");
  int edge = 0;
  for (const auto& line : lines()) {
    if (!contains(line, "api: request ")) continue;
    ++edge;
    EXPECT_TRUE(contains(line, "status=400")) << line;
    EXPECT_TRUE(contains(line, "eth9")) << line;  // the error text, after ": "
    EXPECT_TRUE(ends_with(line, " req=bad-iface")) << line;
  }
  EXPECT_EQ(edge, 1) << captured_->text();
}

}  // namespace
}  // namespace l3afd
