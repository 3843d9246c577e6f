// Program event counters of /metrics (docs/compatibility.md §13): labels and the events that
// change them.
#include "engine/program_counters.h"

#include <gtest/gtest.h>

namespace l3afd::engine {
namespace {

TEST(ProgramCounters, ProbeLabelIsNameSectionPrefixAndHook) {
  EXPECT_EQ(probe_metric_name("connection-limit", "tracepoint/sock/inet_sock_set_state"),
            "connection-limit_tracepoint_sock");
  EXPECT_EQ(probe_metric_name("p", "raw_tp/sched_switch"), "p_raw_tp_sched_switch");
  EXPECT_EQ(probe_metric_name("p", "uprobe//usr/bin/x:f"), "p_uprobe_usr");
  EXPECT_EQ(probe_metric_name("p", ""), "p");
}

/// eth0 (198.18.0.1) with program `a` and the xdp root, plus a probe with two attached programs.
AppliedState state_with_everything() {
  AppliedState s;
  auto& eth0 = s.ifaces["eth0"];
  eth0.ipv4_address = "198.18.0.1";
  ProgramRecord a;
  a.spec.name = "a";
  a.object_key = "eth0/xdpingress/a/1_0#1";
  eth0.hooks[model::Hook::XdpIngress] = {a};
  ProgramRecord root;
  root.spec.name = "xdp-root";
  root.object_key = "eth0/xdpingress/xdp-root/latest#2";
  eth0.roots[model::Hook::XdpIngress] = root;
  ProbeRecord pr;
  pr.spec.name = "cl";
  pr.object_key = "probes/cl/1_0#3";
  pr.attached = {kernel::AttachedProbe{.section = {.function = "f",
                                                   .section = "tracepoint/sock/x",
                                                   .kind = kernel::ProbeKind::Tracepoint}},
                 kernel::AttachedProbe{.section = {.function = "g",
                                                   .section = "tracepoint/sock/y",
                                                   .kind = kernel::ProbeKind::Tracepoint}}};
  s.probes = {pr};
  return s;
}

TEST(ProgramCounters, StartsCountNewInstancesRootsAndEveryAttachedProbe) {
  const AppliedState s = state_with_everything();
  Plan plan;
  Plan::Fill f{.iface = "eth0", .hook = model::Hook::XdpIngress, .index = 0};
  Plan::Fill rf = f;
  rf.root = true;
  auto fetch = plan.append("fetch", FetchPackage{});
  auto load = plan.append("load", LoadProbes{{}, fetch});
  ProgramCounters c;
  count_starts(c, s, {f, rf}, {Plan::ProbeFill{.index = 0, .fetch = fetch, .load = load}}, 1000);
  count_starts(c, s, {f}, {}, 2000);
  EXPECT_EQ((c.start[{"a", "xdpingress", "eth0", "198.18.0.1"}]), 2u);
  EXPECT_EQ((c.start[{"xdp-root", "xdpingress", "eth0", "198.18.0.1"}]), 1u);
  EXPECT_EQ((c.start[{"cl_tracepoint_sock", "", "", ""}]), 2u) << "one per attached probe";
  EXPECT_EQ(c.start.size(), 3u);
  EXPECT_EQ((c.start_time[{"a", "xdpingress", "eth0", "198.18.0.1"}]), 2000) << "latest start";
  EXPECT_EQ((c.start_time[{"xdp-root", "xdpingress", "eth0", "198.18.0.1"}]), 1000);
}

TEST(ProgramCounters, StopsCountWhatLeftAndDropTheStartTime) {
  const AppliedState before = state_with_everything();
  ProgramCounters c;
  c.start_time[{"a", "xdpingress", "eth0", "198.18.0.1"}] = 1000;
  AppliedState after = before;
  after.ifaces["eth0"].hooks.clear();
  after.ifaces["eth0"].roots.clear();
  count_stops(c, before, after);
  EXPECT_EQ((c.stop[{"a", "xdpingress", "eth0", "198.18.0.1"}]), 1u);
  EXPECT_EQ((c.stop[{"xdp-root", "xdpingress", "eth0", "198.18.0.1"}]), 1u) << "roots too";
  EXPECT_FALSE(c.stop.contains({"cl_tracepoint_sock", "", "", ""})) << "the probe stayed";
  EXPECT_TRUE(c.start_time.empty());

  // An upgrade: the same labels run a new instance; the old one stopped, the time is kept.
  ProgramCounters u;
  u.start_time[{"a", "xdpingress", "eth0", "198.18.0.1"}] = 2000;
  AppliedState upgraded = before;
  upgraded.ifaces["eth0"].hooks[model::Hook::XdpIngress][0].object_key = "eth0/xdpingress/a/2_0#9";
  count_stops(u, before, upgraded);
  EXPECT_EQ((u.stop[{"a", "xdpingress", "eth0", "198.18.0.1"}]), 1u);
  EXPECT_EQ((u.start_time[{"a", "xdpingress", "eth0", "198.18.0.1"}]), 2000);
}

TEST(ProgramCounters, UpdatesCountMapArgsWritesAndCmdUpdate) {
  const AppliedState s = state_with_everything();
  const ErrorItem subj{.iface = "eth0", .direction = "xdpingress", .program = "a"};
  std::vector<Step> steps{
      {"write maps", ConfigureMaps{"k", {{"m", std::nullopt}}, {}, std::nullopt}, subj},
      {"monitor only", ConfigureMaps{"k", {}, {{"c", 0, "scalar"}}, std::nullopt}, subj},
      {"update companion", UpdateCompanion{}, subj},
      {"attach", Attach{}, subj}};
  ProgramCounters c;
  count_updates(c, steps, s);
  EXPECT_EQ((c.update[{"a", "xdpingress", "eth0", "198.18.0.1"}]), 2u)
      << "map_args and cmd_update; monitor_maps alone is no update";
}

TEST(ProgramCounters, FailuresCountPerProgramWithTheReferenceDirectionNames) {
  const AppliedState s = state_with_everything();
  ProgramCounters c;
  Error step_failed{
      .code = Errc::Kernel,
      .message = "verifier",
      .items = {ErrorItem{.iface = "eth0", .direction = "xdpingress", .program = "a"}},
      .step = "load a on eth0 xdpingress"};
  count_failure(c, step_failed, s);
  EXPECT_EQ((c.deploy_failed[{"a", "xdp", "eth0", "198.18.0.1"}]), 1u) << "xdp (sic)";
  EXPECT_TRUE(c.update_failed.empty());

  Error update_failed = step_failed;
  update_failed.step = "update companion of a on eth0 xdpingress";
  count_failure(c, update_failed, s);
  EXPECT_EQ((c.update_failed[{"a", "xdpingress", "eth0", "198.18.0.1"}]), 1u);
  EXPECT_EQ((c.deploy_failed[{"a", "xdp", "eth0", "198.18.0.1"}]), 2u);

  Error no_iface{.code = Errc::UnknownInterface,
                 .message = "no eth9",
                 .items = {ErrorItem{.iface = "eth9", .field = "/0/iface"}}};
  count_failure(c, no_iface, s);
  EXPECT_EQ((c.deploy_failed[{"", "", "eth9", ""}]), 1u) << "empty program for an interface";
}

}  // namespace
}  // namespace l3afd::engine
