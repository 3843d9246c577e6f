// DesiredState as data: what add, update and delete want (docs/compatibility.md §6), and the
// chain-shape rules, before any step exists.
#include "engine/desired_state.h"

#include <gtest/gtest.h>

#include "unit/engine/plan_util.h"

namespace l3afd::testing {
namespace {

using engine::DesiredState;
using model::Hook;

std::vector<std::string> names(const DesiredState& d, const std::string& iface) {
  std::vector<std::string> out;
  for (const auto& p : d.ifaces.at(iface).hooks.at(Hook::XdpIngress)) out.push_back(p.name);
  return out;
}

TEST(DesiredState, AddMergesTheInterfaceTableAndInsertsBySeqId) {
  auto base = engine::with_added(
      {}, valid({entry("eth0", {program("a", "1.0", 1), program("c", "1.0", 3)})}, true), true);
  ASSERT_TRUE(base);
  auto req = entry("eth0", {program("b", "1.0", 2)});
  req.ipv4_address = "198.18.0.9";
  auto d = engine::with_added(*base, valid({req, entry("eth1", {program("x")})}, true), true);
  ASSERT_TRUE(d) << d.error().to_string();
  EXPECT_EQ(names(*d, "eth0"), (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(d->ifaces.at("eth0").ipv4_address, "198.18.0.9");
  EXPECT_EQ(names(*d, "eth1"), (std::vector<std::string>{"x"}));
}

TEST(DesiredState, AddConflictsNameEveryOffender) {
  auto base = engine::with_added({}, valid({entry("eth0", {program("a", "1.0", 1)})}, true), true);
  ASSERT_TRUE(base);
  auto changed = program("a", "2.0", 1);
  auto d = engine::with_added(
      *base, valid({entry("eth0", {changed}), entry("eth0", {program("b", "1.0", 1)})}, true),
      true);
  ASSERT_FALSE(d);
  EXPECT_EQ(d.error().code, Errc::Conflict);
  ASSERT_EQ(d.error().items.size(), 2u);
  EXPECT_EQ(d.error().items[0].program, "a");
  EXPECT_EQ(d.error().items[1].program, "b");
  EXPECT_EQ(d.error().items[1].field, "seq_id");

  // Without chaining another program on an occupied hook is a conflict.
  auto direct = engine::with_added({}, valid({entry("eth0", {program("a")})}, false), false);
  ASSERT_TRUE(direct);
  auto other = engine::with_added(*direct, valid({entry("eth0", {program("b")})}, false), false);
  ASSERT_FALSE(other);
  EXPECT_EQ(other.error().code, Errc::Conflict);
}

TEST(DesiredState, UpdateIsExactlyTheRequest) {
  auto d = engine::from_update(valid({entry("eth1", {program("x")})}, false), false);
  ASSERT_TRUE(d);
  ASSERT_EQ(d->ifaces.size(), 1u);
  EXPECT_EQ(names(*d, "eth1"), (std::vector<std::string>{"x"}));
  auto empty = engine::from_update(valid({}, false), false);
  ASSERT_TRUE(empty);
  EXPECT_TRUE(empty->ifaces.empty());
}

TEST(DesiredState, DeleteRemovesByNameAndKeepsTheInterface) {
  auto base = engine::with_added(
      {}, valid({entry("eth0", {program("a", "1.0", 1), program("b", "1.0", 2)})}, true), true);
  ASSERT_TRUE(base);
  auto d = engine::without(*base, valid_names("eth0", {"a", "unknown"}, true), true);
  ASSERT_TRUE(d);
  EXPECT_EQ(names(*d, "eth0"), (std::vector<std::string>{"b"}));
  auto all = engine::without(*d, valid_names("eth0", {"b"}, true), true);
  ASSERT_TRUE(all);
  ASSERT_EQ(all->ifaces.count("eth0"), 1u);
  EXPECT_TRUE(all->ifaces.at("eth0").hooks.empty());
}

TEST(DesiredState, ChainShapesLimitTheLengthAndNeedMapNameBeforeTheLast) {
  DesiredState d;
  auto& list = d.ifaces["eth0"].hooks[Hook::XdpIngress];
  for (int i = 1; i <= 33; ++i) list.push_back(program("p" + std::to_string(i), "1.0", i));
  EXPECT_TRUE(engine::check_chain_shapes(d, true));
  list.push_back(program("p34", "1.0", 34));
  auto too_long = engine::check_chain_shapes(d, true);
  ASSERT_FALSE(too_long);
  EXPECT_EQ(too_long.error().code, Errc::InvalidPayload);
  EXPECT_TRUE(engine::check_chain_shapes(d, false));  // without chaining: not a chain

  list.resize(2);
  list[1].map_name.clear();  // the last may omit it
  EXPECT_TRUE(engine::check_chain_shapes(d, true));
  list[0].map_name.clear();
  auto gap = engine::check_chain_shapes(d, true);
  ASSERT_FALSE(gap);
  EXPECT_EQ(gap.error().items.at(0).program, "p1");
  EXPECT_EQ(gap.error().items.at(0).field, "map_name");
}

}  // namespace
}  // namespace l3afd::testing
