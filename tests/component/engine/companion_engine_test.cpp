// Engine + FakeKernel + FakeCompanions: companion programs (docs/compatibility.md §11, §15) as
// plan steps (started after the load, before the attach; stopped after the commit; one-shots
// waited for), rollback of every step including the companion ones, and supervision (exits are
// events; restarts with backoff; give-up; RestartCount).
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "component/engine/fakes.h"
#include "engine/engine.h"
#include "kernel/fake/fake_kernel.h"
#include "support/memory_store.h"

namespace l3afd {
namespace {

using engine::AddPrograms;
using engine::DeletePrograms;
using engine::UpdatePrograms;
using kernel::fake::FakeKernel;
using kernel::fake::Injector;
using model::BpfProgram;
using model::L3afBpfPrograms;
using std::chrono::milliseconds;

constexpr const char* kHost = "testhost";
constexpr const char* kId = "eth0/xdpingress/limiter/1_0";

BpfProgram limiter(bool daemon = true) {
  BpfProgram p;
  p.name = "limiter";
  p.seq_id = 1;
  p.artifact = "l3af_limiter.tar.gz";
  p.version = "1.0";
  p.admin_status = "enabled";
  p.prog_type = "xdp";
  p.object_file = "counter.bpf.o";
  p.entry_function_name = "counter";
  p.cmd_start = "limiter";
  p.user_program_daemon = daemon;
  p.start_args = json::Object{{"rate", json::Value(std::string("2"))},
                              {"ports", json::Value(std::string("80,8080"))}};
  p.map_args = std::vector<model::MapArg>{{"config", std::vector<model::KeyValue>{{1, 10}}}};
  return p;
}

L3afBpfPrograms entry(BpfProgram p) {
  L3afBpfPrograms e;
  e.host_name = kHost;
  e.iface = "eth0";
  model::BpfPrograms bp;
  bp.xdp_ingress = std::vector<BpfProgram>{std::move(p)};
  e.bpf_programs = bp;
  return e;
}

model::L3afBpfProgramNames names() {
  model::L3afBpfProgramNames n;
  n.host_name = kHost;
  n.iface = "eth0";
  model::BpfProgramNames bn;
  bn.xdp_ingress = std::vector<std::string>{"limiter"};
  n.bpf_programs = bn;
  return n;
}

struct Harness {
  explicit Harness(engine::RestartLimits limits = {})
      : kernel_(inj_), packages_(inj_), store_(&inj_), companions_(inj_) {
    kernel_.add_interface("eth0", 2);
    kernel_.define_object(
        "counter.bpf.o",
        {"counter", {{"packets", 0, 2, 4, 8, 1, {}}, {"config", 0, 1, 4, 8, 16, {}}}});
    engine::EngineConfig cfg;
    cfg.planner.default_repo_url = "file:///repo";
    cfg.planner.layout = layout::BpffsLayout("/sys/fs/bpf");
    cfg.planner.host_name = kHost;
    cfg.root_names = {"xdp-root", "tc-root"};
    cfg.restart_limits = limits;
    engine_ =
        std::make_unique<engine::Engine>(cfg, kernel_, packages_, store_, nullptr, &companions_);
  }
  Status run(const engine::Command& c) { return engine_->run_now(c); }
  std::shared_ptr<const engine::Snapshot> snap() { return engine_->snapshot(); }

