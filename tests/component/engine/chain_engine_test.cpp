// Engine with bpf-chaining-enabled + FakeKernel: chain operations through the API commands
// (add, insert, remove first/middle/last, reorder, upgrade, disable, delete all), roots loaded
// with the first program and removed with the last, refusals before anything is loaded, and
// exact rollback when any single step of a chained plan fails. The fake models prog-array
// slots, so "the chain" here is what the slots reach from the root; the real kernel and packets
// are covered by tests/kernel and tests/e2e.
#include <gtest/gtest.h>

#include <algorithm>

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
using model::Hook;
using model::L3afBpfPrograms;

constexpr const char* kHost = "testhost";
constexpr uint32_t kArray = 2;
constexpr uint32_t kProgArray = 3;

BpfProgram prog(std::string name, int64_t seq, std::string version = "1.0") {
  BpfProgram p;
  p.name = std::move(name);
  p.seq_id = seq;
  p.artifact = "l3af_" + p.name + ".tar.gz";
  p.version = std::move(version);
  p.admin_status = "enabled";
  p.prog_type = "xdp";
  p.object_file = "counter.bpf.o";
  p.entry_function_name = "counter";
  p.map_name = "next";
  p.map_args = std::vector<model::MapArg>{{"config", std::vector<model::KeyValue>{{1, 10}}}};
  return p;
}

L3afBpfPrograms entry(std::vector<BpfProgram> xdp, std::string iface = "eth0") {
  L3afBpfPrograms e;
  e.host_name = kHost;
  e.iface = std::move(iface);
  e.ipv4_address = "198.18.0.1";
  model::BpfPrograms bp;
  bp.xdp_ingress = std::move(xdp);
  e.bpf_programs = bp;
  return e;
}

model::L3afBpfProgramNames names(std::vector<std::string> xdp) {
  model::L3afBpfProgramNames n;
  n.host_name = kHost;
  n.iface = "eth0";
  model::BpfProgramNames bn;
  bn.xdp_ingress = std::move(xdp);
  n.bpf_programs = bn;
  return n;
}

struct ChainHarness {
  explicit ChainHarness(engine::ChainOrder order = engine::ChainOrder::MakeBeforeBreak)
      : kernel_(inj_), packages_(inj_), store_(&inj_) {
    kernel_.add_interface("eth0", 2);
    kernel_.define_object("counter.bpf.o", {"counter",
                                            {{"packets", 0, kArray, 4, 8, 1, {}},
                                             {"config", 0, 1, 4, 8, 16, {}},
                                             {"next", 0, kProgArray, 4, 4, 1, {}}}});
    kernel_.define_object("xdp_root.bpf.o",
                          {"xdp_root", {{"xdp_root_array", 0, kProgArray, 4, 4, 1, {}}}});
    engine::EngineConfig cfg;
    cfg.planner.default_repo_url = "file:///repo";
    cfg.planner.layout = layout::BpffsLayout("/sys/fs/bpf");
    cfg.planner.host_name = kHost;
    cfg.planner.chaining = true;
    cfg.planner.chain_order = order;
    cfg.chaining = true;
    cfg.root_names = {"xdp-root", "tc-root"};
    engine_ = std::make_unique<engine::Engine>(cfg, kernel_, packages_, store_);
  }
  void setup(const std::vector<engine::Command>& cmds) {
    for (const auto& c : cmds) ASSERT_TRUE(run(c));
  }
  Status run(const engine::Command& c) { return engine_->run_now(c); }
  const engine::AppliedState& state() { return engine_->snapshot()->state; }

