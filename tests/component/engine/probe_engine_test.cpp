// Engine + FakeKernel: bpf_programs.probes (docs/compatibility.md §6.2-§6.4, "Ours"): global
// records listed on every interface's GET and repeated by the store, add merges by name
// (identical no-op, another definition 409), update upserts, delete removes by name, a kprobe
// object is refused before anything is loaded, restore adopts pinned probe links, and every
// step rolls back exactly.
#include <gtest/gtest.h>

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

constexpr const char* kHost = "testhost";

BpfProgram probe(std::string name = "tp-counter", std::string object = "probes.bpf.o") {
  BpfProgram p;
  p.name = std::move(name);
  p.artifact = "l3af_" + p.name + ".tar.gz";
  p.version = "1.0";
  p.admin_status = "enabled";
  p.prog_type = "tracepoint";
  p.object_file = std::move(object);
  p.monitor_maps = std::vector<model::MonitorMap>{{"counts", 0, "scalar"}};
  return p;
}

L3afBpfPrograms entry(std::string iface, std::vector<BpfProgram> probes) {
  L3afBpfPrograms e;
  e.host_name = kHost;
  e.iface = std::move(iface);
  model::BpfPrograms bp;
  bp.probes = std::move(probes);
  e.bpf_programs = bp;
  return e;
}

model::L3afBpfProgramNames probe_names(std::vector<std::string> n) {
  model::L3afBpfProgramNames out;
  out.host_name = kHost;
  out.iface = "eth0";
  model::BpfProgramNames bn;
  bn.probes = std::move(n);
  out.bpf_programs = bn;
  return out;
}

struct Harness {
  Harness() : kernel_(inj_), packages_(inj_), store_(&inj_) {
    kernel_.add_interface("eth0", 2);
    kernel_.add_interface("eth1", 3);
    kernel_.define_object("probes.bpf.o",
                          {.entry_function = "",
                           .maps = {{"counts", 0, 2, 4, 8, 1, {}}},
                           .programs = {{"on_getppid", "tracepoint/syscalls/sys_enter_getppid"},
                                        {"on_target", "uprobe//usr/bin/true:main"}}});
    kernel_.define_object("kprobes.bpf.o", {.entry_function = "",
                                            .maps = {{"counts", 0, 2, 4, 8, 1, {}}},
                                            .programs = {{"on_unlink", "kprobe/do_unlinkat"}}});
    kernel_.set_kprobe_support(false);
    engine::EngineConfig cfg;
    cfg.planner.default_repo_url = "file:///repo";
    cfg.planner.layout = layout::BpffsLayout("/sys/fs/bpf");
    cfg.planner.host_name = kHost;
    cfg.root_names = {"xdp-root", "tc-root"};
    engine_ = std::make_unique<engine::Engine>(cfg, kernel_, packages_, store_);
  }
  Status run(const engine::Command& c) { return engine_->run_now(c); }
  const engine::AppliedState& state() { return engine_->snapshot()->state; }

  Injector inj_;
  FakeKernel kernel_;
  testing::FakePackages packages_;
  store::MemoryStore store_;
  std::unique_ptr<engine::Engine> engine_;
};

TEST(ProbeEngine, AddAttachesEveryProbeProgramPinsItsLinksAndListsItOnEveryInterface) {
  Harness t;
  ASSERT_TRUE(t.run(AddPrograms{{entry("eth0", {probe()}), entry("eth1", {})}}));
  ASSERT_EQ(t.state().probes.size(), 1u);
  const auto& r = t.state().probes.front();
  EXPECT_EQ(r.attached.size(), 2u) << "tracepoint and uprobe";
  EXPECT_EQ(r.paths.map_dir, "/sys/fs/bpf/tp-counter/1_0");
  EXPECT_EQ(r.paths.link_dir, "/sys/fs/bpf/links/tp-counter/1_0");
  const auto pins = t.kernel_.model().pins;
  EXPECT_TRUE(pins.contains("/sys/fs/bpf/links/tp-counter/1_0/on_getppid_tracepoint"));
  EXPECT_TRUE(pins.contains("/sys/fs/bpf/links/tp-counter/1_0/on_target_uprobe"));
  for (const char* iface : {"eth0", "eth1"}) {
    const auto v = engine::view_of(t.state(), kHost, iface);
    ASSERT_TRUE(v.bpf_programs->probes.has_value()) << iface;
    EXPECT_EQ(*v.bpf_programs->probes, std::vector<BpfProgram>{probe()}) << iface;
  }
  EXPECT_FALSE(engine::view_of(t.state(), kHost, "unknown").bpf_programs->probes.has_value())
      << "an unknown interface shows nulls";
  ASSERT_EQ(t.store_.state().size(), 2u);
  for (const auto& e : t.store_.state()) {
    EXPECT_EQ(e.bpf_programs->probes, std::optional(std::vector<BpfProgram>{probe()}))
        << "every store element repeats all probes";
  }
}