  Injector inj_;
  FakeKernel kernel_;
  testing::FakePackages packages_;
  store::MemoryStore store_;
  testing::FakeCompanions companions_;
  std::unique_ptr<engine::Engine> engine_;
};

/// The position of the first log entry starting with `prefix` (npos if none).
std::size_t position(const std::vector<std::string>& log, const std::string& prefix) {
  for (std::size_t i = 0; i < log.size(); ++i) {
    if (log[i].rfind(prefix, 0) == 0) return i;
  }
  return std::string::npos;
}

TEST(CompanionEngine, DaemonCompanionStartsAfterTheLoadAndBeforeTheAttachWithItsRequest) {
  Harness t;
  t.inj_.reset_count();
  ASSERT_TRUE(t.run(AddPrograms{{entry(limiter())}}));
  const auto running = t.companions_.running();
  ASSERT_EQ(running.size(), 1u);
  const auto& r = running.at(kId);
  EXPECT_EQ(r.iface, "eth0");
  EXPECT_EQ(r.direction, "xdpingress");
  EXPECT_EQ(r.version_dir, "1_0");
  EXPECT_EQ(r.package_dir, "/cache/limiter/1.0/pkg") << "the fetched package";
  EXPECT_FALSE(r.map_name.has_value()) << "--map-name only for self-loading programs";
  EXPECT_EQ(r.program, limiter());
  const auto& log = t.inj_.log();
  const auto load = position(log, "load");
  const auto start = position(log, "start companion");
  const auto attach = position(log, "attach");
  ASSERT_NE(start, std::string::npos);
  EXPECT_LT(load, start);
  EXPECT_LT(start, attach) << "the companion runs before the program goes live";
  EXPECT_TRUE(t.snap()->companions.at(kId).running);
}

TEST(CompanionEngine, DeleteStopsTheCompanionAfterTheCommit) {
  Harness t;
  ASSERT_TRUE(t.run(AddPrograms{{entry(limiter())}}));
  t.inj_.reset_count();
  ASSERT_TRUE(t.run(DeletePrograms{{names()}}));
  EXPECT_TRUE(t.companions_.running().empty());
  EXPECT_EQ(t.companions_.stopped(), std::vector<std::string>{kId});
  const auto& log = t.inj_.log();
  EXPECT_LT(position(log, "save state"), position(log, "stop companion"))
      << "stopped as a release step";
  EXPECT_TRUE(t.snap()->companions.empty());
}

TEST(CompanionEngine, OneShotRunsInsideTheRequestAndItsFailureRollsBackEverything) {
  Harness t;
  ASSERT_TRUE(t.run(AddPrograms{{entry(limiter(false))}}));
  ASSERT_EQ(t.companions_.ran().size(), 1u);
  EXPECT_TRUE(t.companions_.running().empty()) << "a one-shot is not supervised";
  EXPECT_TRUE(t.snap()->companions.empty());

  Harness u;
  u.companions_.set_one_shot_exit(3);
  const auto model_before = u.kernel_.model();
  auto st = u.run(AddPrograms{{entry(limiter(false))}});
  ASSERT_FALSE(st);
  EXPECT_NE(st.error().message.find("exited with status 3"), std::string::npos)
      << st.error().message;
  EXPECT_NE(st.error().step.find("run companion"), std::string::npos) << st.error().step;
  EXPECT_EQ(u.kernel_.model(), model_before) << "the loaded object was discarded";
  EXPECT_TRUE(u.store_.state().empty());
  EXPECT_TRUE(u.snap()->state.ifaces.empty());
}

TEST(CompanionEngine, ACommandOutsideThePackageIsA400BeforeAnythingIsLoaded) {
  Harness t;
  auto p = limiter();
  p.cmd_start = "../../bin/sh";
  t.inj_.reset_count();
  auto st = t.run(AddPrograms{{entry(p)}});
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code, Errc::InvalidPayload);
  ASSERT_FALSE(st.error().items.empty());
  EXPECT_EQ(st.error().items.front().field, "/0/bpf_programs/xdp_ingress/0/cmd_start");
  for (const auto& op : t.inj_.log()) {
    EXPECT_EQ(op.rfind("load", 0), std::string::npos) << "nothing loaded: " << op;
  }
  EXPECT_TRUE(t.companions_.running().empty());
}

TEST(CompanionEngine, ArgumentsThatAreNotStringsAndProgramsWithoutObjectOrCommandAre400) {
  Harness t;
  auto p = limiter();
  p.start_args = json::Object{{"rate", json::Value(2.0)}};
  auto st = t.run(AddPrograms{{entry(p)}});
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code, Errc::InvalidPayload);
  EXPECT_EQ(st.error().items.at(0).field, "/0/bpf_programs/xdp_ingress/0/start_args/rate");

  auto q = limiter();
  q.cmd_start.clear();
  q.object_file.clear();
  st = t.run(AddPrograms{{entry(q)}});
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().items.at(0).field, "/0/bpf_programs/xdp_ingress/0/object_file");
  EXPECT_EQ(t.inj_.calls(), 0) << "refused before any step";
}

