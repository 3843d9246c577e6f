// l3afd_BPFStartCount labels and counting (docs/compatibility.md §13).
#include "engine/start_count.h"

#include <gtest/gtest.h>

namespace l3afd::engine {
namespace {

TEST(StartCount, ProbeLabelIsNameSectionPrefixAndHook) {
  EXPECT_EQ(probe_metric_name("connection-limit", "tracepoint/sock/inet_sock_set_state"),
            "connection-limit_tracepoint_sock");
  EXPECT_EQ(probe_metric_name("p", "raw_tp/sched_switch"), "p_raw_tp_sched_switch");
  EXPECT_EQ(probe_metric_name("p", "uprobe//usr/bin/x:f"), "p_uprobe_usr");
  EXPECT_EQ(probe_metric_name("p", ""), "p");
}

TEST(StartCount, CountsNewInstancesRootsAndEveryAttachedProbe) {
  AppliedState s;
  auto& eth0 = s.ifaces["eth0"];
  eth0.ipv4_address = "198.18.0.1";
  ProgramRecord a;
  a.spec.name = "a";
  eth0.hooks[model::Hook::XdpIngress] = {a};
  ProgramRecord root;
  root.spec.name = "xdp-root";
  eth0.roots[model::Hook::XdpIngress] = root;
  ProbeRecord pr;
  pr.spec.name = "cl";
  pr.attached = {kernel::AttachedProbe{.section = {.function = "f",
                                                   .section = "tracepoint/sock/x",
                                                   .kind = kernel::ProbeKind::Tracepoint}},
                 kernel::AttachedProbe{.section = {.function = "g",
                                                   .section = "tracepoint/sock/y",
                                                   .kind = kernel::ProbeKind::Tracepoint}}};
  s.probes = {pr};
  Plan plan;
  Plan::Fill f{.iface = "eth0", .hook = model::Hook::XdpIngress, .index = 0};
  Plan::Fill rf{.iface = "eth0", .hook = model::Hook::XdpIngress, .index = 0};
  rf.root = true;
  auto fetch = plan.append("fetch", FetchPackage{});
  auto load = plan.append("load", LoadProbes{{}, fetch});
  StartCounts counts;
  count_starts(counts, s, {f, rf}, {Plan::ProbeFill{.index = 0, .fetch = fetch, .load = load}});
  count_starts(counts, s, {f}, {});
  EXPECT_EQ((counts[{"a", "xdpingress", "eth0", "198.18.0.1"}]), 2u);
  EXPECT_EQ((counts[{"xdp-root", "xdpingress", "eth0", "198.18.0.1"}]), 1u);
  EXPECT_EQ((counts[{"cl_tracepoint_sock", "", "", ""}]), 2u) << "one per attached probe";
  EXPECT_EQ(counts.size(), 3u);
}

}  // namespace
}  // namespace l3afd::engine
