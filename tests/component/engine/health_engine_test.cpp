// Engine + FakeKernel (+ FakeCompanions): the BPF side of the health check
// (docs/compatibility.md §15). A program the fake kernel "loses" (FakeKernel::lose_program) is
// found by CheckHealth, marked down (BPFRunning 0) and redeployed through a make-before-break
// plan of its own: a new instance replaces the lost one (link switch without chaining; built,
// wired to its successor, then one flip with chaining), maps pinned by name keep their state,
// its supervised companion is stopped and started with it, RestartCount counts it, the restart
// policy's backoff and give-up apply, and a failed redeploy rolls back exactly.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <thread>

#include "component/engine/fakes.h"
#include "engine/engine.h"
#include "kernel/fake/fake_kernel.h"
#include "support/memory_store.h"

namespace l3afd {
namespace {

using engine::AddPrograms;
using engine::CheckHealth;
using kernel::fake::FakeKernel;
using kernel::fake::Injector;
using model::BpfProgram;
using model::Hook;
using model::L3afBpfPrograms;
using std::chrono::milliseconds;

constexpr const char* kHost = "testhost";
constexpr uint32_t kArray = 2;
constexpr uint32_t kProgArray = 3;

BpfProgram prog(std::string name, int64_t seq) {
  BpfProgram p;
  p.name = std::move(name);
  p.seq_id = seq;
  p.artifact = "l3af_" + p.name + ".tar.gz";
  p.version = "1.0";
  p.admin_status = "enabled";
  p.prog_type = "xdp";
  p.object_file = "counter.bpf.o";
  p.entry_function_name = "counter";
  p.map_name = "next";
  p.map_args = std::vector<model::MapArg>{{"config", std::vector<model::KeyValue>{{1, 10}}}};
  return p;
}

BpfProgram with_companion(BpfProgram p) {
  p.cmd_start = "limiter";
  p.user_program_daemon = true;
  return p;
}

BpfProgram probe() {
  BpfProgram p;
  p.name = "tp-counter";
  p.artifact = "l3af_tp-counter.tar.gz";
  p.version = "1.0";
  p.admin_status = "enabled";
  p.prog_type = "tracepoint";
  p.object_file = "probes.bpf.o";
  return p;
}

L3afBpfPrograms entry(std::vector<BpfProgram> xdp, std::vector<BpfProgram> probes = {}) {
  L3afBpfPrograms e;
  e.host_name = kHost;
  e.iface = "eth0";
  e.ipv4_address = "198.18.0.1";
  model::BpfPrograms bp;
  bp.xdp_ingress = std::move(xdp);
  if (!probes.empty()) bp.probes = std::move(probes);
  e.bpf_programs = bp;
  return e;
}

struct Options {
  bool chaining = false;
  engine::RestartLimits limits{.max_restarts = 3,
                               .first_delay = milliseconds(0),
                               .max_delay = milliseconds(0),
                               .healthy_after = milliseconds(60000)};
  milliseconds interval{30000};
};

struct Harness {
  explicit Harness(Options o = {})
      : kernel_(inj_), packages_(inj_), store_(&inj_), companions_(inj_) {
    kernel_.add_interface("eth0", 2);
    kernel_.define_object("counter.bpf.o", {"counter",
                                            {{"packets", 0, kArray, 4, 8, 1, {}},
                                             {"config", 0, 1, 4, 8, 16, {}},
                                             {"next", 0, kProgArray, 4, 4, 1, {}}}});
    kernel_.define_object("xdp_root.bpf.o",
                          {"xdp_root", {{"xdp_root_array", 0, kProgArray, 4, 4, 1, {}}}});
    kernel_.define_object("probes.bpf.o",
                          {.entry_function = "",
                           .maps = {{"counts", 0, kArray, 4, 8, 1, {}}},
                           .programs = {{"on_getppid", "tracepoint/syscalls/sys_enter_getppid"}}});
    engine::EngineConfig cfg;
    cfg.planner.default_repo_url = "file:///repo";
    cfg.planner.layout = layout::BpffsLayout("/sys/fs/bpf");
    cfg.planner.host_name = kHost;
    cfg.planner.chaining = o.chaining;
    cfg.chaining = o.chaining;
    cfg.root_names = {"xdp-root", "tc-root"};
    cfg.restart_limits = o.limits;
    cfg.health_interval = o.interval;
    engine_ =
        std::make_unique<engine::Engine>(cfg, kernel_, packages_, store_, nullptr, &companions_);
  }
  Status run(const engine::Command& c) { return engine_->run_now(c); }
  std::shared_ptr<const engine::Snapshot> snap() { return engine_->snapshot(); }
  const engine::ProgramRecord& rec(std::size_t i = 0) {
    return snap()->state.programs("eth0", Hook::XdpIngress)->at(i);
  }
  engine::HealthView view(const std::string& id) {
    auto s = snap();
    return engine::health_view(s->companions, s->programs, id);
  }

