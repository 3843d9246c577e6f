// What /metrics (l3afd_BPFRunning) and /bpfs (RestartCount) report of the health check's BPF
// side (docs/compatibility.md §13, §14, §15), with the real engine on the fake kernel: a
// program the kernel lost is 0 while its redeploy waits, 1 again after it, RestartCount 1.
#include <gtest/gtest.h>

#include "api/metrics_routes.h"
#include "api/routes.h"
#include "component/engine/fakes.h"
#include "kernel/fake/fake_kernel.h"
#include "support/memory_store.h"

namespace l3afd {
namespace {

constexpr const char* kHost = "testhost";
constexpr const char* kRunning =
    "l3afd_BPFRunning{direction=\"xdpingress\",ebpf_program=\"counter\",host=\"testhost\","
    "interface_name=\"eth0\",ipv4_address=\"198.18.0.1\",version=\"1.0\"} ";

model::L3afBpfPrograms entry() {
  model::BpfProgram p;
  p.name = "counter";
  p.seq_id = 1;
  p.artifact = "l3af_counter.tar.gz";
  p.version = "1.0";
  p.admin_status = "enabled";
  p.prog_type = "xdp";
  p.object_file = "counter.bpf.o";
  p.entry_function_name = "counter";
  model::L3afBpfPrograms e;
  e.host_name = kHost;
  e.iface = "eth0";
  e.ipv4_address = "198.18.0.1";
  model::BpfPrograms bp;
  bp.xdp_ingress = std::vector<model::BpfProgram>{p};
  e.bpf_programs = bp;
  return e;
}

struct Harness {
  explicit Harness(std::chrono::milliseconds backoff)
      : kernel_(inj_), packages_(inj_), store_(&inj_) {
    kernel_.add_interface("eth0", 2);
    kernel_.define_object("counter.bpf.o", {"counter", {{"config", 0, 1, 4, 8, 16, {}}}});
    engine::EngineConfig cfg;
    cfg.planner.default_repo_url = "file:///repo";
    cfg.planner.host_name = kHost;
    cfg.restart_limits.first_delay = backoff;
    cfg.restart_limits.max_delay = backoff;
    engine_ = std::make_unique<engine::Engine>(cfg, kernel_, packages_, store_);
  }
  std::string metrics() { return api::render_metrics(*engine_->snapshot(), {}, 0, kHost); }
  std::string bpfs() { return api::debug_listing(*engine_->snapshot(), "eth0"); }

  kernel::fake::Injector inj_;
  kernel::fake::FakeKernel kernel_;
  testing::FakePackages packages_;
  store::MemoryStore store_;
  std::unique_ptr<engine::Engine> engine_;
};

TEST(HealthReport, ALostProgramIsNotRunningUntilItsRedeploy) {
  Harness t(std::chrono::hours(1));
  ASSERT_TRUE(t.engine_->run_now(engine::AddPrograms{{entry()}}));
  EXPECT_NE(t.metrics().find(std::string(kRunning) + "1\n"), std::string::npos) << t.metrics();
  EXPECT_NE(t.bpfs().find("\"RestartCount\":0,"), std::string::npos) << t.bpfs();
  const auto key =
      t.engine_->snapshot()->state.ifaces.at("eth0").hooks.begin()->second[0].object_key;
  ASSERT_TRUE(t.kernel_.lose_program(key));
  ASSERT_TRUE(t.engine_->run_now(engine::CheckHealth{}));
  EXPECT_NE(t.metrics().find(std::string(kRunning) + "0\n"), std::string::npos) << t.metrics();
  EXPECT_NE(t.bpfs().find("\"RestartCount\":1,"), std::string::npos) << t.bpfs();
}

TEST(HealthReport, ARedeployedProgramRunsAgainWithRestartCountOne) {
  Harness t(std::chrono::milliseconds(0));
  ASSERT_TRUE(t.engine_->run_now(engine::AddPrograms{{entry()}}));
  const auto key =
      t.engine_->snapshot()->state.ifaces.at("eth0").hooks.begin()->second[0].object_key;
  ASSERT_TRUE(t.kernel_.lose_program(key));
  ASSERT_TRUE(t.engine_->run_now(engine::CheckHealth{}));
  EXPECT_NE(t.metrics().find(std::string(kRunning) + "1\n"), std::string::npos) << t.metrics();
  EXPECT_NE(t.bpfs().find("\"RestartCount\":1,"), std::string::npos) << t.bpfs();
}

}  // namespace
}  // namespace l3afd