TEST(CompanionEngine, ChangedStartArgsRestartTheCompanionAndUpdateArgsRunCmdUpdate) {
  Harness t;
  auto p = limiter();
  p.cmd_update = "limiter";
  ASSERT_TRUE(t.run(AddPrograms{{entry(p)}}));
  const int pid = t.companions_.pid_of(kId);

  // map_args only: applied in place, no cmd_update; an identical re-add does nothing either.
  auto maps_only = p;
  maps_only.map_args =
      std::vector<model::MapArg>{{"config", std::vector<model::KeyValue>{{1, 20}}}};
  ASSERT_TRUE(t.run(UpdatePrograms{{entry(maps_only)}}));
  ASSERT_TRUE(t.run(AddPrograms{{entry(maps_only)}}));
  EXPECT_EQ(t.companions_.pid_of(kId), pid) << "same process";
  EXPECT_TRUE(t.companions_.updated().empty());

  // update_args (with cmd_update): in place, cmd_update runs once with the new arguments.
  auto new_update = maps_only;
  new_update.update_args = json::Object{{"rate", json::Value(std::string("3"))}};
  ASSERT_TRUE(t.run(UpdatePrograms{{entry(new_update)}}));
  EXPECT_EQ(t.companions_.pid_of(kId), pid) << "same process";
  ASSERT_EQ(t.companions_.updated().size(), 1u);
  EXPECT_EQ(t.companions_.updated().front().program, new_update);

  // start_args: a new instance, the companion restarted with the new arguments.
  auto new_args = new_update;
  (*new_args.start_args)["rate"] = json::Value(std::string("5"));
  ASSERT_TRUE(t.run(UpdatePrograms{{entry(new_args)}}));
  EXPECT_NE(t.companions_.pid_of(kId), pid) << "restarted with the new arguments";
  EXPECT_EQ(t.companions_.running().at(kId).program, new_args);
  EXPECT_EQ(t.companions_.stopped(), std::vector<std::string>{kId});
  EXPECT_EQ(t.companions_.updated().size(), 1u);
}

TEST(CompanionEngine, AChangeOfTheCompanionSettingsAloneRestartsItWithThem) {
  // docs/compatibility.md §11.7: `companion` is part of the definition, not applied in place.
  Harness t({.max_restarts = 0});
  ASSERT_TRUE(t.run(AddPrograms{{entry(limiter())}}));
  const int pid = t.companions_.pid_of(kId);
  t.engine_->start();
  t.companions_.exit(kId);  // max_restarts 0: given up at once
  for (int i = 0; i < 500 && !t.snap()->companions.at(kId).given_up; ++i) {
    std::this_thread::sleep_for(milliseconds(10));
  }
  ASSERT_TRUE(t.snap()->companions.at(kId).given_up);

  auto confined = limiter();
  confined.companion = model::CompanionSettings{
      .user = "nobody", .environment = std::map<std::string, std::string>{{"MODE", "strict"}}};
  ASSERT_TRUE(t.engine_->submit(UpdatePrograms{{entry(confined)}}).get());
  ASSERT_EQ(t.companions_.running().count(kId), 1u) << "started again, with the new settings";
  EXPECT_NE(t.companions_.pid_of(kId), pid);
  EXPECT_EQ(t.companions_.running().at(kId).program, confined);
  EXPECT_TRUE(t.snap()->companions.at(kId).running) << "its supervision starts over";
  EXPECT_FALSE(t.snap()->companions.at(kId).given_up);

  // Only the settings again (the environment): stopped and started with them.
  auto again = confined;
  again.companion->environment = std::map<std::string, std::string>{{"MODE", "lax"}};
  const int confined_pid = t.companions_.pid_of(kId);
  ASSERT_TRUE(t.engine_->submit(UpdatePrograms{{entry(again)}}).get());
  EXPECT_NE(t.companions_.pid_of(kId), confined_pid);
  EXPECT_EQ(t.companions_.running().at(kId).program, again);
  EXPECT_EQ(t.companions_.stopped(), std::vector<std::string>{kId});
  t.engine_->stop();
}

TEST(CompanionEngine, ABadCompanionSettingIsA400NamingTheMemberBeforeAnyStep) {
  Harness t;
  auto p = limiter();
  p.companion = model::CompanionSettings{.user = "l3afd-no-such-user",
                                         .capabilities = std::vector<std::string>{"CAP_NOPE"}};
  auto st = t.run(AddPrograms{{entry(p)}});
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code, Errc::InvalidPayload);
  ASSERT_EQ(st.error().items.size(), 2u) << st.error().message;
  EXPECT_EQ(st.error().items[0].field, "/0/bpf_programs/xdp_ingress/0/companion/user");
  EXPECT_EQ(st.error().items[1].field, "/0/bpf_programs/xdp_ingress/0/companion/capabilities/0");
  EXPECT_EQ(t.inj_.calls(), 0) << "refused before any step";
  EXPECT_TRUE(t.companions_.running().empty());
  EXPECT_TRUE(t.store_.state().empty());
}

