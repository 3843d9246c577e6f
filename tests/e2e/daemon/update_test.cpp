// Update semantics over HTTP (docs/compatibility.md §6.2, §6.3): declarative update, version switch
// without detaching, map_args in place, idempotent add, 409 on a redefinition, interfaces kept.
#include <bpf/bpf.h>
#include <gtest/gtest.h>

#include <algorithm>

#include "core/unique_fd.h"
#include "e2e/daemon/daemon_fixture.h"
#include "model/l3af_json.h"

namespace l3afd::e2e {
namespace {

const std::string kIpv4 = "198.18.200.1";

/// The pin of map `name` under the bpffs (exactly one expected), "" if none.
std::string map_pin(const std::string& name) {
  std::string found;
  for (const auto& f : bpffs_files()) {
    if (f.ends_with("/" + name)) {
      EXPECT_TRUE(found.empty()) << "two pins of " << name << ": " << found << ", " << f;
      found = f;
    }
  }
  return found;
}

std::optional<uint64_t> read_u64(const std::string& pin, uint32_t key) {
  UniqueFd fd(bpf_obj_get(pin.c_str()));
  if (!fd) return std::nullopt;
  uint64_t v = 0;
  if (bpf_map_lookup_elem(fd.get(), &key, &v) != 0) return std::nullopt;
  return v;
}

class UpdateSemantics : public DaemonFixture {
 protected:
  void SetUp() override {
    ASSERT_EQ(a_.error(), "");
    ASSERT_EQ(b_.error(), "");
    ASSERT_TRUE(start_daemon());
  }
  std::vector<std::string> ifaces() const { return {a_.root_name(), b_.root_name()}; }