  Injector inj_;
  FakeKernel kernel_;
  testing::FakePackages packages_;
  store::MemoryStore store_;
  testing::FakeCompanions companions_;
  std::unique_ptr<engine::Engine> engine_;
};

/// Position of the first log entry equal to `s` (npos if none).
std::size_t position(const std::vector<std::string>& log, const std::string& s) {
  auto it = std::find(log.begin(), log.end(), s);
  return it == log.end() ? std::string::npos : static_cast<std::size_t>(it - log.begin());
}

constexpr const char* kA = "eth0/xdpingress/a/1_0";

TEST(HealthEngine, AHealthyProgramIsLeftAlone) {
  Harness t;
  ASSERT_TRUE(t.run(AddPrograms{{entry({prog("a", 1)})}}));
  const auto before = t.kernel_.model();
  t.inj_.reset_count();
  ASSERT_TRUE(t.run(CheckHealth{}));
  EXPECT_EQ(t.inj_.calls(), 0) << "no plan, no store write";
  EXPECT_EQ(t.kernel_.model(), before);
  const auto& h = t.snap()->programs.at(kA);
  EXPECT_TRUE(h.loaded);
  EXPECT_EQ(h.restart_count, 0);
  EXPECT_TRUE(t.view(kA).running);
}

TEST(HealthEngine, AnUnloadedProgramIsRedeployedBySwitchingItsLinkAndKeepsItsMapState) {
  Harness t;
  ASSERT_TRUE(t.run(AddPrograms{{entry({prog("a", 1)})}}));
  const auto old = t.rec();
  // State in a map pinned by name, which the new instance must share.
  ASSERT_TRUE(t.kernel_.configure_maps(
      old.object_key, {model::MapArg{"packets", std::vector<model::KeyValue>{{0, 42}}}}, {}));
  const auto revision = t.snap()->state.revision;
  ASSERT_TRUE(t.kernel_.lose_program(old.object_key));
  EXPECT_FALSE(t.kernel_.program_exists(old.prog_id));

  t.inj_.reset_count();
  ASSERT_TRUE(t.run(CheckHealth{}));
  const auto& now = t.rec();
  EXPECT_NE(now.object_key, old.object_key) << "a new instance";
  EXPECT_EQ(now.spec, old.spec);
  EXPECT_TRUE(t.kernel_.program_loaded(now.object_key));
  auto m = t.kernel_.model();
  EXPECT_EQ(m.attachments["eth0/xdpingress"], now.object_key);
  EXPECT_FALSE(m.objects.contains(old.object_key)) << "the lost instance is released";
  EXPECT_EQ(m.map_contents["/sys/fs/bpf/eth0/a/1_0/packets"].at(0), 42u) << "state kept";
  // Make-before-break: the new instance is loaded, then the link is switched to it (no detach).
  const auto& log = t.inj_.log();
  EXPECT_LT(position(log, "load " + now.object_key), position(log, "attach " + now.object_key));
  EXPECT_EQ(position(log, "detach " + old.object_key), std::string::npos);
  EXPECT_LT(position(log, "save state"), position(log, "unload " + old.object_key));
  EXPECT_EQ(t.snap()->state.revision, revision + 1);
  // RestartCount 1, BPFRunning 1 after the repair; the program counters see a stop and start.
  const auto& h = t.snap()->programs.at(kA);
  EXPECT_TRUE(h.loaded);
  EXPECT_EQ(h.restart_count, 1);
  EXPECT_EQ(h.total_restarts, 1);
  EXPECT_TRUE(t.view(kA).running);
  EXPECT_EQ(t.view(kA).restart_count, 1);

  t.inj_.reset_count();
  ASSERT_TRUE(t.run(CheckHealth{}));
  EXPECT_EQ(t.inj_.calls(), 0) << "healthy again: nothing more";
}

TEST(HealthEngine, WhileTheBackoffRunsTheProgramIsReportedDownAndNothingChanges) {
  Options o;
  o.limits.first_delay = milliseconds(3600000);
  o.limits.max_delay = milliseconds(3600000);
  Harness t(o);
  ASSERT_TRUE(t.run(AddPrograms{{entry({prog("a", 1)})}}));
  const auto old = t.rec();
  ASSERT_TRUE(t.kernel_.lose_program(old.object_key));
  const auto model_before = t.kernel_.model();
  const auto store_before = t.store_.state();
  t.inj_.reset_count();
  ASSERT_TRUE(t.run(CheckHealth{}));
  EXPECT_EQ(t.inj_.calls(), 0);
  EXPECT_EQ(t.kernel_.model(), model_before);
  EXPECT_EQ(t.store_.state(), store_before);
  EXPECT_EQ(t.rec().object_key, old.object_key);
  const auto& h = t.snap()->programs.at(kA);
  EXPECT_FALSE(h.loaded);
  EXPECT_EQ(h.restart_count, 1) << "the restart it scheduled";
  EXPECT_FALSE(h.given_up);
  EXPECT_FALSE(t.view(kA).running) << "BPFRunning 0";
}

TEST(HealthEngine, AfterMaxRestartsTheProgramIsGivenUpAndReportedDown) {
  Options o;
  o.limits.max_restarts = 1;
  Harness t(o);
  ASSERT_TRUE(t.run(AddPrograms{{entry({prog("a", 1)})}}));
  ASSERT_TRUE(t.kernel_.lose_program(t.rec().object_key));
  ASSERT_TRUE(t.run(CheckHealth{}));
  const auto second = t.rec();
  EXPECT_TRUE(t.kernel_.program_loaded(second.object_key)) << "first loss: redeployed";

  ASSERT_TRUE(t.kernel_.lose_program(second.object_key));
  t.inj_.reset_count();
  ASSERT_TRUE(t.run(CheckHealth{}));
  ASSERT_TRUE(t.run(CheckHealth{}));
  EXPECT_EQ(t.inj_.calls(), 0) << "given up: not redeployed";
  EXPECT_EQ(t.rec().object_key, second.object_key);
  const auto& h = t.snap()->programs.at(kA);
  EXPECT_FALSE(h.loaded);
  EXPECT_TRUE(h.given_up);
  EXPECT_EQ(h.restart_count, 1);
  EXPECT_FALSE(t.view(kA).running);

  // An update that rebuilds it (another definition) starts over.
  auto changed = prog("a", 1);
  changed.object_file = "counter.bpf.o";
  changed.entry_function_name = "counter";
  changed.map_name = "";
  ASSERT_TRUE(t.run(engine::UpdatePrograms{{entry({changed})}}));
  const auto& fresh = t.snap()->programs.at(kA);
  EXPECT_TRUE(fresh.loaded);
  EXPECT_FALSE(fresh.given_up);
  EXPECT_EQ(fresh.restart_count, 0);
}

TEST(HealthEngine, InAChainTheLostProgramIsRebuiltWiredToItsSuccessorAndFlippedIn) {
  Options o;
  o.chaining = true;
  Harness t(o);
  ASSERT_TRUE(t.run(AddPrograms{{entry({prog("a", 1), prog("p", 2), prog("b", 3)})}}));
  const auto a = t.rec(0);
  const auto p = t.rec(1);
  const auto b = t.rec(2);
  ASSERT_TRUE(t.kernel_.lose_program(p.object_key));
  t.inj_.reset_count();
  ASSERT_TRUE(t.run(CheckHealth{}));

  const auto p2 = t.rec(1);
  EXPECT_NE(p2.object_key, p.object_key);
  EXPECT_EQ(t.rec(0).object_key, a.object_key) << "the prefix is kept";
  EXPECT_EQ(t.rec(2).object_key, b.object_key) << "the suffix is kept";
  auto m = t.kernel_.model();
  EXPECT_EQ(m.slots[a.object_key + "/next"], p2.object_key);
  EXPECT_EQ(m.slots[p2.object_key + "/next"], b.object_key);
  EXPECT_FALSE(m.objects.contains(p.object_key));
  // Built and wired to its successor before the one flip of its predecessor's slot; the
  // predecessor's slot is written once (never cleared first).
  const auto& log = t.inj_.log();
  const auto load = position(log, "load " + p2.object_key);
  const auto wire = position(log, "write slot " + p2.object_key + "/next");
  const auto flip = position(log, "write slot " + a.object_key + "/next");
  ASSERT_NE(flip, std::string::npos);
  EXPECT_LT(load, wire);
  EXPECT_LT(wire, flip);
  EXPECT_EQ(std::count(log.begin(), log.end(), "write slot " + a.object_key + "/next"), 1);
  EXPECT_LT(flip, position(log, "save state"));
  EXPECT_EQ(t.snap()->programs.at("eth0/xdpingress/p/1_0").restart_count, 1);
  EXPECT_EQ(t.snap()->programs.at("eth0/xdpingress/a/1_0").restart_count, 0);
}

TEST(HealthEngine, TheCompanionOfALostProgramIsStoppedAndStartedWithIt) {
  Harness t;
  ASSERT_TRUE(t.run(AddPrograms{{entry({with_companion(prog("a", 1))})}}));
  const int pid = t.companions_.pid_of(kA);
  ASSERT_TRUE(t.kernel_.lose_program(t.rec().object_key));
  t.inj_.reset_count();
  ASSERT_TRUE(t.run(CheckHealth{}));
  EXPECT_EQ(t.companions_.stopped(), std::vector<std::string>{kA});
  ASSERT_TRUE(t.companions_.running().contains(kA));
  EXPECT_NE(t.companions_.pid_of(kA), pid) << "a new process";
  const auto& log = t.inj_.log();
  EXPECT_LT(position(log, "load " + t.rec().object_key),
            position(log, "stop companion " + std::string(kA)));
  EXPECT_LT(position(log, "stop companion " + std::string(kA)),
            position(log, "start companion " + std::string(kA)));
  const auto s = t.snap();
  EXPECT_TRUE(s->companions.at(kA).running);
  EXPECT_EQ(s->companions.at(kA).restart_count, 0) << "the program's restart, not a crash";
  EXPECT_EQ(s->programs.at(kA).restart_count, 1);
  EXPECT_EQ(t.view(kA).restart_count, 1);
  EXPECT_TRUE(t.view(kA).running);
}

TEST(HealthEngine, ALostProbeIsReloaded) {
  Harness t;
  ASSERT_TRUE(t.run(AddPrograms{{entry({}, {probe()})}}));
  const auto old = t.snap()->state.probes.at(0);
  ASSERT_TRUE(t.kernel_.lose_program(old.object_key));
  ASSERT_TRUE(t.run(CheckHealth{}));
  const auto now = t.snap()->state.probes.at(0);
  EXPECT_NE(now.object_key, old.object_key);
  EXPECT_TRUE(t.kernel_.program_loaded(now.object_key));
  EXPECT_FALSE(t.kernel_.model().objects.contains(old.object_key));
  EXPECT_EQ(t.snap()->programs.at("probes/tp-counter/1_0").restart_count, 1);
}

// Rollback at every injectable call of a redeploy: kernel model, store, state and companions
// are as before, the program stays reported down, and the next check tries again.
TEST(HealthEngine, AFailedRedeployRollsBackExactlyAtEveryStep) {
  struct Sc {
    std::string name;
    bool chaining;
    std::vector<BpfProgram> progs;
    std::size_t lost;
  };
  const std::vector<Sc> scenarios = {
      {"direct", false, {with_companion(prog("a", 1))}, 0},
      {"chain", true, {prog("a", 1), with_companion(prog("p", 2)), prog("b", 3)}, 1},
  };
  for (const auto& sc : scenarios) {
    Options o;
    o.chaining = sc.chaining;
    int calls = 0;
    std::vector<std::string> log;
    {
      Harness t(o);
      ASSERT_TRUE(t.run(AddPrograms{{entry(sc.progs)}}));
      ASSERT_TRUE(t.kernel_.lose_program(t.rec(sc.lost).object_key));
      t.inj_.reset_count();
      ASSERT_TRUE(t.run(CheckHealth{}));
      calls = t.inj_.calls();
      log = t.inj_.log();
    }
    ASSERT_GT(calls, 0);
    for (int k = 1; k <= calls; ++k) {
      bool after_commit = false;
      for (int i = 0; i < k - 1; ++i) after_commit |= log.at(std::size_t(i)) == "save state";
      SCOPED_TRACE(sc.name + ": failure at call " + std::to_string(k) + " (" +
                   log.at(std::size_t(k - 1)) + ")");
      if (after_commit) continue;  // releases: the repair stands
      Harness t(o);
      ASSERT_TRUE(t.run(AddPrograms{{entry(sc.progs)}}));
      const auto lost = t.rec(sc.lost);
      const std::string id = engine::program_health_id(lost.object_key);
      ASSERT_TRUE(t.kernel_.lose_program(lost.object_key));
      const auto model_before = t.kernel_.model();
      const auto store_before = t.store_.state();
      const auto state_before = t.snap()->state;
      const auto running_before = t.companions_.running();
      t.inj_.fail_call(k);
      ASSERT_TRUE(t.run(CheckHealth{})) << "the check itself never fails";
      t.inj_.fail_call(0);
      EXPECT_EQ(t.kernel_.model(), model_before);
      EXPECT_EQ(t.store_.state(), store_before);
      EXPECT_EQ(t.snap()->state, state_before);
      EXPECT_EQ(t.companions_.running(), running_before);
      EXPECT_FALSE(t.snap()->programs.at(id).loaded);
      EXPECT_FALSE(t.view(id).running);
      EXPECT_EQ(t.snap()->programs.at(id).restart_count, 2) << "the failed attempt counts";
      EXPECT_FALSE(t.snap()->counters.deploy_failed.empty()) << "l3afd_BPFDeployFailedCount";
      // The next check redeploys it.
      ASSERT_TRUE(t.run(CheckHealth{}));
      EXPECT_TRUE(t.snap()->programs.at(id).loaded);
      EXPECT_NE(t.rec(sc.lost).object_key, lost.object_key);
      EXPECT_TRUE(t.kernel_.program_loaded(t.rec(sc.lost).object_key));
    }
  }
}

TEST(HealthEngine, TheHealthTimerPostsTheCheckOnTheEngineThread) {
  Options o;
  o.interval = milliseconds(20);
  Harness t(o);
  ASSERT_TRUE(t.run(AddPrograms{{entry({prog("a", 1)})}}));
  const auto old = t.rec();
  ASSERT_TRUE(t.kernel_.lose_program(old.object_key));  // before the engine thread runs
  t.engine_->start();
  auto eventually = [](auto pred) {
    for (int i = 0; i < 500 && !pred(); ++i) std::this_thread::sleep_for(milliseconds(10));
    return pred();
  };
  EXPECT_TRUE(eventually([&] {
    auto s = t.snap();
    auto it = s->programs.find(kA);
    return it != s->programs.end() && it->second.loaded && it->second.restart_count == 1;
  }));
  t.engine_->stop();
  EXPECT_NE(t.rec().object_key, old.object_key);
}

// Interface drift (docs/operations.md "Interface drift"): `ip link del` detaches everything on
// the interface; the check reports its programs down, and once the interface is created again
// (another ifindex) re-attaches them through a rebuild plan, rolled back exactly on a failure.
TEST(HealthEngine, ADeletedInterfaceIsReportedDownAndReattachedWhenCreatedAgain) {
  Harness t;
  ASSERT_TRUE(t.run(AddPrograms{{entry({prog("a", 1)})}}));
  const auto old = t.rec();
  ASSERT_EQ(old.attach.ifindex, 2u);
  ASSERT_TRUE(t.kernel_.configure_maps(
      old.object_key, {model::MapArg{"packets", std::vector<model::KeyValue>{{0, 42}}}}, {}));
  ASSERT_TRUE(t.kernel_.remove_interface("eth0"));

  t.inj_.reset_count();
  ASSERT_TRUE(t.run(CheckHealth{}));
  EXPECT_EQ(t.inj_.calls(), 0) << "gone: nothing to repair yet";
  EXPECT_FALSE(t.view(kA).running) << "BPFRunning 0";
  EXPECT_EQ(t.view(kA).restart_count, 0) << "not a restart";
  EXPECT_EQ(t.rec().object_key, old.object_key) << "the state still lists it";
  ASSERT_TRUE(t.run(CheckHealth{}));
  EXPECT_FALSE(t.view(kA).running);

  t.kernel_.add_interface("eth0", 7);
  // A failure at any step of the re-attach plan rolls back exactly; the program stays down.
  for (int k = 1;; ++k) {
    SCOPED_TRACE("failing call " + std::to_string(k));
    // The pin of the defunct link may go: nothing runs through it (the attach drops it).
    auto model_now = [&] {
      auto m = t.kernel_.model();
      m.pins.erase(old.paths.link_pin.string());
      return m;
    };
    const auto model_before = model_now();
    const auto store_before = t.store_.state();
    const auto state_before = t.snap()->state;
    t.inj_.fail_call(k);
    ASSERT_TRUE(t.run(CheckHealth{})) << "the check itself never fails";
    t.inj_.fail_call(0);
    // Committed once k is past the plan's last undoable step (a failed release is only logged).
    if (t.snap()->state.revision != state_before.revision) break;
    EXPECT_EQ(model_now(), model_before);
    EXPECT_EQ(t.store_.state(), store_before);
    EXPECT_EQ(t.snap()->state, state_before);
    EXPECT_FALSE(t.view(kA).running);
    ASSERT_LT(k, 50);
  }
  const auto& now = t.rec();
  EXPECT_NE(now.object_key, old.object_key) << "a new instance";
  EXPECT_EQ(now.spec, old.spec);
  EXPECT_EQ(now.attach.ifindex, 7u);
  auto m = t.kernel_.model();
  EXPECT_EQ(m.attachments["eth0/xdpingress"], now.object_key);
  EXPECT_FALSE(m.objects.contains(old.object_key)) << "the old instance is released";
  EXPECT_EQ(m.map_contents["/sys/fs/bpf/eth0/a/1_0/packets"].at(0), 42u) << "state kept";
  EXPECT_TRUE(t.view(kA).running) << "BPFRunning 1";
  EXPECT_EQ(t.view(kA).restart_count, 0);

  t.inj_.reset_count();
  ASSERT_TRUE(t.run(CheckHealth{}));
  EXPECT_EQ(t.inj_.calls(), 0) << "repaired: nothing more";
}

// With chaining (issue 11): the interface created again gets the whole hook rebuilt behind a new
// root — programs built and wired first, the new root attached last, already pointing at the
// complete chain — on the pinned maps; the old instances and the old root are released.
TEST(HealthEngine, ARecreatedInterfaceGetsItsChainRebuiltBehindANewRoot) {
  Options o;
  o.chaining = true;
  Harness t(o);
  ASSERT_TRUE(t.run(AddPrograms{{entry({prog("a", 1), prog("b", 2)})}}));
  const auto a = t.rec(0);
  const auto b = t.rec(1);
  const auto root = t.snap()->state.ifaces.at("eth0").roots.at(model::Hook::XdpIngress);
  ASSERT_TRUE(t.kernel_.configure_maps(
      a.object_key, {model::MapArg{"packets", std::vector<model::KeyValue>{{0, 42}}}}, {}));
  ASSERT_TRUE(t.kernel_.remove_interface("eth0"));
  ASSERT_TRUE(t.run(CheckHealth{}));
  EXPECT_FALSE(t.view(kA).running) << "BPFRunning 0 while the interface is gone";

  t.kernel_.add_interface("eth0", 7);
  for (int k = 1;; ++k) {
    SCOPED_TRACE("failing call " + std::to_string(k));
    auto model_now = [&] {
      auto m = t.kernel_.model();
      m.pins.erase(root.paths.link_pin.string());
      return m;
    };
    const auto model_before = model_now();
    const auto state_before = t.snap()->state;
    t.inj_.fail_call(k);
    ASSERT_TRUE(t.run(CheckHealth{}));
    t.inj_.fail_call(0);
    if (t.snap()->state.revision != state_before.revision) break;
    EXPECT_EQ(model_now(), model_before);
    EXPECT_EQ(t.snap()->state, state_before);
    ASSERT_LT(k, 80);
  }
  const auto& iface = t.snap()->state.ifaces.at("eth0");
  const auto& root2 = iface.roots.at(model::Hook::XdpIngress);
  const auto a2 = t.rec(0);
  const auto b2 = t.rec(1);
  EXPECT_NE(root2.object_key, root.object_key);
  EXPECT_NE(a2.object_key, a.object_key);
  EXPECT_NE(b2.object_key, b.object_key);
  EXPECT_EQ(root2.attach.ifindex, 7u);
  auto m = t.kernel_.model();
  EXPECT_EQ(m.attachments["eth0/xdpingress"], root2.object_key);
  EXPECT_EQ(m.slots[root2.object_key + "/xdp_root_array"], a2.object_key);
  EXPECT_EQ(m.slots[a2.object_key + "/next"], b2.object_key);
  for (const auto* old : {&root, &a, &b}) {
    EXPECT_FALSE(m.objects.contains(old->object_key)) << old->object_key << " released";
  }
  EXPECT_EQ(m.map_contents["/sys/fs/bpf/eth0/a/1_0/packets"].at(0), 42u) << "state kept";
  // The root goes live last: after every program is built and wired.
  const auto& log = t.inj_.log();
  const auto attach = position(log, "attach " + root2.object_key);
  ASSERT_NE(attach, std::string::npos);
  EXPECT_LT(position(log, "write slot " + a2.object_key + "/next"), attach);
  EXPECT_LT(position(log, "write slot " + root2.object_key + "/xdp_root_array"), attach);
  EXPECT_TRUE(t.view(kA).running) << "BPFRunning 1";
}

}  // namespace
}  // namespace l3afd