TEST(CompanionEngine, AnInPlaceChangeKeepsTheSupervisionStateOfADownCompanion) {
  Harness t({.max_restarts = 0});
  ASSERT_TRUE(t.run(AddPrograms{{entry(limiter())}}));
  t.engine_->start();
  t.companions_.exit(kId);  // max_restarts 0: given up at once
  for (int i = 0; i < 500 && !t.snap()->companions.at(kId).given_up; ++i) {
    std::this_thread::sleep_for(milliseconds(10));
  }
  ASSERT_TRUE(t.snap()->companions.at(kId).given_up);
  auto maps_only = limiter();
  maps_only.map_args =
      std::vector<model::MapArg>{{"config", std::vector<model::KeyValue>{{1, 99}}}};
  ASSERT_TRUE(t.engine_->submit(UpdatePrograms{{entry(maps_only)}}).get());
  EXPECT_FALSE(t.snap()->companions.at(kId).running) << "still down: no process was started";
  EXPECT_TRUE(t.snap()->companions.at(kId).given_up);
  t.engine_->stop();
}

TEST(CompanionEngine, ACrashIsRestartedWithBackoffAndACrashLoopIsGivenUp) {
  Harness t({.max_restarts = 2,
             .first_delay = milliseconds(20),
             .max_delay = milliseconds(40),
             .healthy_after = milliseconds(60000)});
  ASSERT_TRUE(t.run(AddPrograms{{entry(limiter())}}));
  t.engine_->start();
  auto wait_for = [&](auto pred) {
    for (int i = 0; i < 500 && !pred(); ++i) std::this_thread::sleep_for(milliseconds(10));
    return pred();
  };
  const int first = t.companions_.pid_of(kId);
  t.companions_.exit(kId);
  ASSERT_TRUE(wait_for([&] { return t.companions_.pid_of(kId) != 0; })) << "restarted";
  EXPECT_NE(t.companions_.pid_of(kId), first);
  ASSERT_TRUE(wait_for([&] { return t.snap()->companions.at(kId).running; }));
  EXPECT_EQ(t.snap()->companions.at(kId).restart_count, 1);

  t.companions_.exit(kId);
  ASSERT_TRUE(wait_for([&] {
    return t.snap()->companions.at(kId).restart_count == 2 && t.snap()->companions.at(kId).running;
  }));
  t.companions_.exit(kId);
  ASSERT_TRUE(wait_for([&] { return t.snap()->companions.at(kId).given_up; }));
  EXPECT_FALSE(t.snap()->companions.at(kId).running);
  std::this_thread::sleep_for(milliseconds(100));
  EXPECT_EQ(t.companions_.pid_of(kId), 0) << "not started again after giving up";
  EXPECT_EQ(t.companions_.starts(), 3) << "the first start and two restarts";
  t.engine_->stop();
}

TEST(CompanionEngine, AFailedRestartCountsAsAnExit) {
  Harness t({.max_restarts = 1,
             .first_delay = milliseconds(10),
             .max_delay = milliseconds(10),
             .healthy_after = milliseconds(60000)});
  ASSERT_TRUE(t.run(AddPrograms{{entry(limiter())}}));
  t.engine_->start();
  t.companions_.fail_next_starts(5);
  t.companions_.exit(kId);
  for (int i = 0; i < 500 && !t.snap()->companions.at(kId).given_up; ++i) {
    std::this_thread::sleep_for(milliseconds(10));
  }
  EXPECT_TRUE(t.snap()->companions.at(kId).given_up);
  EXPECT_FALSE(t.snap()->companions.at(kId).running);
  t.engine_->stop();
}

TEST(CompanionEngine, RestoreAdoptsACompanionThatSurvivedTheDaemon) {
  Harness t;
  t.companions_.survive(kId, 4242);
  ASSERT_TRUE(t.run(engine::RestoreState{{entry(limiter())}, {}}));
  EXPECT_EQ(t.companions_.pid_of(kId), 4242) << "adopted, not started twice";
  EXPECT_EQ(t.companions_.starts(), 0);
}