  testing::VethPair a_;
  testing::VethPair b_;
};

TEST_F(UpdateSemantics, ProgramMissingFromUpdateIsRemoved) {
  const std::string ifc = a_.root_name();
  auto r = add({entry(ifc, xdp_counter(), tc_counter())});
  ASSERT_EQ(r.status, 200) << r.body;
  auto dbg = bpfs(ifc);
  ASSERT_EQ(dbg.size(), 2u);
  const uint32_t xdp_id = dbg[0].prog_id;
  const uint32_t tc_id = dbg[1].prog_id;

  r = update({entry(ifc, xdp_counter())});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(get(ifc).body, model::encode(view(ifc, kIpv4, xdp_counter())));
  EXPECT_TRUE(prog_gone_eventually(tc_id));
  EXPECT_TRUE(prog_alive(xdp_id));
  auto att = attached_programs(ifc);
  EXPECT_EQ(att.xdp, xdp_id);
  EXPECT_TRUE(att.tcx_ingress.empty());
  dbg = bpfs(ifc);
  ASSERT_EQ(dbg.size(), 1u);
  EXPECT_EQ(dbg[0].prog_id, xdp_id);
  EXPECT_EQ(state_bytes(), model::encode_store({view(ifc, kIpv4, xdp_counter())}));
}

TEST_F(UpdateSemantics, VersionUpgradeSwitchesProgramOnTheSameLink) {
  const std::string ifc = a_.root_name();
  auto r = add({entry(ifc, xdp_counter("1.0"))});
  ASSERT_EQ(r.status, 200) << r.body;
  auto dbg = bpfs(ifc);
  ASSERT_EQ(dbg.size(), 1u);
  const auto old = dbg[0];

  r = update({entry(ifc, xdp_counter("latest"))});
  ASSERT_EQ(r.status, 200) << r.body;
  dbg = bpfs(ifc);
  ASSERT_EQ(dbg.size(), 1u);
  EXPECT_EQ(dbg[0].link_id, old.link_id) << "the program must be switched without a detach";
  EXPECT_NE(dbg[0].prog_id, old.prog_id);
  EXPECT_TRUE(prog_alive(dbg[0].prog_id));
  EXPECT_TRUE(prog_gone_eventually(old.prog_id));
  EXPECT_EQ(attached_programs(ifc).xdp, dbg[0].prog_id);
  EXPECT_EQ(get(ifc).body, model::encode(view(ifc, kIpv4, xdp_counter("latest"))));
  for (const auto& f : bpffs_files()) EXPECT_EQ(f.find("/1_0/"), std::string::npos) << f;
}

TEST_F(UpdateSemantics, MapArgsChangeAppliedInPlace) {
  const std::string ifc = a_.root_name();
  auto r = add({entry(ifc, xdp_counter("1.0", 7))});
  ASSERT_EQ(r.status, 200) << r.body;
  const std::string pin = map_pin("xdp_counter_config");
  ASSERT_NE(pin, "") << ::testing::PrintToString(bpffs_files());
  EXPECT_EQ(read_u64(pin, 0), std::optional<uint64_t>(7));
  const auto dbg = bpfs(ifc);
  ASSERT_EQ(dbg.size(), 1u);

  r = update({entry(ifc, xdp_counter("1.0", 9))});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(read_u64(pin, 0), std::optional<uint64_t>(9));
  const auto now = bpfs(ifc);
  ASSERT_EQ(now.size(), 1u);
  EXPECT_EQ(now[0].prog_id, dbg[0].prog_id);
  EXPECT_EQ(now[0].link_id, dbg[0].link_id);
  EXPECT_EQ(get(ifc).body, model::encode(view(ifc, kIpv4, xdp_counter("1.0", 9))));
  EXPECT_EQ(state_bytes(), model::encode_store({view(ifc, kIpv4, xdp_counter("1.0", 9))}));
}

TEST_F(UpdateSemantics, IdenticalAddChangesNothing) {
  const std::string ifc = a_.root_name();
  auto r = add({entry(ifc, xdp_counter())});
  ASSERT_EQ(r.status, 200) << r.body;
  const auto k0 = kernel_snapshot(ifaces());
  const auto s0 = state_bytes();
  const auto g0 = get_all().body;
  r = add({entry(ifc, xdp_counter())});
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.body, "");
  const auto k1 = kernel_snapshot(ifaces());
  EXPECT_EQ(k1, k0) << k0.describe() << "----\n" << k1.describe();
  EXPECT_EQ(state_bytes(), s0);
  EXPECT_EQ(get_all().body, g0);
}

TEST_F(UpdateSemantics, SameNameDifferentDefinitionIsConflict) {
  const std::string ifc = a_.root_name();
  auto r = add({entry(ifc, xdp_counter("1.0", 7))});
  ASSERT_EQ(r.status, 200) << r.body;
  const auto k0 = kernel_snapshot(ifaces());
  const auto s0 = state_bytes();
  r = add({entry(ifc, xdp_counter("1.0", 8))});
  EXPECT_EQ(r.status, 409) << r.body;
  EXPECT_NE(r.body.find("\"code\":\"conflict\""), std::string::npos) << r.body;
  const auto k1 = kernel_snapshot(ifaces());
  EXPECT_EQ(k1, k0) << k0.describe() << "----\n" << k1.describe();
  EXPECT_EQ(state_bytes(), s0);
  EXPECT_EQ(get(ifc).body, model::encode(view(ifc, kIpv4, xdp_counter("1.0", 7))));
}

TEST_F(UpdateSemantics, AddOnSecondInterfaceKeepsFirst) {
  const std::string a = a_.root_name();
  const std::string b = b_.root_name();
  auto r = add({entry(a, xdp_counter())});
  ASSERT_EQ(r.status, 200) << r.body;
  const auto first = bpfs(a);
  ASSERT_EQ(first.size(), 1u);
  r = add({entry(b, xdp_counter())});
  ASSERT_EQ(r.status, 200) << r.body;
  const auto second = bpfs(b);
  ASSERT_EQ(second.size(), 1u);
  EXPECT_NE(second[0].prog_id, first[0].prog_id);
  EXPECT_EQ(bpfs(a)[0].prog_id, first[0].prog_id);
  EXPECT_EQ(attached_programs(a).xdp, first[0].prog_id);
  EXPECT_EQ(attached_programs(b).xdp, second[0].prog_id);
  const std::vector<model::L3afBpfPrograms> all{view(a, kIpv4, xdp_counter()),
                                                view(b, kIpv4, xdp_counter())};
  std::vector<model::L3afBpfPrograms> sorted = all;
  std::sort(sorted.begin(), sorted.end(),
            [](const auto& x, const auto& y) { return x.iface < y.iface; });
  EXPECT_EQ(get_all().body, model::encode(sorted));
  EXPECT_EQ(state_bytes(), model::encode_store(sorted));
}

}  // namespace
}  // namespace l3afd::e2e
