// PUT /l3af/configs/{version}/restart and the read-only mode over real HTTP, with the real engine
// on the fake kernel and a RestartService the test controls (the daemon's implementation and
// the real handover are proven in tests/e2e/daemon/restart_test.cpp).
#include <gtest/gtest.h>

#include <chrono>
#include <future>
#include <thread>

#include "api/restart_routes.h"
#include "api/write_gate.h"
#include "component/api/api_harness.h"
#include "model/l3af_json.h"
#include "support/http_client.h"

namespace l3afd::testing {
namespace {

/// Holds the write gate like the daemon's restart does, until the test releases it.
class HeldRestart final : public api::RestartService {
 public:
  explicit HeldRestart(api::WriteGate& gate) : gate_(gate) {}
  Status restart(const api::RestartRequest& req, const std::string&) override {
    ++calls;
    last_version = req.version;
    if (!gate_.close()) return fail(Errc::RestartInProgress, "a restart is in progress");
    entered.set_value();
    const Status outcome = release.get_future().get();
    if (!outcome) gate_.open();
    return outcome;
  }
  std::promise<void> entered;
  std::promise<Status> release;
  std::atomic<int> calls{0};
  std::string last_version;

 private:
  api::WriteGate& gate_;
};

class RestartRoute : public ::testing::Test, public ApiHarness {
 protected:
  void SetUp() override {
    extend_ = [this](api::http::Router& r) {
      api::add_restart_route(r, service_, kApiHost, ready_);
    };
    ASSERT_EQ(start({}), "");
  }
  void TearDown() override { stop(); }
  test::HttpResult call(const std::string& method, const std::string& target,
                        const std::string& body = {}) {
    return test::request("127.0.0.1", server_->port(), method, target, body);
  }
  test::HttpResult put_restart(const std::string& host, const std::string& version) {
    return call("PUT", "/l3af/configs/v1/restart",
                "{\"hostname\": \"" + host + "\", \"version\": \"" + version + "\"}");
  }

  HeldRestart service_{gate_};
};

TEST_F(RestartRoute, WritesAreRefusedWhileARestartRunsAndAcceptedAfterItsRollback) {
  auto restart = std::async(std::launch::async, [this] { return put_restart(kApiHost, "v1.2.3"); });
  ASSERT_EQ(service_.entered.get_future().wait_for(std::chrono::seconds(30)),
            std::future_status::ready);

  const std::string payload = model::encode(std::vector{counter_entry("eth0", "counter")});
  auto w = call("POST", "/l3af/configs/v1/add", payload);
  EXPECT_EQ(w.status, 503) << w.body;
  EXPECT_NE(w.body.find("\"code\":\"restart_in_progress\""), std::string::npos) << w.body;
  EXPECT_EQ(w.header("Retry-After"), "1");
  EXPECT_TRUE(engine_->snapshot()->state.ifaces.empty()) << "the refused write changed nothing";
  EXPECT_EQ(call("GET", "/l3af/configs/v1").status, 200) << "reads are served";
  auto second = put_restart(kApiHost, "v1.2.3");
  EXPECT_EQ(second.status, 409) << second.body;
  EXPECT_NE(second.body.find("restart_in_progress"), std::string::npos) << second.body;
  EXPECT_EQ(second.header("Retry-After"), "");

  service_.release.set_value(fail(Errc::RestartFailed, "the new process exited"));
  auto r = restart.get();
  EXPECT_EQ(r.status, 500) << r.body;
  EXPECT_NE(r.body.find("\"code\":\"restart_failed\""), std::string::npos) << r.body;
  EXPECT_EQ(call("POST", "/l3af/configs/v1/add", payload).status, 200) << "writable again";
  EXPECT_TRUE(engine_->snapshot()->state.ifaces.contains("eth0"));
}

TEST_F(RestartRoute, SuccessIsAnEmpty200AndBadRequestsNeverReachTheService) {
  auto r = put_restart("otherhost", "v1.2.3");
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_NE(r.body.find("wrong_host"), std::string::npos) << r.body;
  r = call("PUT", "/l3af/configs/v1/restart", "[]");
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_NE(r.body.find("invalid_json"), std::string::npos) << r.body;
  r = call("PUT", "/l3af/configs/v1/restart", "{\"hostname\": 7}");
  EXPECT_EQ(r.status, 400) << r.body;
  ready_ = false;
  r = put_restart(kApiHost, "v1.2.3");
  EXPECT_EQ(r.status, 503) << r.body;
  EXPECT_NE(r.body.find("not_ready"), std::string::npos) << r.body;
  ready_ = true;
  EXPECT_EQ(service_.calls.load(), 0);

  service_.release.set_value(ok());
  r = put_restart(kApiHost, "v1.2.3");
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.body, "");
  EXPECT_EQ(service_.last_version, "v1.2.3");
}

TEST(WriteGate, CloseWaitsForTheWritesInsideAndRefusesNewOnes) {
  api::WriteGate gate;
  auto pass = gate.enter();
  ASSERT_TRUE(pass.has_value());
  std::atomic<bool> closed{false};
  std::thread closer([&] {
    EXPECT_TRUE(gate.close());
    closed = true;
  });
  // close() cannot return while a pass is held (bounded wait for the thread to get there).
  for (int i = 0; i < 100 && !gate.is_closed(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_TRUE(gate.is_closed());
  EXPECT_FALSE(gate.enter().has_value()) << "no new write once closing began";
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_FALSE(closed.load()) << "the write inside is waited for";
  pass.reset();
  closer.join();
  EXPECT_TRUE(closed.load());
  EXPECT_FALSE(gate.close()) << "a second close is refused (another restart holds it)";
  gate.open();
  EXPECT_TRUE(gate.enter().has_value());
}

}  // namespace
}  // namespace l3afd::testing