// Rollback at every injectable call of plans with companion steps: kernel model, cache, store,
// state and the set of running companions are as before.
TEST(CompanionEngine, EveryStepOfCompanionPlansRollsBackExactly) {
  struct Sc {
    std::string name;
    std::vector<engine::Command> setup;
    engine::Command op;
  };
  auto restarted = limiter();
  (*restarted.start_args)["rate"] = json::Value(std::string("9"));
  const std::vector<Sc> scenarios = {
      {"add_daemon", {}, AddPrograms{{entry(limiter())}}},
      {"add_one_shot", {}, AddPrograms{{entry(limiter(false))}}},
      {"restart_on_update", {AddPrograms{{entry(limiter())}}}, UpdatePrograms{{entry(restarted)}}},
  };
  for (const auto& sc : scenarios) {
    int calls = 0;
    std::vector<std::string> log;
    {
      Harness t;
      for (const auto& c : sc.setup) ASSERT_TRUE(t.run(c));
      t.inj_.reset_count();
      ASSERT_TRUE(t.run(sc.op)) << sc.name;
      calls = t.inj_.calls();
      log = t.inj_.log();
    }
    for (int k = 1; k <= calls; ++k) {
      const std::string failing = log.at(static_cast<std::size_t>(k - 1));
      bool after_commit = false;
      for (int i = 0; i < k - 1; ++i)
        after_commit |= log.at(static_cast<std::size_t>(i)) == "save state";
      SCOPED_TRACE(sc.name + ": failure at call " + std::to_string(k) + " (" + failing + ")");
      if (after_commit) continue;  // releases: the change stands (engine_test covers them)
      Harness t;
      for (const auto& c : sc.setup) ASSERT_TRUE(t.run(c));
      const auto model_before = t.kernel_.model();
      const auto store_before = t.store_.state();
      const auto state_before = t.snap()->state;
      const auto running_before = t.companions_.running();
      t.inj_.fail_call(k);
      auto st = t.run(sc.op);
      t.inj_.fail_call(0);
      ASSERT_FALSE(st);
      EXPECT_EQ(t.kernel_.model(), model_before);
      EXPECT_EQ(t.store_.state(), store_before);
      EXPECT_EQ(t.snap()->state, state_before);
      EXPECT_EQ(t.companions_.running(), running_before);
    }
  }
}

}  // namespace
}  // namespace l3afd

namespace l3afd {
namespace {

// A self-loading program (object_file empty) inserted into the middle of a chain under
// chaining: staging array, the binary started with --map-name=<staging>, take-over, then the
// same make-before-break wiring as any program; delete takes it out and stops its binary.
struct SelfLoadHarness {
  SelfLoadHarness() : kernel_(inj_), packages_(inj_), store_(&inj_), companions_(inj_) {
    kernel_.add_interface("eth0", 2);
    kernel_.define_object("counter.bpf.o", {"counter",
                                            {{"packets", 0, 2, 4, 8, 1, {}},
                                             {"config", 0, 1, 4, 8, 16, {}},
                                             {"next", 0, 3, 4, 4, 1, {}}}});
    kernel_.define_object("xdp_root.bpf.o", {"xdp_root", {{"xdp_root_array", 0, 3, 4, 4, 1, {}}}});
    engine::EngineConfig cfg;
    cfg.planner.default_repo_url = "file:///repo";
    cfg.planner.layout = layout::BpffsLayout("/sys/fs/bpf");
    cfg.planner.host_name = kHost;
    cfg.planner.chaining = true;
    cfg.chaining = true;
    cfg.root_names = {"xdp-root", "tc-root"};
    companions_.on_start = [this](const engine::CompanionRequest& r) {
      if (!r.map_name) return;
      kernel::fake::SelfLoad s;
      s.staging_pin = *r.map_name;
      s.next_array_pin = "/sys/fs/bpf/eth0/" + r.program.name + "/1_0/" + r.program.map_name;
      s.next_array = r.program.map_name;
      s.map_pin_dir = "/sys/fs/bpf/eth0/" + r.program.name + "/1_0";
      s.maps = {{"rl_drop_count_map", 0, 2, 4, 8, 1, {}}};
      ASSERT_TRUE(kernel_.simulate_self_load(s));
    };
    engine_ =
        std::make_unique<engine::Engine>(cfg, kernel_, packages_, store_, nullptr, &companions_);
  }
  Status run(const engine::Command& c) { return engine_->run_now(c); }
  /// Program names reachable from the root in the fake's slots.
  std::vector<std::string> reachable() {
    std::vector<std::string> out;
    const auto& s = engine_->snapshot()->state;
    auto m = kernel_.model();
    std::string slot =
        s.ifaces.at("eth0").roots.at(model::Hook::XdpIngress).object_key + "/xdp_root_array";
    for (int guard = 0; guard < 10; ++guard) {
      auto it = m.slots.find(slot);
      if (it == m.slots.end()) break;
      const std::string name = it->second.substr(16, it->second.find('/', 16) - 16);
      out.push_back(name);
      const auto* progs = s.programs("eth0", model::Hook::XdpIngress);
      std::string array = "next";
      for (const auto& r : *progs) {
        if (r.object_key == it->second) array = r.spec.map_name;
      }
      slot = it->second + "/" + array;
    }
    return out;
  }

