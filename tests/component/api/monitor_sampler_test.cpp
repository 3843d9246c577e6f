// The monitor_maps sampler and the /metrics body on the real engine and the fake kernel:
// max-rate (baseline first, then the largest per-tick increase) and avg per tick through the
// snapshot's map readers, scalar read at render time through the same readers, a key range
// (key_end), a failed read counted and not published, series gone with the program.
#include "api/monitor_sampler.h"

#include <gtest/gtest.h>

#include "api/metrics_routes.h"
#include "component/engine/fakes.h"
#include "kernel/fake/fake_kernel.h"
#include "support/memory_store.h"

namespace l3afd {
namespace {

using engine::AddPrograms;
using engine::UpdatePrograms;

constexpr const char* kHost = "testhost";

model::BpfProgram counter(int64_t config_value) {
  model::BpfProgram p;
  p.name = "counter";
  p.seq_id = 1;
  p.artifact = "l3af_counter.tar.gz";
  p.version = "1.0";
  p.admin_status = "enabled";
  p.prog_type = "xdp";
  p.object_file = "counter.bpf.o";
  p.entry_function_name = "counter";
  p.map_args =
      std::vector<model::MapArg>{{"config", std::vector<model::KeyValue>{{1, config_value}}}};
  p.monitor_maps = std::vector<model::MonitorMap>{{"config", 1, "max-rate"},
                                                  {"config", 1, "avg"},
                                                  {"config", 1, "scalar"},
                                                  {"config", 7, "avg"}};  // never written
  return p;
}

model::L3afBpfPrograms entry(std::optional<model::BpfProgram> p) {
  model::L3afBpfPrograms e;
  e.host_name = kHost;
  e.iface = "eth0";
  e.ipv4_address = "198.18.0.1";
  model::BpfPrograms bp;
  if (p) bp.xdp_ingress = std::vector<model::BpfProgram>{*p};
  e.bpf_programs = bp;
  return e;
}

struct Harness {
  Harness() : kernel_(inj_), packages_(inj_), store_(&inj_) {
    kernel_.add_interface("eth0", 2);
    kernel_.define_object("counter.bpf.o", {"counter", {{"config", 0, 1, 4, 8, 16, {}}}});
    engine::EngineConfig cfg;
    cfg.planner.default_repo_url = "file:///repo";
    cfg.planner.host_name = kHost;
    engine_ = std::make_unique<engine::Engine>(cfg, kernel_, packages_, store_);
    sampler_ = std::make_unique<api::MonitorSampler>([this] { return engine_->snapshot(); }, 3);
  }
  std::optional<double> value(const std::string& label) {
    for (const auto& s : sampler_->values()) {
      if (s.map_name == label) return s.value;
    }
    return std::nullopt;
  }
  kernel::fake::Injector inj_;
  kernel::fake::FakeKernel kernel_;
  testing::FakePackages packages_;
  store::MemoryStore store_;
  std::unique_ptr<engine::Engine> engine_;
  std::unique_ptr<api::MonitorSampler> sampler_;
};

TEST(MonitorSampler, MaxRateAndAvgAggregateTicksAndScalarIsReadAtRenderTime) {
  Harness t;
  ASSERT_TRUE(t.engine_->run_now(AddPrograms{{entry(counter(10))}}));
  EXPECT_EQ(t.engine_->snapshot()->monitor_readers.size(), 1u) << "one reader for map config";
  t.sampler_->tick();
  EXPECT_EQ(t.value("config_1_max-rate"), 0.0) << "the first sample is a baseline";
  EXPECT_EQ(t.value("config_1_avg"), 10.0);
  EXPECT_FALSE(t.value("config_1_scalar").has_value()) << "scalar is not sampled";
  EXPECT_FALSE(t.value("config_7_avg").has_value()) << "a failed read publishes nothing";
  EXPECT_EQ(t.sampler_->read_failures(), 1u);

  ASSERT_TRUE(t.engine_->run_now(UpdatePrograms{{entry(counter(25))}}));  // in place
  t.sampler_->tick();
  EXPECT_EQ(t.value("config_1_max-rate"), 15.0);
  EXPECT_EQ(t.value("config_1_avg"), 17.5);

  const std::string body = api::render_metrics(*t.engine_->snapshot(), t.sampler_->values(),
                                               t.sampler_->read_failures(), kHost);
  EXPECT_NE(body.find("map_name=\"config_1_max-rate\"} 15\n"), std::string::npos) << body;
  EXPECT_NE(body.find("map_name=\"config_1_avg\"} 17.5\n"), std::string::npos) << body;
  EXPECT_NE(body.find("map_name=\"config_1_scalar\"} 25\n"), std::string::npos) << body;
  EXPECT_EQ(body.find("config_7_avg"), std::string::npos) << body;
  EXPECT_NE(body.find("l3afd_monitor_read_errors_total{host=\"testhost\"} 2\n"), std::string::npos)
      << "the never-written key, at both ticks: " << body;
  EXPECT_NE(body.find("\n# TYPE process_open_fds gauge\nprocess_open_fds "), std::string::npos)
      << "process_* after the l3afd_* families: " << body;

  // The program leaves: its series are not served from then on, and go at the next tick (D35).
  const auto before_delete = t.sampler_->values();
  ASSERT_TRUE(t.engine_->run_now(UpdatePrograms{{entry(std::nullopt)}}));
  const std::string after = api::render_metrics(*t.engine_->snapshot(), before_delete,
                                                t.sampler_->read_failures(), kHost);
  EXPECT_EQ(after.find("l3afd_BPFMonitorMap"), std::string::npos) << after;
  t.sampler_->tick();
  EXPECT_TRUE(t.sampler_->values().empty());
}

TEST(MonitorSampler, AKeyRangeIsOneSeriesPerKeyAndAnUnwrittenKeyIsAFailedRead) {
  Harness t;
  auto p = counter(0);
  p.map_args =
      std::vector<model::MapArg>{{"config", std::vector<model::KeyValue>{{2, 20}, {3, 30}}}};
  model::MonitorMap range{"config", 2, "avg"};
  range.key_end = 4;
  model::MonitorMap scalars{"config", 2, "scalar"};
  scalars.key_end = 4;
  p.monitor_maps = std::vector<model::MonitorMap>{range, scalars};
  ASSERT_TRUE(t.engine_->run_now(AddPrograms{{entry(p)}}));
  t.sampler_->tick();
  EXPECT_EQ(t.value("config_2_avg"), 20.0);
  EXPECT_EQ(t.value("config_3_avg"), 30.0);
  EXPECT_FALSE(t.value("config_4_avg").has_value()) << "never written in the fake: no value";
  EXPECT_FALSE(t.value("config_5_avg").has_value()) << "outside the range";
  EXPECT_EQ(t.sampler_->read_failures(), 1u);
  EXPECT_EQ(t.sampler_->reads(), 3u);

  std::uint64_t failed = 0;
  const std::string body =
      api::render_metrics(*t.engine_->snapshot(), t.sampler_->values(), t.sampler_->read_failures(),
                          kHost, nullptr, {}, &failed);
  EXPECT_NE(body.find("map_name=\"config_2_scalar\"} 20\n"), std::string::npos) << body;
  EXPECT_NE(body.find("map_name=\"config_3_scalar\"} 30\n"), std::string::npos) << body;
  EXPECT_EQ(body.find("config_4_scalar"), std::string::npos) << body;
  EXPECT_EQ(failed, 1u) << "the scrape's own failed read";
  EXPECT_NE(body.find("l3afd_monitor_read_errors_total{host=\"testhost\"} 2\n"), std::string::npos)
      << "the sampler's and the scrape's: " << body;
}

TEST(MonitorSampler, TheThreadSamplesUntilStopped) {
  Harness t;
  ASSERT_TRUE(t.engine_->run_now(AddPrograms{{entry(counter(4))}}));
  t.sampler_->start(std::chrono::milliseconds(5));
  for (int i = 0; i < 400 && !t.value("config_1_avg"); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  t.sampler_->stop();
  EXPECT_EQ(t.value("config_1_avg"), 4.0);
}

}  // namespace
}  // namespace l3afd
