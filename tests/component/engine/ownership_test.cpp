// The engine's ownership record (engine/ownership.h) with FakeKernel: intent is recorded before
// the kernel is touched, what a failed plan created is no longer recorded after its rollback,
// retiring instances stay recorded until they are released, and a record that cannot be
// written refuses the change with nothing done.
#include <gtest/gtest.h>

#include "component/engine/fakes.h"
#include "engine/engine.h"
#include "kernel/fake/fake_kernel.h"
#include "support/memory_store.h"

namespace l3afd {
namespace {

constexpr const char* kHost = "testhost";

/// Keeps every record written, with the number of bpffs pins the fake kernel had right then.
class RecordingJournal final : public engine::OwnershipJournal {
 public:
  explicit RecordingJournal(const kernel::fake::FakeKernel& k) : kernel_(k) {}
  Status record(const std::vector<engine::OwnedInstance>& owned) override {
    if (fail_) return fail(Errc::Io, "journal disk full");
    writes.push_back({owned, kernel_.model().pins.size()});
    return ok();
  }
  Result<std::optional<std::vector<engine::OwnedInstance>>> load() override {
    if (writes.empty()) return std::optional<std::vector<engine::OwnedInstance>>{};
    return std::optional(writes.back().owned);
  }
  struct Write {
    std::vector<engine::OwnedInstance> owned;
    std::size_t pins_then = 0;
  };
  std::vector<Write> writes;
  bool fail_ = false;

 private:
  const kernel::fake::FakeKernel& kernel_;
};

model::BpfProgram prog(const std::string& version) {
  model::BpfProgram p;
  p.name = "counter";
  p.seq_id = 1;
  p.artifact = "l3af_counter.tar.gz";
  p.version = version;
  p.admin_status = "enabled";
  p.prog_type = "xdp";
  p.object_file = "counter.bpf.o";
  p.entry_function_name = "counter";
  return p;
}

model::L3afBpfPrograms entry(const std::string& version) {
  model::L3afBpfPrograms e;
  e.host_name = kHost;
  e.iface = "eth0";
  e.ipv4_address = "198.18.0.1";
  model::BpfPrograms bp;
  bp.xdp_ingress = std::vector<model::BpfProgram>{prog(version)};
  e.bpf_programs = bp;
  return e;
}

class OwnershipTest : public ::testing::Test {
 protected:
  OwnershipTest() : kernel_(inj_), packages_(inj_), store_(&inj_), journal_(kernel_) {
    kernel_.add_interface("eth0", 2);
    kernel_.define_object("counter.bpf.o", {"counter", {{"packets", 0, 2, 4, 8, 1, {}}}});
  }
  void make(std::chrono::milliseconds grace) {
    engine::EngineConfig cfg;
    cfg.planner.default_repo_url = "file:///repo";
    cfg.planner.host_name = kHost;
    cfg.retire_grace = grace;
    engine_ = std::make_unique<engine::Engine>(cfg, kernel_, packages_, store_, &journal_);
  }
  static std::string v_of(const engine::OwnedInstance& o) {
    return o.paths.prog_pin.parent_path().filename().string();
  }

