// sweep_residue on a real directory tree standing in for bpffs (pins are plain files here;
// the kernel side of removing a link pin is covered by the e2e crash test).
#include "daemon/residue.h"

#include <gtest/gtest.h>

#include <fstream>

namespace fs = std::filesystem;
using namespace l3afd;

namespace {

class ResidueTest : public ::testing::Test {
 protected:
  void SetUp() override {
    base_ = fs::temp_directory_path() / ("l3afd-residue-" + std::to_string(::getpid()));
    fs::remove_all(base_);
    fs::create_directories(base_);
  }
  void TearDown() override { fs::remove_all(base_); }
  void touch(const fs::path& p) {
    fs::create_directories(p.parent_path());
    std::ofstream(p) << "x";
  }
  /// Creates every pin of an instance the way the daemon lays it out and returns the record
  /// the engine's ownership journal would hold for it.
  engine::OwnedInstance make_instance(const std::string& iface, model::Hook h,
                                      const std::string& name, const std::string& version) {
    layout::BpffsLayout l(base_);
    auto p = l.program(iface, h, name, version, "fn", "");
    EXPECT_TRUE(p);
    touch(p->prog_pin);
    touch(p->link_pin);
    touch(p->map_dir / "counter");
    return engine::OwnedInstance{iface, *p};
  }
  engine::Snapshot keep_one(const std::string& iface, model::Hook h, const std::string& name,
                            const std::string& version) {
    engine::Snapshot s;
    engine::ProgramRecord r;
    r.spec.name = name;
    r.spec.version = version;
    auto p = layout::BpffsLayout(base_).program(iface, h, name, version, "fn", "");
    EXPECT_TRUE(p);
    r.paths = *p;  // the engine always records an instance's paths
    s.state.ifaces[iface].hooks[h].push_back(r);
    return s;
  }
  fs::path base_;
};

TEST_F(ResidueTest, RemovesInstancesNotInTheStateAndKeepsTheOthers) {
  auto recorded = std::vector{make_instance("eth0", model::Hook::XdpIngress, "kept", "1.0"),
                              make_instance("eth0", model::Hook::TcIngress, "stale", "2.0"),
                              make_instance("eth1", model::Hook::XdpIngress, "stale", "2.0")};
  touch(base_ / "eth0" / "foreign-tool" / "map");  // not ours: never touched
  layout::BpffsLayout l(base_);
  auto removed =
      daemon::sweep_residue(l, keep_one("eth0", model::Hook::XdpIngress, "kept", "1.0"), recorded);
  EXPECT_FALSE(removed.empty());
  EXPECT_TRUE(fs::exists(base_ / "progs/eth0/kept/1_0/fn_xdp"));
  EXPECT_TRUE(fs::exists(base_ / "links/eth0/kept/1_0/kept_xdp"));
  EXPECT_TRUE(fs::exists(base_ / "eth0/kept/1_0/counter"));
  EXPECT_FALSE(fs::exists(base_ / "progs/eth0/stale"));
  EXPECT_FALSE(fs::exists(base_ / "links/eth0/stale"));
  EXPECT_FALSE(fs::exists(base_ / "tc/globals/eth0/stale/2_0"));
  EXPECT_FALSE(fs::exists(base_ / "eth1/stale/2_0"));
  EXPECT_FALSE(fs::exists(base_ / "links/eth1")) << "empty directories go too";
  EXPECT_TRUE(fs::exists(base_ / "eth0/foreign-tool/map"));
}

TEST_F(ResidueTest, SameNameOnAnotherHookKindIsNotKeptByAccident) {
  auto recorded = std::vector{make_instance("eth0", model::Hook::XdpIngress, "p", "1.0"),
                              make_instance("eth0", model::Hook::TcEgress, "p", "1.0")};
  layout::BpffsLayout l(base_);
  daemon::sweep_residue(l, keep_one("eth0", model::Hook::XdpIngress, "p", "1.0"), recorded);
  EXPECT_TRUE(fs::exists(base_ / "eth0/p/1_0/counter"));
  EXPECT_FALSE(fs::exists(base_ / "tc/globals/eth0/p/1_0"));
  EXPECT_FALSE(fs::exists(base_ / "links/eth0/p/1_0/p_tc_egress"));
  EXPECT_TRUE(fs::exists(base_ / "links/eth0/p/1_0/p_xdp"));
}

TEST_F(ResidueTest, PendingEntriesAreKept) {
  auto recorded = std::vector{make_instance("eth9", model::Hook::XdpIngress, "waiting", "1.0")};
  engine::Snapshot s;
  model::L3afBpfPrograms e;
  e.iface = "eth9";
  model::BpfProgram p;
  p.name = "waiting";
  p.version = "1.0";
  e.bpf_programs = model::BpfPrograms{std::vector<model::BpfProgram>{p}, {}, {}, {}};
  s.pending.push_back(e);
  layout::BpffsLayout l(base_);
  EXPECT_TRUE(daemon::sweep_residue(l, s, recorded).empty());
  EXPECT_TRUE(fs::exists(base_ / "eth9/waiting/1_0/counter"));
}

TEST_F(ResidueTest, NothingToDoOnAnEmptyBase) {
  layout::BpffsLayout l(base_ / "does-not-exist");
  EXPECT_TRUE(daemon::sweep_residue(l, engine::Snapshot{}, {}).empty());
}

}  // namespace