  /// Names of the programs reachable from the root's slot in the fake kernel, in order.
  std::vector<std::string> reachable() {
    std::vector<std::string> out;
    const auto& s = state();
    auto it = s.ifaces.find("eth0");
    if (it == s.ifaces.end() || !it->second.roots.contains(Hook::XdpIngress)) return out;
    auto m = kernel_.model();
    if (m.attachments["eth0/xdpingress"] != it->second.roots.at(Hook::XdpIngress).object_key) {
      return {"<root not attached>"};
    }
    std::string slot = it->second.roots.at(Hook::XdpIngress).object_key + "/xdp_root_array";
    for (int guard = 0; guard < 40; ++guard) {
      auto sit = m.slots.find(slot);
      if (sit == m.slots.end()) break;
      const std::string& key = sit->second;
      out.push_back(key.substr(std::string("eth0/xdpingress/").size(),
                               key.find('/', std::string("eth0/xdpingress/").size()) -
                                   std::string("eth0/xdpingress/").size()));
      slot = key + "/next";
    }
    return out;
  }
  std::vector<std::string> recorded() {
    std::vector<std::string> out;
    if (const auto* p = state().programs("eth0", Hook::XdpIngress)) {
      for (const auto& r : *p) out.push_back(r.spec.name);
    }
    return out;
  }

  Injector inj_;
  FakeKernel kernel_;
  testing::FakePackages packages_;
  store::MemoryStore store_;
  std::unique_ptr<engine::Engine> engine_;
};

class ChainEngineTest : public ::testing::Test, protected ChainHarness {
 protected:
  /// Programs loaded in the fake = chain + root: nothing retired is left behind.
  void expect_only_live_loaded() {
    const auto* p = state().programs("eth0", Hook::XdpIngress);
    const std::size_t n = p == nullptr ? 0 : p->size();
    EXPECT_EQ(kernel_.live_programs(), n == 0 ? 0 : n + 1);
  }
};

using Names = std::vector<std::string>;

TEST_F(ChainEngineTest, FirstProgramBringsTheRootWhichGoesLiveLastAndPointsAtTheChain) {
  ASSERT_TRUE(run(AddPrograms{{entry({prog("b", 2), prog("a", 1), prog("c", 3)})}}));
  EXPECT_EQ(reachable(), (Names{"a", "b", "c"}));
  EXPECT_EQ(recorded(), (Names{"a", "b", "c"})) << "GET lists the chain in seq_id order";
  const auto& root = state().ifaces.at("eth0").roots.at(Hook::XdpIngress);
  EXPECT_EQ(root.spec.name, "xdp-root");
  auto m = kernel_.model();
  EXPECT_TRUE(m.pins.contains("/sys/fs/bpf/eth0/xdp-root/latest/xdp_root_array"));
  EXPECT_TRUE(m.pins.contains("/sys/fs/bpf/links/eth0/xdp-root/latest/xdp-root_xdp"));
  for (const auto& r : *state().programs("eth0", Hook::XdpIngress)) {
    EXPECT_EQ(m.map_pins["/sys/fs/bpf/eth0/" + r.spec.name + "/1_0/next"], r.object_key + "/next")
        << "MapNamePath names the live instance's private array";
  }
  // The root attach comes after every slot write: the real switch-over is the attach.
  const auto& log = inj_.log();
  auto attach = std::find_if(log.begin(), log.end(),
                             [](const std::string& s) { return s.rfind("attach", 0) == 0; });
  auto last_write = std::find_if(
      log.rbegin(), log.rend(), [](const std::string& s) { return s.rfind("write slot", 0) == 0; });
  ASSERT_NE(attach, log.end());
  EXPECT_LT(std::distance(log.begin(), last_write.base()), std::distance(log.begin(), attach) + 1);
  expect_only_live_loaded();
}