  kernel::fake::Injector inj_;
  kernel::fake::FakeKernel kernel_;
  testing::FakePackages packages_;
  store::MemoryStore store_;
  RecordingJournal journal_;
  std::unique_ptr<engine::Engine> engine_;
};

TEST_F(OwnershipTest, IntentIsRecordedBeforeTheKernelIsTouched) {
  make(std::chrono::milliseconds(0));
  ASSERT_TRUE(engine_->run_now(engine::AddPrograms{{entry("1.0")}}));
  ASSERT_GE(journal_.writes.size(), 2u);
  const auto& intent = journal_.writes.front();
  EXPECT_EQ(intent.pins_then, 0u) << "recorded before any pin existed";
  ASSERT_EQ(intent.owned.size(), 1u);
  EXPECT_EQ(intent.owned[0].paths.link_pin, "/sys/fs/bpf/links/eth0/counter/1_0/counter_xdp");
  EXPECT_EQ(journal_.writes.back().owned, engine::owned_by(engine_->snapshot()->state));
}

TEST_F(OwnershipTest, AFailedPlanIsNoLongerRecordedAfterItsRollback) {
  make(std::chrono::milliseconds(0));
  inj_.fail_call(3);  // fetch, load, then the failure (configure or attach)
  ASSERT_FALSE(engine_->run_now(engine::AddPrograms{{entry("1.0")}}));
  ASSERT_GE(journal_.writes.size(), 2u);
  EXPECT_EQ(journal_.writes.front().owned.size(), 1u) << "intent recorded";
  EXPECT_TRUE(journal_.writes.back().owned.empty()) << "rolled back: nothing owned";
  EXPECT_TRUE(kernel_.model().pins.empty());
}

TEST_F(OwnershipTest, RetiringInstancesStayRecordedUntilReleased) {
  make(std::chrono::hours(1));  // released only when the engine stops
  ASSERT_TRUE(engine_->run_now(engine::AddPrograms{{entry("1.0")}}));
  ASSERT_TRUE(engine_->run_now(engine::UpdatePrograms{{entry("2.0")}}));
  std::set<std::string> versions;
  for (const auto& o : journal_.writes.back().owned) versions.insert(v_of(o));
  EXPECT_EQ(versions, (std::set<std::string>{"1_0", "2_0"}))
      << "1.0 left the data path but is not unloaded yet";
  engine_->stop();  // flushes the retiring queue
  versions.clear();
  for (const auto& o : journal_.writes.back().owned) versions.insert(v_of(o));
  EXPECT_EQ(versions, (std::set<std::string>{"2_0"}));
}

TEST_F(OwnershipTest, AnUnwritableRecordRefusesTheChangeWithNothingDone) {
  make(std::chrono::milliseconds(0));
  journal_.fail_ = true;
  auto st = engine_->run_now(engine::AddPrograms{{entry("1.0")}});
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code, Errc::Io);
  EXPECT_NE(st.error().to_string().find("record intent"), std::string::npos)
      << st.error().to_string();
  EXPECT_EQ(inj_.log(), std::vector<std::string>{"lock for change"})
      << "no package, kernel or store call";
  EXPECT_FALSE(kernel_.lock_held()) << "the lock is given back";
  EXPECT_TRUE(kernel_.model().pins.empty());
  EXPECT_TRUE(engine_->snapshot()->state.ifaces.empty());
}

TEST_F(OwnershipTest, InheritedRecordsAreKeptUntilSettled) {
  make(std::chrono::milliseconds(0));
  layout::BpffsLayout l("/sys/fs/bpf");
  engine::OwnedInstance old{"eth0",
                            *l.program("eth0", model::Hook::XdpIngress, "old", "0.9", "fn", "")};
  engine_->inherit_owned({old});
  ASSERT_TRUE(engine_->run_now(engine::AddPrograms{{entry("1.0")}}));
  EXPECT_EQ(journal_.writes.back().owned.size(), 2u) << "a restore does not drop the old record";
  ASSERT_TRUE(engine_->settle_owned());
  ASSERT_EQ(journal_.writes.back().owned.size(), 1u);
  EXPECT_EQ(v_of(journal_.writes.back().owned[0]), "1_0");
}

// docs/chain-protocol.md §7: every kernel change — the plan and each release batch — happens while
// the bpffs change lock is held, and the lock is not held between changes.
TEST_F(OwnershipTest, EveryChangeRunsUnderTheChangeLock) {
  make(std::chrono::milliseconds(0));
  ASSERT_TRUE(engine_->run_now(engine::AddPrograms{{entry("1.0")}}));
  ASSERT_TRUE(engine_->run_now(engine::UpdatePrograms{{entry("2.0")}}));  // + release batch
  ASSERT_TRUE(engine_->run_now(engine::UpdatePrograms{{}}));
  EXPECT_TRUE(kernel_.unlocked_changes().empty())
      << "first change without the lock: " << kernel_.unlocked_changes().front();
  EXPECT_GE(kernel_.lock_acquisitions(), 5) << "three plans and two release batches";
  EXPECT_FALSE(kernel_.lock_held());
}

// Another process holding the lock: the change is refused before anything is done, names the
// stage, and can be retried once the lock is free.
TEST_F(OwnershipTest, ALockHeldElsewhereRefusesTheChangeWithNothingDone) {
  make(std::chrono::milliseconds(0));
  auto other = kernel_.lock_for_change();  // "another process"
  ASSERT_TRUE(other);
  inj_.reset_count();
  auto st = engine_->run_now(engine::AddPrograms{{entry("1.0")}});
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code, Errc::Timeout);
  EXPECT_EQ(st.error().step, "lock bpffs");
  EXPECT_TRUE(kernel_.model().pins.empty());
  EXPECT_TRUE(journal_.writes.empty()) << "not even the intent was recorded";
  other = kernel::ChangeLock{};
  EXPECT_TRUE(engine_->run_now(engine::AddPrograms{{entry("1.0")}}));
}

}  // namespace
}  // namespace l3afd
