// BPF run statistics through the real daemon (issue 10): PUT/GET /l3af/configs/v1/bpf-stats
// switch them on for a while and report who holds them; the hold is the daemon's fd (seen in
// /proc/<pid>/fd as anon_inode:bpf-stats) and really makes the kernel count the runs of a
// deployed program; bad bodies are 400 naming the field; the timed hold ends by itself; and
// [l3afd] bpf-stats-enabled: true holds them for the daemon's lifetime. Expectations about
// the machine-global switch are chosen from what /proc shows, never skipped.
#include <bpf/bpf.h>
#include <gtest/gtest.h>
#include <linux/bpf.h>

#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "core/unique_fd.h"
#include "e2e/daemon/daemon_fixture.h"
#include "json/parse.h"
#include "support/bpf_stats.h"

namespace l3afd::e2e {
namespace {

const std::string kPath = "/l3af/configs/v1/bpf-stats";

class BpfStats : public DaemonFixture {
 protected:
  /// What GET answers when no hold of the daemon's is active.
  static std::string idle_body() {
    return testing::bpf_stats_sysctl_on() ? R"({"enabled":true,"until":null,"source":"sysctl"})"
                                          : R"({"enabled":false,"until":null,"source":null})";
  }
  /// run_cnt of program `id` after `repeat` runs of one BPF_PROG_TEST_RUN.
  static uint64_t run_and_count(uint32_t id, uint32_t repeat) {
    UniqueFd fd(bpf_prog_get_fd_by_id(id));
    EXPECT_TRUE(fd) << errno;
    std::vector<uint8_t> frame(64, 0);
    bpf_test_run_opts opts{};
    opts.sz = sizeof opts;
    opts.data_in = frame.data();
    opts.data_size_in = static_cast<uint32_t>(frame.size());
    opts.repeat = static_cast<int>(repeat);
    EXPECT_EQ(bpf_prog_test_run_opts(fd.get(), &opts), 0) << errno;
    bpf_prog_info info{};
    uint32_t len = sizeof info;
    EXPECT_EQ(bpf_obj_get_info_by_fd(fd.get(), &info, &len), 0) << errno;
    return info.run_cnt;
  }
  /// Polls `pred` every 50 ms; a generous bound only so that a broken daemon ends the test.
  static bool eventually(const std::function<bool()>& pred) {
    for (int i = 0; i < 400; ++i) {
      if (pred()) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return pred();
  }
  /// The field of the first error item of a 400 answer ("" when the item names none).
  static std::string field_of(const test::HttpResult& r) {
    auto doc = json::parse(r.body);
    if (!doc || doc->kind != json::Node::Kind::Map) return "<not an object>";
    for (const auto& m : doc->members) {
      if (m.key != "errors" || m.value.elements.empty()) continue;
      for (const auto& f : m.value.elements[0].members) {
        if (f.key == "field") return f.value.text;
      }
      return "";
    }
    return "<no error item>";
  }
};

TEST_F(BpfStats, PutHoldsThemForAWhileAndTheKernelCountsTheRuns) {
  testing::VethPair v;
  ASSERT_EQ(v.error(), "");
  ASSERT_TRUE(start_daemon());
  const std::string ifc = v.root_name();
  ASSERT_EQ(add({entry(ifc, xdp_counter())}).status, 200);
  const auto listing = bpfs(ifc);
  ASSERT_EQ(listing.size(), 1u);
  const uint32_t prog = listing[0].prog_id;

  auto idle = api("GET", kPath);
  ASSERT_EQ(idle.status, 200) << idle.body;
  EXPECT_EQ(idle.body, idle_body());
  EXPECT_EQ(testing::bpf_stats_fds(daemon_.pid()), 0) << "off by default";

  auto on = api("PUT", kPath, R"({"enabled": true, "seconds": 600})");
  ASSERT_EQ(on.status, 200) << on.body;
  EXPECT_TRUE(std::regex_match(
      on.body,
      std::regex(R"(\{"enabled":true,"until":"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ","source":"api"\})")))
      << on.body;
  EXPECT_EQ(api("GET", kPath).body, on.body);
  EXPECT_EQ(testing::bpf_stats_fds(daemon_.pid()), 1);
  const uint64_t before = run_and_count(prog, 0);
  EXPECT_EQ(run_and_count(prog, 100), before + 100) << "the daemon's hold makes the kernel count";

  // A second PUT moves the deadline and keeps one hold.
  ASSERT_EQ(api("PUT", kPath, R"({"enabled": true})").status, 200);
  EXPECT_EQ(testing::bpf_stats_fds(daemon_.pid()), 1);

  auto off = api("PUT", kPath, R"({"enabled": false})");
  ASSERT_EQ(off.status, 200) << off.body;
  EXPECT_EQ(off.body, idle_body());
  EXPECT_EQ(testing::bpf_stats_fds(daemon_.pid()), 0);
  const bool elsewhere_before = testing::bpf_stats_on_anywhere();
  const uint64_t stopped = run_and_count(prog, 0);
  const uint64_t later = run_and_count(prog, 100);
  if (!elsewhere_before && !testing::bpf_stats_on_anywhere()) {
    EXPECT_EQ(later, stopped) << "off machine-wide: nothing counted";
  } else {
    EXPECT_LE(later, stopped + 100) << "someone else holds them on";
  }
}

TEST_F(BpfStats, BadBodiesAre400NamingTheField) {
  ASSERT_TRUE(start_daemon());
  const std::vector<std::pair<std::string, std::string>> cases = {
      {R"({"enabled": "yes"})", "/enabled"},
      {R"({"seconds": 60})", "/enabled"},
      {R"({"enabled": true, "seconds": 0})", "/seconds"},
      {R"({"enabled": true, "seconds": 3601})", "/seconds"},
      {R"({"enabled": true, "seconds": 1.5})", "/seconds"},
      {R"({"enabled": true, "seconds": "60"})", "/seconds"},
      {R"({"enabled": false, "seconds": 60})", "/seconds"},
      {R"({"enabled": true, "second": 60})", "/second"},
      {R"([true])", ""},
  };
  for (const auto& [body, field] : cases) {
    auto r = api("PUT", kPath, body);
    EXPECT_EQ(r.status, 400) << body;
    EXPECT_NE(r.body.find(R"("code":"invalid_payload")"), std::string::npos) << r.body;
    EXPECT_EQ(field_of(r), field) << body << " -> " << r.body;
  }
  auto not_json = api("PUT", kPath, "{enabled");
  EXPECT_EQ(not_json.status, 400);
  EXPECT_NE(not_json.body.find(R"("code":"invalid_json")"), std::string::npos) << not_json.body;
  EXPECT_EQ(testing::bpf_stats_fds(daemon_.pid()), 0) << "no bad request took a hold";
  EXPECT_EQ(api("GET", kPath).body, idle_body());
}

TEST_F(BpfStats, TheTimedHoldEndsByItself) {
  ASSERT_TRUE(start_daemon());
  ASSERT_EQ(api("PUT", kPath, R"({"enabled": true, "seconds": 1})").status, 200);
  EXPECT_TRUE(eventually([&] { return testing::bpf_stats_fds(daemon_.pid()) == 0; }));
  EXPECT_EQ(api("GET", kPath).body, idle_body());
  EXPECT_NE(daemon_log().find("the timed hold (PUT bpf-stats) ended"), std::string::npos);
}

TEST_F(BpfStats, ConfigHoldsThemForTheDaemonsLifetime) {
  DaemonOptions o;
  o.bpf_stats_enabled = true;
  ASSERT_TRUE(start_daemon(o));
  EXPECT_EQ(api("GET", kPath).body, R"({"enabled":true,"until":null,"source":"config"})");
  EXPECT_EQ(testing::bpf_stats_fds(daemon_.pid()), 1);
  // PUT false gives back only the api hold; the config one stays.
  auto off = api("PUT", kPath, R"({"enabled": false})");
  EXPECT_EQ(off.body, R"({"enabled":true,"until":null,"source":"config"})");
  EXPECT_EQ(testing::bpf_stats_fds(daemon_.pid()), 1);
}

}  // namespace
}  // namespace l3afd::e2e