TEST_F(ChainEngineTest, InsertRemoveReorderUpgradeDisableAndDeleteAllKeepTheChainExact) {
  ASSERT_TRUE(run(AddPrograms{{entry({prog("a", 10), prog("c", 30)})}}));
  EXPECT_EQ(reachable(), (Names{"a", "c"}));
  const std::string a_key = state().programs("eth0", Hook::XdpIngress)->at(0).object_key;

  ASSERT_TRUE(run(AddPrograms{{entry({prog("b", 20)})}}));  // insert between
  EXPECT_EQ(reachable(), (Names{"a", "b", "c"}));
  EXPECT_EQ(state().programs("eth0", Hook::XdpIngress)->at(0).object_key, a_key)
      << "the common prefix is not rebuilt";
  expect_only_live_loaded();

  ASSERT_TRUE(run(AddPrograms{{entry({prog("d", 40)})}}));  // append
  EXPECT_EQ(reachable(), (Names{"a", "b", "c", "d"}));

  ASSERT_TRUE(run(DeletePrograms{{names({"b"})}}));  // remove middle
  EXPECT_EQ(reachable(), (Names{"a", "c", "d"}));
  expect_only_live_loaded();

  ASSERT_TRUE(run(DeletePrograms{{names({"d"})}}));  // remove last: c's slot is cleared
  EXPECT_EQ(reachable(), (Names{"a", "c"}));
  expect_only_live_loaded();

  ASSERT_TRUE(run(DeletePrograms{{names({"a"})}}));  // remove first: root[0] := c
  EXPECT_EQ(reachable(), (Names{"c"}));

  // Reorder and upgrade through update (declarative).
  ASSERT_TRUE(run(UpdatePrograms{{entry({prog("c", 30), prog("a", 10), prog("b", 20)})}}));
  EXPECT_EQ(reachable(), (Names{"a", "b", "c"}));
  ASSERT_TRUE(run(UpdatePrograms{{entry({prog("c", 5), prog("a", 10), prog("b", 20)})}}));
  EXPECT_EQ(reachable(), (Names{"c", "a", "b"}));
  EXPECT_EQ(recorded(), (Names{"c", "a", "b"}));
  expect_only_live_loaded();
  ASSERT_TRUE(run(UpdatePrograms{{entry({prog("c", 5), prog("a", 10, "2.0"), prog("b", 20)})}}));
  EXPECT_EQ(reachable(), (Names{"c", "a", "b"}));
  EXPECT_EQ(state().programs("eth0", Hook::XdpIngress)->at(1).spec.version, "2.0");
  EXPECT_TRUE(kernel_.model().map_pins.contains("/sys/fs/bpf/eth0/a/2_0/next"));
  expect_only_live_loaded();

  auto disabled = prog("a", 10, "2.0");
  disabled.admin_status = "disabled";
  ASSERT_TRUE(run(UpdatePrograms{{entry({prog("c", 5), disabled, prog("b", 20)})}}));
  EXPECT_EQ(reachable(), (Names{"c", "b"}));
  expect_only_live_loaded();

  ASSERT_TRUE(run(DeletePrograms{{names({"b", "c"})}}));
  EXPECT_TRUE(reachable().empty());
  EXPECT_FALSE(state().ifaces.at("eth0").roots.contains(Hook::XdpIngress)) << "root removed";
  auto m = kernel_.model();
  EXPECT_TRUE(m.attachments.empty());
  EXPECT_EQ(kernel_.live_programs(), 0u);
  EXPECT_TRUE(m.pins.empty()) << "no pin left: " << (m.pins.empty() ? "" : *m.pins.begin());
}

TEST_F(ChainEngineTest, MapArgsAndSeqIdOnlyChangesKeepTheInstanceAndItsMaps) {
  ASSERT_TRUE(run(AddPrograms{{entry({prog("a", 1), prog("b", 2)})}}));
  const auto keys = [&] {
    std::vector<std::string> k;
    for (const auto& r : *state().programs("eth0", Hook::XdpIngress)) k.push_back(r.object_key);
    return k;
  };
  const auto before = keys();
  auto a2 = prog("a", 1);
  a2.map_args = std::vector<model::MapArg>{{"config", std::vector<model::KeyValue>{{1, 99}}}};
  ASSERT_TRUE(run(UpdatePrograms{{entry({a2, prog("b", 7)})}}));
  EXPECT_EQ(keys(), before) << "map_args and a seq_id that keeps the order change nothing else";
  EXPECT_EQ(kernel_.model().map_contents["/sys/fs/bpf/eth0/a/1_0/config"].at(1), 99u);
  EXPECT_EQ(state().programs("eth0", Hook::XdpIngress)->at(1).spec.seq_id, 7);
}

