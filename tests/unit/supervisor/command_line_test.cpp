// Companion command lines, flag for flag (docs/compatibility.md §11.1, §11.3).
#include "supervisor/command_line.h"

#include <gtest/gtest.h>

namespace l3afd::supervisor {
namespace {

json::Object args(std::initializer_list<std::pair<const std::string, json::Value>> kv) {
  return json::Object(kv);
}

Invocation xdp() {
  Invocation in;
  in.package_dir = "/var/l3afd/ratelimiting/1.0/l3af_ratelimiting";
  in.iface = "eth0";
  in.direction = "xdpingress";
  in.version_dir = "1_0";
  in.log_dir = "/var/log/l3af";
  return in;
}

// The talk's payload: ratelimiting with start_args {ports, rate}, given here out of order.
TEST(StartCommand, ReferenceFlagOrderAndArgumentsInAscendingKeyOrder) {
  auto c = start_command(xdp(), "ratelimiting",
                         args({{"rate", json::Value(std::string("2"))},
                               {"ports", json::Value(std::string("8080,443"))}}));
  ASSERT_TRUE(c) << c.error().to_string();
  const std::string exe = "/var/l3afd/ratelimiting/1.0/l3af_ratelimiting/ratelimiting";
  EXPECT_EQ(c->executable, exe);
  EXPECT_EQ(c->argv, (std::vector<std::string>{exe, "--iface=eth0", "--direction=xdpingress",
                                               "--version=1_0", "--log-dir=/var/log/l3af",
                                               "--ports=8080,443", "--rate=2"}));
}

TEST(StartCommand, MapNameAndRulesFileOnlyWhenGivenAndInTheirPlace) {
  auto in = xdp();
  in.map_name = "/sys/fs/bpf/eth0/xdp-root/latest/xdp_root_array";
  in.rules_file = in.package_dir / "xdpingress" / "rules.txt";
  in.log_dir = "/";  // one character: no --log-dir (reference rule)
  auto c = start_command(in, "bin/rl", args({{"a", json::Value(std::string("1"))}}));
  ASSERT_TRUE(c);
  EXPECT_EQ(
      c->argv,
      (std::vector<std::string>{
          c->executable.string(), "--iface=eth0", "--direction=xdpingress", "--version=1_0",
          "--map-name=/sys/fs/bpf/eth0/xdp-root/latest/xdp_root_array",
          "--rules-file=" + (in.package_dir / "xdpingress" / "rules.txt").string(), "--a=1"}));
}

TEST(StartCommand, ProbesHaveNoHookFlagsAndEmptyArgsAddNothing) {
  Invocation in;
  in.package_dir = "/pkg";
  auto c = start_command(in, "probe", std::nullopt);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->argv, (std::vector<std::string>{"/pkg/probe"}));
}

TEST(CommandLines, CommandsOutsideThePackageAreRefusedNamingTheField) {
  for (const std::string bad : {"", "/bin/sh", "../../bin/sh", "bin/../../x", "."}) {
    auto c = start_command(xdp(), bad, std::nullopt);
    ASSERT_FALSE(c) << bad;
    EXPECT_EQ(c.error().code, Errc::InvalidPayload) << bad;
    ASSERT_EQ(c.error().items.size(), 1u);
    EXPECT_EQ(c.error().items[0].field, "cmd_start") << bad;
  }
  auto s = stop_command(xdp(), "../stop", std::nullopt);
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().items[0].field, "cmd_stop");
}

TEST(CommandLines, NonStringArgumentsAreRefusedNamingTheirField) {
  auto c = start_command(xdp(), "rl", args({{"rate", json::Value(2.0)}}));
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().items[0].field, "start_args");
  EXPECT_NE(c.error().message.find("rate"), std::string::npos);
  auto u = update_command(xdp(), "rl", args({{"x", json::Value(json::Array{})}}));
  ASSERT_FALSE(u);
  EXPECT_EQ(u.error().items[0].field, "update_args");
}

TEST(CommandLines, StopStatusAndUpdateFollowOurColumn) {
  const auto a = args({{"k", json::Value(std::string("v"))}});
  auto stop = stop_command(xdp(), "rl_stop", a);
  ASSERT_TRUE(stop);
  EXPECT_EQ(stop->argv, (std::vector<std::string>{stop->executable.string(), "--iface=eth0",
                                                  "--direction=xdpingress", "--k=v"}))
      << "no stray space before '=' (the original's --<k> =<v>)";
  auto status = status_command(xdp(), "rl_status", a);
  ASSERT_TRUE(status);
  EXPECT_EQ(status->argv, (std::vector<std::string>{status->executable.string(), "--iface=eth0",
                                                    "--direction=xdpingress", "--k=v"}));
  auto update = update_command(xdp(), "rl_update", a);
  ASSERT_TRUE(update);
  EXPECT_EQ(update->argv,
            (std::vector<std::string>{update->executable.string(), "--iface=eth0",
                                      "--direction=xdpingress", "--cmd=update", "--version=1_0",
                                      "--log-dir=/var/log/l3af", "--k=v"}));
}

TEST(ReportsRunning, TrimmedRunningInAnyCaseOnly) {
  EXPECT_TRUE(reports_running("RUNNING"));
  EXPECT_TRUE(reports_running("running\n"));
  EXPECT_TRUE(reports_running("  RuNnInG \t\n"));
  EXPECT_FALSE(reports_running("NOT RUNNING"));
  EXPECT_FALSE(reports_running("RUNNING!"));
  EXPECT_FALSE(reports_running(""));
  EXPECT_FALSE(reports_running("RUNNING\nstopped"));
}

}  // namespace
}  // namespace l3afd::supervisor
