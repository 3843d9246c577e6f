// Walkthroughs with packets: add a counter program on a veth, check GET byte-exactly, the
// debug listing, the kernel and the state file, send traffic, read the counter from /metrics,
// delete, check that everything went away.
#include <gtest/gtest.h>

#include "e2e/daemon/daemon_fixture.h"
#include "model/l3af_json.h"

namespace l3afd::e2e {
namespace {

constexpr int kPackets = 20;
const std::string kIpv4 = "198.18.200.1";

bool has_pin_of(const std::string& name) {
  for (const auto& f : bpffs_files()) {
    if (f.find("/" + name + "/") != std::string::npos) return true;
  }
  return false;
}

class Walkthrough : public DaemonFixture {};

TEST_F(Walkthrough, XdpCounterAddTrafficDelete) {
  testing::VethPair v;
  ASSERT_EQ(v.error(), "");
  ASSERT_TRUE(start_daemon());
  const std::string ifc = v.root_name();
  const auto prog = xdp_counter();

  auto r = add({entry(ifc, prog)});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.body, "");

  auto g = get(ifc);
  ASSERT_EQ(g.status, 200);
  EXPECT_EQ(g.body, model::encode(view(ifc, kIpv4, prog)));
  EXPECT_NE(g.body.find("{\n  \"host_name\": \"" + host() + "\",\n  \"iface\": \"" + ifc + "\",\n"),
            std::string::npos)
      << g.body;
  EXPECT_NE(
      g.body.find(
          "\n    \"tc_ingress\": null,\n    \"tc_egress\": null,\n    \"probes\": null\n  }\n}"),
      std::string::npos)
      << g.body;
  EXPECT_NE(g.body.find("\n        \"entry_function_name\": \"xdp_counter\"\n      }\n    ],\n"),
            std::string::npos)
      << g.body;
  EXPECT_EQ(state_bytes(), model::encode_store({view(ifc, kIpv4, prog)}));

  auto dbg = bpfs(ifc);
  ASSERT_EQ(dbg.size(), 1u);
  EXPECT_EQ(dbg[0].name, "xdp-counter");
  const uint32_t id = dbg[0].prog_id;
  EXPECT_TRUE(prog_alive(id));
  EXPECT_NE(dbg[0].link_id, 0u);
  EXPECT_TRUE(dbg[0].attach_mode == "xdp-native" || dbg[0].attach_mode == "xdp-generic")
      << dbg[0].attach_mode;
  EXPECT_EQ(attached_programs(ifc).xdp, id);

  const auto before = monitor_value(ifc, "xdp_counter_packets_0_scalar");
  ASSERT_TRUE(before.has_value()) << metrics();
  EXPECT_EQ(v.send_udp_from_peer(kPackets), kPackets);
  const auto after = monitor_value(ifc, "xdp_counter_packets_0_scalar");
  ASSERT_TRUE(after.has_value());
  EXPECT_GE(*after, *before + kPackets);

  r = remove({names(ifc, {"xdp-counter"})});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.body, "");
  EXPECT_TRUE(prog_gone_eventually(id));
  EXPECT_EQ(attached_programs(ifc).xdp, 0u);
  EXPECT_FALSE(has_pin_of("xdp-counter")) << ::testing::PrintToString(bpffs_files());
  EXPECT_EQ(get(ifc).body, model::encode(view(ifc, kIpv4)));
  EXPECT_EQ(state_bytes(), model::encode_store({view(ifc, kIpv4)}));
  EXPECT_TRUE(bpfs(ifc).empty());
}

struct TcCase {
  const char* mode;         ///< tc-attach-mode
  bool egress;              ///< hook
  const char* attach_mode;  ///< expected AttachMode in /bpfs
};

class TcWalkthrough : public DaemonFixture, public ::testing::WithParamInterface<TcCase> {};