TEST_F(ChainEngineTest, RebuiltInstancesOfTheSameVersionShareTheirStateMaps) {
  ASSERT_TRUE(run(AddPrograms{{entry({prog("a", 1), prog("b", 2)})}}));
  // Insert x between: a is kept (prefix) ... reorder so that a must be rebuilt: move a last.
  ASSERT_TRUE(run(UpdatePrograms{{entry({prog("a", 3), prog("b", 2)})}}));
  EXPECT_EQ(reachable(), (Names{"b", "a"}));
  auto m = kernel_.model();
  std::size_t owners = 0;
  for (const auto& [key, pins] : m.objects) {
    if (std::find(pins.begin(), pins.end(), "/sys/fs/bpf/eth0/a/1_0/packets") != pins.end())
      ++owners;
  }
  EXPECT_EQ(owners, 1u) << "the retired instance is gone, the new one uses the same pinned map";
  EXPECT_EQ(m.map_contents.count("/sys/fs/bpf/eth0/a/1_0/config"), 1u);
}

TEST_F(ChainEngineTest, VersionUpgradeCarriesTheStateOfSameNamedMaps) {
  ASSERT_TRUE(run(AddPrograms{{entry({prog("a", 1), prog("b", 2)})}}));
  const std::string b_key = state().programs("eth0", Hook::XdpIngress)->at(1).object_key;
  ASSERT_TRUE(kernel_.configure_maps(
      b_key, {model::MapArg{"packets", std::vector<model::KeyValue>{{0, 42}}}}, {}));
  ASSERT_TRUE(run(UpdatePrograms{{entry({prog("a", 1), prog("b", 2, "2.0")})}}));
  auto m = kernel_.model();
  EXPECT_EQ(m.map_contents["/sys/fs/bpf/eth0/b/2_0/packets"].at(0), 42u) << "carried over";
  EXPECT_EQ(m.map_contents["/sys/fs/bpf/eth0/b/2_0/config"].at(1), 10u) << "map_args still win";
  EXPECT_EQ(m.map_contents.count("/sys/fs/bpf/eth0/b/1_0/packets"), 0u) << "old version released";
}

TEST_F(ChainEngineTest, RefusalsHappenBeforeAnythingIsLoaded) {
  ASSERT_TRUE(run(AddPrograms{{entry({prog("a", 1)})}}));
  const auto before = kernel_.model();

  // A program without map_name cannot continue the chain.
  auto nomap = prog("m", 2);
  nomap.map_name.clear();
  inj_.reset_count();
  auto st = run(AddPrograms{{entry({nomap, prog("z", 3)})}});
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code, Errc::InvalidPayload);
  ASSERT_FALSE(st.error().items.empty());
  EXPECT_EQ(st.error().items[0].field, "/0/bpf_programs/xdp_ingress/0/map_name");
  EXPECT_EQ(inj_.calls(), 0);
  // ...but it may be the last one.
  ASSERT_TRUE(run(AddPrograms{{entry({nomap})}}));
  EXPECT_EQ(reachable(), (Names{"a", "m"}));
  // Appending behind it is refused, naming the program that cannot pass packets on.
  inj_.reset_count();
  st = run(AddPrograms{{entry({prog("z", 3)})}});
  ASSERT_FALSE(st);
  EXPECT_NE(st.error().message.find("no map_name"), std::string::npos) << st.error().message;
  EXPECT_EQ(inj_.calls(), 0);
  ASSERT_TRUE(run(DeletePrograms{{names({"m"})}}));
  EXPECT_EQ(kernel_.model(), before);

  // Longer than the tail-call limit: 400 before any fetch.
  std::vector<BpfProgram> many;
  for (int i = 0; i < 34; ++i) many.push_back(prog("p" + std::to_string(i), i + 2));
  inj_.reset_count();
  st = run(UpdatePrograms{{entry(many)}});
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code, Errc::InvalidPayload);
  EXPECT_EQ(inj_.calls(), 0);
  EXPECT_EQ(kernel_.model(), before);
  many.pop_back();
  many.pop_back();  // 32 + a = 33: allowed
  many.insert(many.begin(), prog("a", 1));
  EXPECT_TRUE(run(UpdatePrograms{{entry(many)}}));
  EXPECT_EQ(reachable().size(), 33u);

  // seq_id already used on the hook, and same name with another definition: 409.
  st = run(AddPrograms{{entry({prog("other", 1)})}});
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code, Errc::Conflict);
  st = run(AddPrograms{{entry({prog("a", 1, "9.9")})}});
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code, Errc::Conflict);
}

