#include "chain/simulator.h"

#include <gtest/gtest.h>

#include "chain_test_util.h"

namespace l3afd::chain::test {
namespace {

TEST(ChainSimulator, WiredChainIsReachableInOrder) {
  const auto chain = loaded_chain({"A", "B", "C"});
  const ChainState st = wired(chain);
  auto r = reachable(st);
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_EQ(*r, chain);
  EXPECT_EQ(st.slots.size(), 4u) << "root plus one array per instance";
  EXPECT_FALSE(st.slots.at(Slot::of(loaded("C"))).has_value()) << "last slot is empty";
}

TEST(ChainSimulator, EmptyHookReachesNothing) {
  auto none = reachable(ChainState{});
  ASSERT_TRUE(none);
  EXPECT_TRUE(none->empty());
  auto empty_root = reachable(wired({}));
  ASSERT_TRUE(empty_root);
  EXPECT_TRUE(empty_root->empty());
}

TEST(ChainSimulator, ApplySetAndClearChangeOneSlot) {
  ChainState st = wired(loaded_chain({"A", "C"}));
  // A fresh array is absent from the state: reading through it treats it as empty.
  auto s1 = apply(st, Write::set(Slot::root(), brand_new("X")));
  ASSERT_TRUE(s1);
  auto r1 = reachable(*s1);
  ASSERT_TRUE(r1);
  EXPECT_EQ(*r1, std::vector<Instance>{brand_new("X")});
  auto s2 = apply(*s1, Write::set(Slot::of(brand_new("X")), loaded("C")));
  ASSERT_TRUE(s2);
  auto r2 = reachable(*s2);
  ASSERT_TRUE(r2);
  EXPECT_EQ(*r2, (std::vector<Instance>{brand_new("X"), loaded("C")}));
  auto s3 = apply(*s2, Write::clear(Slot::of(brand_new("X"))));
  ASSERT_TRUE(s3);
  auto r3 = reachable(*s3);
  ASSERT_TRUE(r3);
  EXPECT_EQ(*r3, std::vector<Instance>{brand_new("X")});
  EXPECT_EQ(s3->slots.at(Slot::of(loaded("A"))), loaded("C")) << "A's array is unaffected";
}

TEST(ChainSimulator, MalformedWritesAreRefused) {
  const ChainState st = wired(loaded_chain({"A"}));
  auto no_target = apply(st, Write{WriteKind::Set, Slot::root(), std::nullopt});
  ASSERT_FALSE(no_target);
  EXPECT_EQ(no_target.error().code, Errc::Internal);
  auto clear_with_target = apply(st, Write{WriteKind::Clear, Slot::root(), loaded("A")});
  ASSERT_FALSE(clear_with_target);
  EXPECT_EQ(clear_with_target.error().code, Errc::Internal);
}

TEST(ChainSimulator, CyclesAreErrorsNotHangs) {
  ChainState st = wired(loaded_chain({"A", "B"}));
  auto loop = apply(st, Write::set(Slot::of(loaded("B")), loaded("A")));
  ASSERT_TRUE(loop);
  auto r = reachable(*loop);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::Internal);
  EXPECT_NE(r.error().message.find("cycle"), std::string::npos) << r.error().message;

  auto self = apply(wired(loaded_chain({"A"})), Write::set(Slot::of(loaded("A")), loaded("A")));
  ASSERT_TRUE(self);
  EXPECT_FALSE(reachable(*self));
}

TEST(ChainTypes, ToStringNamesSlotsAndWrites) {
  EXPECT_EQ(to_string(loaded("A")), "A#o");
  EXPECT_EQ(to_string(Slot::root()), "root");
  EXPECT_EQ(to_string(Write::set(Slot::root(), loaded("A"))), "root[0] := A#o");
  EXPECT_EQ(to_string(Write::clear(Slot::of(loaded("A")))), "A#o[0] := clear");
  EXPECT_LT(Slot::root(), Slot::of(loaded("A"))) << "root orders first";
  EXPECT_NE(loaded("A"), brand_new("A")) << "instances of one program differ by id";
}

}  // namespace
}  // namespace l3afd::chain::test
