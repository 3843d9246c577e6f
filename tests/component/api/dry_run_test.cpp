// POST .../add?dry_run=1 over real sockets: the answer is the plan, and nothing happened — the
// engine's applied state, the store and the fake kernel are as before; the same request
// without dry_run then applies. Errors of a dry run are those of a real request.
#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <string>

#include "component/api/api_harness.h"
#include "model/l3af_json.h"
#include "support/http_client.h"

namespace l3afd {
namespace {

constexpr const char* kLocal = "127.0.0.1";

model::L3afBpfPrograms entry(const std::string& iface, const std::string& name) {
  return testing::counter_entry(iface, name);
}

class DryRunTest : public ::testing::Test, protected testing::ApiHarness {
 protected:
  void SetUp() override {
    api::http::ServerOptions o;
    o.name = "test";
    ASSERT_EQ(start(std::move(o)), "");
  }
  void TearDown() override { stop(); }
  test::HttpResult post(const std::string& target, const std::string& body) {
    return test::request(kLocal, server_->port(), "POST", target, body);
  }
};

TEST_F(DryRunTest, DryRunAddReturnsThePlanAndChangesNothingThenTheRealAddApplies) {
  const std::string body = model::encode(std::vector<model::L3afBpfPrograms>{entry("eth0", "fw")});
  const auto kernel_before = kernel_.model();
  const auto state_before = engine_->snapshot()->state;

  auto r = post("/l3af/configs/v1/add?dry_run=1", body);
  ASSERT_TRUE(r.error.empty()) << r.error;
  EXPECT_EQ(r.status, 200);
  EXPECT_NE(r.body.find("\"dry_run\": true"), std::string::npos) << r.body;
  const std::vector<std::string> in_order{
      R"("label":"fetch package fw@1.0","action":"fetch")",
      R"("label":"load fw on eth0 xdpingress","action":"load")",
      R"("label":"seed fw on eth0 xdpingress","action":"seed")",
      R"("label":"attach fw on eth0 xdpingress","action":"attach")",
      R"("label":"commit state","action":"commit")"};
  std::size_t at = 0;
  for (const auto& s : in_order) {
    at = r.body.find(s, at);
    ASSERT_NE(at, std::string::npos) << s << " in\n" << r.body;
  }
  EXPECT_NE(r.body.find("\"release\": []"), std::string::npos) << r.body;

  EXPECT_EQ(engine_->snapshot()->state, state_before);
  EXPECT_EQ(kernel_.model(), kernel_before);
  EXPECT_EQ(store_.saves(), 0);
  EXPECT_TRUE(packages_.cache().empty());

  r = post("/l3af/configs/v1/add", body);
  EXPECT_EQ(r.status, 200);
  EXPECT_TRUE(r.body.empty());
  EXPECT_EQ(store_.saves(), 1);
  EXPECT_NE(kernel_.model(), kernel_before);
  ASSERT_EQ(engine_->snapshot()->state.ifaces.count("eth0"), 1u);

  // A dry run of the same add again: the plan is empty, still nothing happens.
  r = post("/l3af/configs/v1/add?x=1&dry_run=true", body);
  EXPECT_EQ(r.status, 200);
  EXPECT_NE(r.body.find("\"steps\": []"), std::string::npos) << r.body;
  EXPECT_EQ(store_.saves(), 1);
}

TEST_F(DryRunTest, DryRunErrorsAreThoseOfARealRequest) {
  auto bad = entry("eth0", "fw");
  bad.host_name = "elsewhere";
  auto r = post("/l3af/configs/v1/add?dry_run=1",
                model::encode(std::vector<model::L3afBpfPrograms>{bad}));
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.body.find("dry_run"), std::string::npos) << r.body;

  ASSERT_EQ(post("/l3af/configs/v1/add",
                 model::encode(std::vector<model::L3afBpfPrograms>{entry("eth0", "fw")}))
                .status,
            200);
  r = post("/l3af/configs/v1/add?dry_run=1",
           model::encode(std::vector<model::L3afBpfPrograms>{entry("eth0", "other")}));
  EXPECT_EQ(r.status, 409);
  EXPECT_EQ(store_.saves(), 1);
}

TEST_F(DryRunTest, DryRunDeleteListsTheDetachAndTheReleases) {
  ASSERT_EQ(post("/l3af/configs/v1/add",
                 model::encode(std::vector<model::L3afBpfPrograms>{entry("eth0", "fw")}))
                .status,
            200);
  const auto kernel_before = kernel_.model();
  auto r =
      post("/l3af/configs/v1/delete?dry_run=1",
           R"([{"host_name":"testhost","iface":"eth0","bpf_programs":{"xdp_ingress":["fw"]}}])");
  EXPECT_EQ(r.status, 200);
  EXPECT_NE(r.body.find(R"("label":"detach fw on eth0 xdpingress","action":"detach")"),
            std::string::npos)
      << r.body;
  EXPECT_NE(r.body.find(R"("action":"unload")"), std::string::npos) << r.body;
  EXPECT_EQ(kernel_.model(), kernel_before);
  EXPECT_EQ(store_.saves(), 1);
}

}  // namespace
}  // namespace l3afd