TEST_P(TcWalkthrough, TcCounterAddTrafficDelete) {
  const TcCase c = GetParam();
  testing::VethPair v;
  ASSERT_EQ(v.error(), "");
  DaemonOptions opt;
  opt.tc_attach_mode = c.mode;
  ASSERT_TRUE(start_daemon(opt));
  const std::string ifc = v.root_name();
  const auto prog = tc_counter();
  const auto e = c.egress ? entry(ifc, std::nullopt, std::nullopt, prog)
                          : entry(ifc, std::nullopt, prog, std::nullopt);
  const auto expected = c.egress ? view(ifc, kIpv4, std::nullopt, std::nullopt, prog)
                                 : view(ifc, kIpv4, std::nullopt, prog, std::nullopt);

  auto r = add({e});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.body, "");
  EXPECT_EQ(get(ifc).body, model::encode(expected));
  EXPECT_EQ(state_bytes(), model::encode_store({expected}));

  auto dbg = bpfs(ifc);
  ASSERT_EQ(dbg.size(), 1u);
  const uint32_t id = dbg[0].prog_id;
  EXPECT_TRUE(prog_alive(id));
  EXPECT_EQ(dbg[0].attach_mode, c.attach_mode);
  const auto att = attached_programs(ifc);
  const std::vector<uint32_t> just{id};
  if (std::string(c.attach_mode) == "tcx") {
    EXPECT_EQ(c.egress ? att.tcx_egress : att.tcx_ingress, just);
    EXPECT_NE(dbg[0].link_id, 0u);
  } else {
    EXPECT_EQ(c.egress ? att.classic_egress : att.classic_ingress, just);
  }

  const auto before = monitor_value(ifc, "tc_counter_packets_0_scalar");
  ASSERT_TRUE(before.has_value()) << metrics();
  const int got = c.egress ? send_udp_to_peer(v, kPackets) : v.send_udp_from_peer(kPackets);
  EXPECT_EQ(got, kPackets);
  const auto after = monitor_value(ifc, "tc_counter_packets_0_scalar");
  ASSERT_TRUE(after.has_value());
  EXPECT_GE(*after, *before + kPackets);

  r = remove({c.egress ? names(ifc, {}, {}, {"tc-counter"}) : names(ifc, {}, {"tc-counter"})});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_TRUE(prog_gone_eventually(id));
  EXPECT_EQ(attached_programs(ifc), AttachedPrograms{});
  EXPECT_FALSE(has_pin_of("tc-counter")) << ::testing::PrintToString(bpffs_files());
  EXPECT_EQ(get(ifc).body, model::encode(view(ifc, kIpv4)));
  EXPECT_EQ(state_bytes(), model::encode_store({view(ifc, kIpv4)}));
}

INSTANTIATE_TEST_SUITE_P(Modes, TcWalkthrough,
                         ::testing::Values(TcCase{"auto", false, "tcx"},
                                           TcCase{"auto", true, "tcx"},
                                           TcCase{"classic", false, "tc-classic"},
                                           TcCase{"classic", true, "tc-classic"}),
                         [](const auto& param_info) {
                           return std::string(param_info.param.mode) +
                                  (param_info.param.egress ? "_egress" : "_ingress");
                         });

// The same package on both TC hooks of one interface: two independent instances; removing
// one leaves the other attached and counting.
TEST_F(Walkthrough, TcCounterOnBothHooksIndependent) {
  testing::VethPair v;
  ASSERT_EQ(v.error(), "");
  ASSERT_TRUE(start_daemon());
  const std::string ifc = v.root_name();
  const auto prog = tc_counter();
  auto r = add({entry(ifc, std::nullopt, prog, prog)});
  ASSERT_EQ(r.status, 200) << r.body;
  auto dbg = bpfs(ifc);
  ASSERT_EQ(dbg.size(), 2u);
  EXPECT_NE(dbg[0].prog_id, dbg[1].prog_id);
  auto att = attached_programs(ifc);
  EXPECT_EQ(att.tcx_ingress, std::vector<uint32_t>{dbg[0].prog_id});
  EXPECT_EQ(att.tcx_egress, std::vector<uint32_t>{dbg[1].prog_id});

  r = remove({names(ifc, {}, {"tc-counter"})});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_TRUE(prog_gone_eventually(dbg[0].prog_id));
  EXPECT_TRUE(prog_alive(dbg[1].prog_id));
  att = attached_programs(ifc);
  EXPECT_TRUE(att.tcx_ingress.empty());
  EXPECT_EQ(att.tcx_egress, std::vector<uint32_t>{dbg[1].prog_id});
  EXPECT_EQ(get(ifc).body, model::encode(view(ifc, kIpv4, std::nullopt, std::nullopt, prog)));
  const auto before = monitor_value(ifc, "tc_counter_packets_0_scalar");
  ASSERT_TRUE(before.has_value()) << metrics();
  EXPECT_EQ(send_udp_to_peer(v, kPackets), kPackets);
  EXPECT_GE(monitor_value(ifc, "tc_counter_packets_0_scalar").value_or(0), *before + kPackets);
}

}  // namespace
}  // namespace l3afd::e2e