  Injector inj_;
  FakeKernel kernel_;
  testing::FakePackages packages_;
  store::MemoryStore store_;
  testing::FakeCompanions companions_;
  std::unique_ptr<engine::Engine> engine_;
};

BpfProgram chained(std::string name, int64_t seq) {
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
  return p;
}

BpfProgram self_loading(int64_t seq) {
  BpfProgram p;
  p.name = "ratelimiting";
  p.seq_id = seq;
  p.artifact = "l3af_ratelimiting.tar.gz";
  p.version = "1.0";
  p.admin_status = "enabled";
  p.prog_type = "xdp";
  p.map_name = "xdp_rl_ingress_next_prog";
  p.cmd_start = "ratelimiting";
  p.user_program_daemon = true;
  p.start_args = json::Object{{"ports", json::Value(std::string("80,8080,8081"))},
                              {"rate", json::Value(std::string("2"))}};
  return p;
}

L3afBpfPrograms chain_entry(std::vector<BpfProgram> xdp) {
  L3afBpfPrograms e;
  e.host_name = kHost;
  e.iface = "eth0";
  model::BpfPrograms bp;
  bp.xdp_ingress = std::move(xdp);
  e.bpf_programs = bp;
  return e;
}

TEST(SelfLoadingEngine, InsertedIntoTheMiddleOfAChainThroughAStagingArrayAndRemovedAgain) {
  SelfLoadHarness t;
  ASSERT_TRUE(t.run(AddPrograms{{chain_entry({chained("first", 1), chained("last", 3)})}}));
  ASSERT_EQ(t.reachable(), (std::vector<std::string>{"first", "last"}));
  t.inj_.reset_count();
  ASSERT_TRUE(t.run(AddPrograms{{chain_entry({self_loading(2)})}}));
  EXPECT_EQ(t.reachable(), (std::vector<std::string>{"first", "ratelimiting", "last"}));
  const auto running = t.companions_.running();
  ASSERT_EQ(running.size(), 1u);
  const auto& req = running.begin()->second;
  ASSERT_TRUE(req.map_name.has_value()) << "--map-name for a self-loading program";
  EXPECT_EQ(req.map_name->parent_path(), "/sys/fs/bpf/eth0/ratelimiting/1_0");
  EXPECT_EQ(req.map_name->filename().string().rfind("l3afd_staging_", 0), 0u);
  EXPECT_FALSE(t.kernel_.model().pins.contains(req.map_name->string()))
      << "the staging array is removed after the take-over";
  const auto& log = t.inj_.log();
  EXPECT_LT(position(log, "create staging"), position(log, "start companion"));
  EXPECT_LT(position(log, "start companion"), position(log, "take self-loaded"));
  const auto* progs = t.engine_->snapshot()->state.programs("eth0", model::Hook::XdpIngress);
  ASSERT_EQ(progs->size(), 3u);
  EXPECT_NE(progs->at(1).prog_id, 0u) << "the taken-over program's id";
  EXPECT_EQ(progs->at(1).paths.prog_pin, "/sys/fs/bpf/progs/eth0/ratelimiting/1_0/self_loaded_xdp");

  ASSERT_TRUE(t.run(DeletePrograms{{[] {
    model::L3afBpfProgramNames n;
    n.host_name = kHost;
    n.iface = "eth0";
    model::BpfProgramNames bn;
    bn.xdp_ingress = std::vector<std::string>{"ratelimiting"};
    n.bpf_programs = bn;
    return n;
  }()}}));
  EXPECT_EQ(t.reachable(), (std::vector<std::string>{"first", "last"}));
  EXPECT_TRUE(t.companions_.running().empty()) << "its binary is stopped";
  for (const auto& pin : t.kernel_.model().pins) {
    EXPECT_EQ(pin.find("ratelimiting"), std::string::npos) << "left behind: " << pin;
  }
}

TEST(SelfLoadingEngine, EveryStepOfTheInsertRollsBackExactly) {
  int calls = 0;
  std::vector<std::string> log;
  {
    SelfLoadHarness t;
    ASSERT_TRUE(t.run(AddPrograms{{chain_entry({chained("first", 1), chained("last", 3)})}}));
    t.inj_.reset_count();
    ASSERT_TRUE(t.run(AddPrograms{{chain_entry({self_loading(2)})}}));
    calls = t.inj_.calls();
    log = t.inj_.log();
  }
  for (int k = 1; k <= calls; ++k) {
    bool after_commit = false;
    for (int i = 0; i < k - 1; ++i)
      after_commit |= log.at(static_cast<std::size_t>(i)) == "save state";
    if (after_commit) continue;
    SCOPED_TRACE("failure at call " + std::to_string(k) + " (" + log.at(k - 1) + ")");
    SelfLoadHarness t;
    ASSERT_TRUE(t.run(AddPrograms{{chain_entry({chained("first", 1), chained("last", 3)})}}));
    const auto state_before = t.engine_->snapshot()->state;
    const auto store_before = t.store_.state();
    const auto reach_before = t.reachable();
    t.inj_.fail_call(k);
    auto st = t.run(AddPrograms{{chain_entry({self_loading(2)})}});
    t.inj_.fail_call(0);
    ASSERT_FALSE(st);
    EXPECT_EQ(t.engine_->snapshot()->state, state_before);
    EXPECT_EQ(t.store_.state(), store_before);
    EXPECT_EQ(t.reachable(), reach_before);
    EXPECT_TRUE(t.companions_.running().empty());
  }
}

TEST(SelfLoadingEngine, ASelfLoadingProgramNeedsMapNameUnderChaining) {
  SelfLoadHarness t;
  auto p = self_loading(1);
  p.map_name.clear();
  auto st = t.run(AddPrograms{{chain_entry({p})}});
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().items.at(0).field, "/0/bpf_programs/xdp_ingress/0/map_name");
}

}  // namespace
}  // namespace l3afd

