#include "layout/bpffs_layout.h"

#include <gtest/gtest.h>

using l3afd::layout::BpffsLayout;
using l3afd::model::Hook;

TEST(BpffsLayout, XdpPathsFollowTheReferenceLayout) {
  BpffsLayout l("/sys/fs/bpf");
  auto p = l.program("eth0", Hook::XdpIngress, "ratelimiting", "1.2.0", "_xdp_ratelimiting",
                     "xdp_rl_ingress_next_prog");
  ASSERT_TRUE(p) << p.error().to_string();
  EXPECT_EQ(p->map_dir, "/sys/fs/bpf/eth0/ratelimiting/1_2_0");
  EXPECT_EQ(p->prog_pin, "/sys/fs/bpf/progs/eth0/ratelimiting/1_2_0/_xdp_ratelimiting_xdp");
  EXPECT_EQ(p->link_pin, "/sys/fs/bpf/links/eth0/ratelimiting/1_2_0/ratelimiting_xdp");
  EXPECT_EQ(p->map_name_path, "/sys/fs/bpf/eth0/ratelimiting/1_2_0/xdp_rl_ingress_next_prog");
}

TEST(BpffsLayout, TcPathsLiveUnderTcGlobals) {
  BpffsLayout l("/b");
  auto p = l.program("eth1", Hook::TcEgress, "tm", "latest", "tc_fn", "");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->map_dir, "/b/tc/globals/eth1/tm/latest");
  EXPECT_EQ(p->prog_pin, "/b/progs/eth1/tm/latest/tc_fn_tc");
  EXPECT_EQ(p->link_pin, "/b/links/eth1/tm/latest/tm_tc_egress");
  EXPECT_TRUE(p->map_name_path.empty());
  auto in = l.program("eth1", Hook::TcIngress, "tm", "latest", "tc_fn", "");
  ASSERT_TRUE(in);
  EXPECT_EQ(in->link_pin, "/b/links/eth1/tm/latest/tm_tc_ingress");
  EXPECT_EQ(in->map_dir, p->map_dir) << "ingress and egress of one package share a map dir";
}

TEST(BpffsLayout, RefusesUnsafeComponents) {
  BpffsLayout l("/b");
  EXPECT_FALSE(l.program("..", Hook::XdpIngress, "x", "1", "f", ""));
  EXPECT_FALSE(l.program("eth0", Hook::XdpIngress, "a/b", "1", "f", ""));
  EXPECT_FALSE(l.program("eth0", Hook::XdpIngress, "x", "..", "f", ""));
  EXPECT_FALSE(l.program("eth0", Hook::XdpIngress, "x", "1", "", ""));
  EXPECT_FALSE(l.program("eth0", Hook::XdpIngress, "x", "1", "f", "../m"));
  auto e = l.program("eth0", Hook::XdpIngress, std::string("x\0y", 3), "1", "f", "");
  ASSERT_FALSE(e);
  EXPECT_EQ(e.error().code, l3afd::Errc::InvalidPayload);
}

TEST(BpffsLayout, VersionDirReplacesDots) {
  EXPECT_EQ(l3afd::layout::version_dir("1.2.0"), "1_2_0");
  EXPECT_EQ(l3afd::layout::version_dir("latest"), "latest");
}

TEST(PathSafety, IsWithin) {
  using l3afd::layout::is_within;
  EXPECT_TRUE(is_within("/a/b", "/a/b/c"));
  EXPECT_TRUE(is_within("/a/b", "/a/b/c/../d"));
  EXPECT_FALSE(is_within("/a/b", "/a/b"));
  EXPECT_FALSE(is_within("/a/b", "/a/b/.."));
  EXPECT_FALSE(is_within("/a/b", "/a/bc"));
  EXPECT_FALSE(is_within("/a/b", "/a/b/../../etc"));
}