namespace {

TEST_F(ResidueTest, PendingInterfacesAreNotSweptAndPinnedLinksAreFound) {
  auto recorded =
      std::vector{make_instance("eth3", model::Hook::XdpIngress, "old", "latest"),  // still running
                  make_instance("eth4", model::Hook::TcEgress, "t", "1.0")};
  engine::Snapshot s;
  model::L3afBpfPrograms e;
  e.iface = "eth3";
  model::BpfProgram p;
  p.name = "old";
  p.version = "1.0";  // the store names another version than the one still attached
  e.bpf_programs = model::BpfPrograms{std::vector<model::BpfProgram>{p}, {}, {}, {}};
  s.pending.push_back(e);
  layout::BpffsLayout l(base_);
  auto links = daemon::find_pinned_links(l);
  ASSERT_EQ(links.size(), 2u);
  EXPECT_EQ(links.at({"eth3", model::Hook::XdpIngress}), base_ / "links/eth3/old/latest/old_xdp");
  EXPECT_EQ(links.at({"eth4", model::Hook::TcEgress}), base_ / "links/eth4/t/1_0/t_tc_egress");
  daemon::sweep_residue(l, s, recorded);
  EXPECT_TRUE(fs::exists(base_ / "links/eth3/old/latest/old_xdp")) << "pending interface untouched";
  EXPECT_FALSE(fs::exists(base_ / "links/eth4")) << "not in any state: swept";
}

}  // namespace

namespace {

// The issue-8 scenario: a daemon started on a bpffs holding another instance's programs (same
// layout, other interfaces or the same ones) must not delete them as "residue".
TEST_F(ResidueTest, PinsTheJournalDoesNotRecordAreNeverRemoved) {
  auto ours = make_instance("eth0", model::Hook::XdpIngress, "mine", "1.0");
  make_instance("eth0", model::Hook::TcIngress, "theirs", "1.0");  // another daemon's
  make_instance("eth5", model::Hook::XdpIngress, "theirs", "2.0");
  layout::BpffsLayout l(base_);
  auto removed = daemon::sweep_residue(l, engine::Snapshot{}, {ours});
  EXPECT_FALSE(fs::exists(base_ / "links/eth0/mine")) << "recorded and unused: removed";
  EXPECT_FALSE(fs::exists(base_ / "eth0/mine"));
  EXPECT_TRUE(fs::exists(base_ / "links/eth0/theirs/1_0/theirs_tc_ingress"));
  EXPECT_TRUE(fs::exists(base_ / "progs/eth0/theirs/1_0/fn_tc"));
  EXPECT_TRUE(fs::exists(base_ / "tc/globals/eth0/theirs/1_0/counter"));
  EXPECT_TRUE(fs::exists(base_ / "links/eth5/theirs/2_0/theirs_xdp"));
  EXPECT_TRUE(fs::exists(base_ / "eth5/theirs/2_0/counter"));
  EXPECT_EQ(removed.size(), 3u) << "link pin, program pin, map directory of 'mine'";
}

// A damaged journal cannot widen the sweep: records that do not have an instance's shape are
// skipped, whatever they name.
TEST_F(ResidueTest, RecordsWithoutTheLayoutsShapeAreSkipped) {
  auto real = make_instance("eth0", model::Hook::XdpIngress, "p", "1.0");
  auto parent = real;
  parent.paths.map_dir = base_ / "eth0";  // the interface's whole map tree
  auto other_iface = real;
  other_iface.iface = "eth7";  // paths of eth0 under another interface's name
  auto outside = real;
  outside.paths.prog_pin = "/etc/passwd";
  layout::BpffsLayout l(base_);
  EXPECT_TRUE(daemon::sweep_residue(l, engine::Snapshot{}, {parent, other_iface, outside}).empty());
  EXPECT_TRUE(fs::exists(base_ / "eth0/p/1_0/counter"));
  EXPECT_TRUE(fs::exists(base_ / "links/eth0/p/1_0/p_xdp"));
  EXPECT_TRUE(fs::exists(base_ / "progs/eth0/p/1_0/fn_xdp"));
}

// Companion links (`*_tp`) of a recorded, unused instance go with it.
TEST_F(ResidueTest, CompanionLinksOfARecordedInstanceAreRemoved) {
  auto inst = make_instance("eth0", model::Hook::XdpIngress, "cl", "1.0");
  touch(inst.paths.link_pin.parent_path() / "tracker_tp");
  layout::BpffsLayout l(base_);
  daemon::sweep_residue(l, engine::Snapshot{}, {inst});
  EXPECT_FALSE(fs::exists(base_ / "links/eth0/cl"));
}

}  // namespace