namespace l3afd {
namespace {

TEST(CompanionHealth, ACompanionWhoseCmdStatusStopsReportingRunningIsStoppedAndRestarted) {
  Injector inj;
  FakeKernel kernel(inj);
  testing::FakePackages packages(inj);
  store::MemoryStore store(&inj);
  testing::FakeCompanions companions(inj);
  kernel.add_interface("eth0", 2);
  kernel.define_object("counter.bpf.o", {"counter", {{"config", 0, 1, 4, 8, 16, {}}}});
  engine::EngineConfig cfg;
  cfg.planner.default_repo_url = "file:///repo";
  cfg.planner.host_name = kHost;
  cfg.health_interval = std::chrono::milliseconds(20);
  cfg.restart_limits = {.max_restarts = 3,
                        .first_delay = std::chrono::milliseconds(10),
                        .max_delay = std::chrono::milliseconds(10),
                        .healthy_after = std::chrono::milliseconds(60000)};
  engine::Engine eng(cfg, kernel, packages, store, nullptr, &companions);
  auto p = limiter();
  p.cmd_status = "limiter";
  ASSERT_TRUE(eng.run_now(AddPrograms{{entry(p)}}));
  eng.start();
  const int first = companions.pid_of(kId);
  auto wait_for = [](auto pred) {
    for (int i = 0; i < 500 && !pred(); ++i) std::this_thread::sleep_for(milliseconds(10));
    return pred();
  };
  ASSERT_TRUE(wait_for([&] { return companions.status_checks() > 2; })) << "polled";
  EXPECT_EQ(companions.pid_of(kId), first) << "healthy: left alone";
  companions.set_unhealthy(kId, true);
  ASSERT_TRUE(wait_for([&] {
    return !companions.stopped().empty() && companions.pid_of(kId) != 0 &&
           companions.pid_of(kId) != first;
  }));
  companions.set_unhealthy(kId, false);
  EXPECT_EQ(companions.stopped().front(), kId);
  EXPECT_TRUE(wait_for([&] { return eng.snapshot()->companions.at(kId).restart_count >= 1; }));
  eng.stop();
}

}  // namespace
}  // namespace l3afd