TEST(ProbeEngine, ReAddIsANoOpAnotherDefinitionIsAConflictAndUpdateUpserts) {
  Harness t;
  ASSERT_TRUE(t.run(AddPrograms{{entry("eth0", {probe()})}}));
  const auto model_before = t.kernel_.model();
  t.inj_.reset_count();
  ASSERT_TRUE(t.run(AddPrograms{{entry("eth0", {probe()})}}));
  EXPECT_EQ(t.inj_.calls(), 0);
  auto changed = probe();
  changed.version = "2.0";
  auto st = t.run(AddPrograms{{entry("eth0", {changed})}});
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code, Errc::Conflict);
  EXPECT_EQ(t.kernel_.model(), model_before);

  ASSERT_TRUE(t.run(UpdatePrograms{{entry("eth0", {changed})}}));
  ASSERT_EQ(t.state().probes.size(), 1u);
  EXPECT_EQ(t.state().probes.front().spec.version, "2.0");
  const auto pins = t.kernel_.model().pins;
  EXPECT_TRUE(pins.contains("/sys/fs/bpf/links/tp-counter/2_0/on_getppid_tracepoint"));
  EXPECT_FALSE(pins.contains("/sys/fs/bpf/links/tp-counter/1_0/on_getppid_tracepoint"))
      << "the old version is released";

  // An update that does not list the probe keeps it: probes are removed only by delete.
  ASSERT_TRUE(t.run(UpdatePrograms{{entry("eth0", {})}}));
  EXPECT_EQ(t.state().probes.size(), 1u);
  ASSERT_TRUE(t.run(DeletePrograms{{probe_names({"tp-counter"})}}));
  EXPECT_TRUE(t.state().probes.empty());
  for (const auto& pin : t.kernel_.model().pins) {
    EXPECT_EQ(pin.find("tp-counter"), std::string::npos) << "left behind: " << pin;
  }
}

TEST(ProbeEngine, AKprobeOnAKernelWithoutKprobesIs400BeforeAnythingIsLoaded) {
  Harness t;
  auto st = t.run(AddPrograms{{entry("eth0", {probe("kp", "kprobes.bpf.o")})}});
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code, Errc::InvalidPayload);
  ASSERT_FALSE(st.error().items.empty());
  EXPECT_EQ(st.error().items.front().field, "/0/bpf_programs/probes/0/object_file");
  EXPECT_NE(st.error().message.find("kprobe"), std::string::npos) << st.error().message;
  EXPECT_TRUE(t.kernel_.model().pins.empty());
  EXPECT_TRUE(t.state().probes.empty());
}

TEST(ProbeEngine, RestoreAdoptsPinnedProbeLinksInsteadOfAttachingAgain) {
  Harness t;
  ASSERT_TRUE(t.run(AddPrograms{{entry("eth0", {probe()})}}));
  const auto stored = t.store_.state();
  const auto key = t.state().probes.front().object_key;
  const auto model_before = t.kernel_.model();
  // A new daemon run: the fake forgets the key but keeps its pins (links keep running).
  t.kernel_.forget(key);
  engine::EngineConfig cfg;
  cfg.planner.default_repo_url = "file:///repo";
  cfg.planner.layout = layout::BpffsLayout("/sys/fs/bpf");
  cfg.planner.host_name = kHost;
  engine::Engine again(cfg, t.kernel_, t.packages_, t.store_);
  t.inj_.reset_count();
  ASSERT_TRUE(again.run_now(engine::RestoreState{stored, {}}));
  ASSERT_EQ(again.snapshot()->state.probes.size(), 1u);
  EXPECT_EQ(again.snapshot()->state.probes.front().attached.size(), 2u);
  for (const auto& op : t.inj_.log()) {
    EXPECT_EQ(op.rfind("load probes", 0), std::string::npos) << "not loaded again: " << op;
  }
  EXPECT_EQ(t.kernel_.model().pins, model_before.pins);
}

TEST(ProbeEngine, EveryStepOfAProbeAddRollsBackExactly) {
  int calls = 0;
  std::vector<std::string> log;
  {
    Harness t;
    t.inj_.reset_count();
    ASSERT_TRUE(t.run(AddPrograms{{entry("eth0", {probe()})}}));
    calls = t.inj_.calls();
    log = t.inj_.log();
  }
  ASSERT_GT(calls, 2);
  for (int k = 1; k <= calls; ++k) {
    bool after_commit = false;
    for (int i = 0; i < k - 1; ++i)
      after_commit |= log.at(static_cast<std::size_t>(i)) == "save state";
    if (after_commit) continue;
    SCOPED_TRACE("failure at call " + std::to_string(k) + " (" + log.at(k - 1) + ")");
    Harness t;
    const auto model_before = t.kernel_.model();
    t.inj_.fail_call(k);
    ASSERT_FALSE(t.run(AddPrograms{{entry("eth0", {probe()})}}));
    t.inj_.fail_call(0);
    EXPECT_EQ(t.kernel_.model(), model_before);
    EXPECT_TRUE(t.store_.state().empty());
    EXPECT_TRUE(t.state().probes.empty());
    EXPECT_TRUE(t.packages_.cache().empty());
  }
}

}  // namespace
}  // namespace l3afd
