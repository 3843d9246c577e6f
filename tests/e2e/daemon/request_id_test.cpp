// Request ids through the real daemon: every listener answers with X-Request-Id, and the log
// lines a write request causes (edge, engine, plan runner, kernel adapter) carry its id.
#include <gtest/gtest.h>

#include <sstream>
#include <string>
#include <vector>

#include "e2e/daemon/daemon_fixture.h"
#include "model/l3af_json.h"

namespace l3afd::e2e {
namespace {

class RequestIds : public DaemonFixture {};

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

bool contains(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

bool ends_with(const std::string& s, const std::string& tail) {
  return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

TEST_F(RequestIds, EveryListenerAnswersWithAnIdAndAWriteRequestsLinesCarryIt) {
  testing::VethPair v;
  ASSERT_EQ(v.error(), "");
  ASSERT_TRUE(start_daemon());
  const std::string ifc = v.root_name();

  const auto added =
      test::request("127.0.0.1", api_port_, "POST", "/l3af/configs/v1/add",
                    model::encode(std::vector<model::L3afBpfPrograms>{entry(ifc, xdp_counter())}),
                    {{"X-Request-Id", "e2e-add-1"}});
  ASSERT_EQ(added.status, 200) << added.body;
  EXPECT_EQ(added.header("X-Request-Id"), "e2e-add-1");

  // GETs on the three listeners get ids the daemon makes.
  const auto g = get(ifc);
  const auto m = test::request("127.0.0.1", metrics_port_, "GET", "/metrics");
  const auto d = test::request("127.0.0.1", debug_port_, "GET", "/bpfs/" + ifc);
  for (const auto* r : {&g, &m, &d}) {
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->header("X-Request-Id").size(), 16u) << r->header("X-Request-Id");
  }

  bool plan = false;
  bool load = false;
  bool attach = false;
  bool edge = false;
  bool ready_without_id = false;
  for (const auto& line : lines_of(daemon_log())) {
    if (ends_with(line, " ready")) ready_without_id = true;
    if (!ends_with(line, " req=e2e-add-1")) continue;
    plan = plan || contains(line, "applying plan");       // engine thread
    load = load || contains(line, "op=load key=");        // kernel adapter
    attach = attach || contains(line, "op=attach key=");  // kernel adapter
    edge = edge || contains(line,
                            " info  api: request method=POST path=/l3af/configs/v1/add "
                            "status=200 duration_ms=");  // io thread
  }
  const std::string log = daemon_log();
  EXPECT_TRUE(plan) << log;
  EXPECT_TRUE(load) << log;
  EXPECT_TRUE(attach) << log;
  EXPECT_TRUE(edge) << log;
  EXPECT_TRUE(ready_without_id) << log;  // start-up lines have no request
  // API requests are logged at info, the polled metrics and debug listeners at debug.
  EXPECT_TRUE(contains(log, " info  api: request method=GET path=/l3af/configs/v1/" + ifc +
                                " status=200 duration_ms=") &&
              contains(log, " req=" + g.header("X-Request-Id")))
      << log;
  EXPECT_FALSE(contains(log, "metrics: request ")) << log;

  ASSERT_EQ(remove({names(ifc, {"xdp-counter"})}).status, 200);
}

}  // namespace
}  // namespace l3afd::e2e