// Every step of every chained plan: a failure leaves kernel model (incl. slots and array pins),
// cache, store and state exactly as before.
struct Scenario {
  std::string name;
  std::vector<engine::Command> setup;
  engine::Command op;
};

std::vector<Scenario> scenarios() {
  auto three = AddPrograms{{entry({prog("a", 1), prog("b", 2), prog("c", 3)})}};
  return {
      {"first_programs", {}, three},
      {"insert_between",
       {AddPrograms{{entry({prog("a", 1), prog("c", 3)})}}},
       AddPrograms{{entry({prog("b", 2)})}}},
      {"remove_middle", {three}, DeletePrograms{{names({"b"})}}},
      {"remove_last", {three}, DeletePrograms{{names({"c"})}}},
      {"remove_all", {three}, DeletePrograms{{names({"a", "b", "c"})}}},
      {"reorder", {three}, UpdatePrograms{{entry({prog("a", 1), prog("b", 5), prog("c", 3)})}}},
      {"upgrade_first",
       {three},
       UpdatePrograms{{entry({prog("a", 1, "2.0"), prog("b", 2), prog("c", 3)})}}},
  };
}

TEST(ChainEngineRollback, EveryStepOfEveryChainedPlanRollsBackExactly) {
  for (const auto& sc : scenarios()) {
    int calls = 0;
    std::vector<std::string> log;
    {
      ChainHarness t;
      t.setup(sc.setup);
      t.inj_.reset_count();
      ASSERT_TRUE(t.run(sc.op)) << sc.name;
      calls = t.inj_.calls();
      log = t.inj_.log();
    }
    ASSERT_GT(calls, 1) << sc.name;
    for (int k = 1; k <= calls; ++k) {
      ChainHarness t;
      t.setup(sc.setup);
      const auto model_before = t.kernel_.model();
      const auto chain_before = t.reachable();
      const auto cache_before = t.packages_.cache();
      const auto store_before = t.store_.state();
      const auto state_before = t.state();
      const std::string failing = log.at(static_cast<std::size_t>(k - 1));
      const bool after_commit =
          std::find(log.begin(), log.begin() + (k - 1), "save state") != log.begin() + (k - 1);
      t.inj_.fail_call(k);
      auto st = t.run(sc.op);
      t.inj_.fail_call(0);
      SCOPED_TRACE(sc.name + ": failure injected at call " + std::to_string(k) + " (" + failing +
                   ")");
      if (failing.rfind("unload", 0) == 0 || failing.rfind("remove package", 0) == 0 ||
          (after_commit && failing == "lock for change")) {
        EXPECT_TRUE(st);  // release (or its change lock) after the commit: the change stands
        continue;
      }
      ASSERT_FALSE(st);
      EXPECT_FALSE(st.error().step.empty());
      EXPECT_EQ(t.reachable(), chain_before);
      EXPECT_EQ(t.kernel_.model(), model_before);
      EXPECT_EQ(t.packages_.cache(), cache_before);
      EXPECT_EQ(t.store_.state(), store_before);
      EXPECT_EQ(t.state(), state_before);
    }
  }
}

}  // namespace
}  // namespace l3afd
