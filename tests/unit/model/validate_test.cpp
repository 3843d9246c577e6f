// §4.8 validation: a good payload passes; each rule is refused with the right code and pointer.
#include <gtest/gtest.h>

#include <string>

#include "model/validate.h"

namespace l3afd::model {
namespace {

BpfProgram xdp_program(std::string name, std::int64_t seq) {
  BpfProgram p;
  p.name = std::move(name);
  p.seq_id = seq;
  p.artifact = "l3af_ratelimiting.tar.gz";
  p.map_name = "xdp_rl_ingress_next_prog";
  p.cmd_start = "ratelimiting";
  p.version = "latest";
  p.user_program_daemon = true;
  p.admin_status = "enabled";
  p.prog_type = "xdp";
  p.cfg_version = 1;
  p.start_args = json::Object{{"ports", json::Value(std::string("80,8080"))},
                              {"rate", json::Value(std::string("2"))}};
  p.monitor_maps = std::vector<MonitorMap>{{"rl_drop_count_map", 0, "scalar"}};
  p.map_args = std::vector<MapArg>{{"rl_ports_map", std::vector<KeyValue>{{0, 80}}}};
  p.object_file = "ratelimiting.bpf.o";
  p.entry_function_name = "_xdp_ratelimiting";
  return p;
}

BpfProgram tc_program(std::string name, std::int64_t seq) {
  BpfProgram p = xdp_program(std::move(name), seq);
  p.prog_type = "tc";
  p.artifact = "l3af_bpf_ipfix.zip";
  p.map_name = "ipfix_ingress_jmp_table";
  p.object_file.clear();
  p.entry_function_name.clear();
  return p;
}

std::vector<L3afBpfPrograms> good() {
  BpfPrograms b;
  b.xdp_ingress =
      std::vector<BpfProgram>{xdp_program("ratelimiting", 1), xdp_program("connection-limit", 2)};
  b.tc_ingress = std::vector<BpfProgram>{tc_program("ipfix-flow-exporter", 1)};
  b.tc_egress = std::vector<BpfProgram>{};
  BpfProgram probe = xdp_program("kprobe.ex_1", 0);
  probe.prog_type = "kprobe";
  probe.map_name.clear();
  b.probes = std::vector<BpfProgram>{probe};
  return {L3afBpfPrograms{"host1", "eth0", "10.0.0.1", b}};
}

ValidationContext ctx(bool chaining = true) {
  ValidationContext c;
  c.host_name = "host1";
  c.chaining = chaining;
  c.root_names = {"xdp-root", "tc-root"};
  c.iface_state = [](const std::string& name) {
    if (name == "lo") return IfaceState::Loopback;
    if (name == "eth0" || name == "eth1" || name.rfind("veth", 0) == 0) return IfaceState::Ok;
    return IfaceState::Missing;
  };
  return c;
}

BpfProgram& xdp0(std::vector<L3afBpfPrograms>& r) {
  return r[0].bpf_programs->xdp_ingress->at(0);
}

/// Expects exactly one problem, of code `code`, at `field`.
void expect_one(const std::vector<L3afBpfPrograms>& r, Errc code, const std::string& field,
                const ValidationContext& c = ctx()) {
  const Status st = validate_programs(r, c);
  ASSERT_FALSE(st.has_value()) << field;
  EXPECT_EQ(st.error().code, code) << st.error().message;
  ASSERT_EQ(st.error().items.size(), 1u) << st.error().message;
  EXPECT_EQ(st.error().items[0].field, field) << st.error().items[0].message;
  EXPECT_FALSE(st.error().items[0].message.empty());
}

TEST(ModelValidate, GoodPayloadAccepted) {
  EXPECT_TRUE(validate_programs(good(), ctx(true)).has_value());
  EXPECT_TRUE(validate_programs(good(), ctx(false)).has_value());
  EXPECT_TRUE(validate_programs({}, ctx()).has_value());
}

TEST(ModelValidate, NameRule) {
  for (const char* bad : {"", ".", "..", "a..b", "a/b", "a b", "ä", "xdp-root", "tc-root"}) {
    auto r = good();
    xdp0(r).name = bad;
    expect_one(r, Errc::InvalidPayload, "/0/bpf_programs/xdp_ingress/0/name");
  }
  auto r = good();
  xdp0(r).name = std::string(65, 'a');
  expect_one(r, Errc::InvalidPayload, "/0/bpf_programs/xdp_ingress/0/name");
  xdp0(r).name = std::string(64, 'a');
  EXPECT_TRUE(validate_programs(r, ctx()).has_value());
}

TEST(ModelValidate, ItemCarriesIfaceDirectionProgram) {
  auto r = good();
  r[0].bpf_programs->tc_ingress->at(0).admin_status = "Enabled";
  const Status st = validate_programs(r, ctx());
  ASSERT_FALSE(st);
  const ErrorItem& i = st.error().items.at(0);
  EXPECT_EQ(i.iface, "eth0");
  EXPECT_EQ(i.direction, "ingress");
  EXPECT_EQ(i.program, "ipfix-flow-exporter");
  EXPECT_EQ(i.field, "/0/bpf_programs/tc_ingress/0/admin_status");
}

TEST(ModelValidate, VersionRule) {
  for (const char* bad : {"", "1..2", "1/2", "v 1", "."}) {
    auto r = good();
    xdp0(r).version = bad;
    expect_one(r, Errc::InvalidPayload, "/0/bpf_programs/xdp_ingress/0/version");
  }
  auto r = good();
  xdp0(r).version = "1.2.0+build-1_x";
  EXPECT_TRUE(validate_programs(r, ctx()).has_value());
}

TEST(ModelValidate, ArtifactRule) {
  for (const char* bad : {"ratelimiting.exe", "dir/a.tar.gz", ".zip", "", "a.tar"}) {
    auto r = good();
    xdp0(r).artifact = bad;
    expect_one(r, Errc::InvalidPayload, "/0/bpf_programs/xdp_ingress/0/artifact");
  }
}

TEST(ModelValidate, RelativePathRules) {
  for (const char* field : {"cmd_start", "cmd_stop", "cmd_status", "cmd_config", "cmd_update",
                            "object_file", "rules_file"}) {
    for (const char* bad : {"/bin/sh", "../x", "a/../../b", ".."}) {
      auto r = good();
      BpfProgram& p = xdp0(r);
      std::string* slot = std::string(field) == "cmd_start"     ? &p.cmd_start
                          : std::string(field) == "cmd_stop"    ? &p.cmd_stop
                          : std::string(field) == "cmd_status"  ? &p.cmd_status
                          : std::string(field) == "cmd_config"  ? &p.cmd_config
                          : std::string(field) == "cmd_update"  ? &p.cmd_update
                          : std::string(field) == "object_file" ? &p.object_file
                                                                : &p.rules_file;
      *slot = bad;
      expect_one(r, Errc::InvalidPayload, std::string("/0/bpf_programs/xdp_ingress/0/") + field);
    }
  }
  auto r = good();
  xdp0(r).cmd_start = "bin/a..b";
  xdp0(r).rules_file = "rules/r.txt";
  EXPECT_TRUE(validate_programs(r, ctx()).has_value());
}

TEST(ModelValidate, MapNameOptionalHereTheChainPlannerChecksItsPosition) {
  auto r = good();
  xdp0(r).map_name.clear();
  // The last program of a chain may omit map_name; engine::Planner refuses it anywhere else.
  EXPECT_TRUE(validate_programs(r, ctx(true)).has_value());
  EXPECT_TRUE(validate_programs(r, ctx(false)).has_value());
  xdp0(r).map_name = "..";
  expect_one(r, Errc::InvalidPayload, "/0/bpf_programs/xdp_ingress/0/map_name", ctx(false));
  xdp0(r).map_name = "a-b";
  expect_one(r, Errc::InvalidPayload, "/0/bpf_programs/xdp_ingress/0/map_name", ctx(false));
}

TEST(ModelValidate, EntryFunctionRequiredWithObjectFile) {
  auto r = good();
  xdp0(r).entry_function_name.clear();
  expect_one(r, Errc::InvalidPayload, "/0/bpf_programs/xdp_ingress/0/entry_function_name");
  xdp0(r).entry_function_name = "../x";
  expect_one(r, Errc::InvalidPayload, "/0/bpf_programs/xdp_ingress/0/entry_function_name");
  xdp0(r).object_file.clear();
  xdp0(r).entry_function_name.clear();
  EXPECT_TRUE(validate_programs(r, ctx()).has_value());
}

TEST(ModelValidate, AdminStatusExact) {
  for (const char* bad : {"", "Enabled", "DISABLED", "on"}) {
    auto r = good();
    xdp0(r).admin_status = bad;
    expect_one(r, Errc::InvalidPayload, "/0/bpf_programs/xdp_ingress/0/admin_status");
  }
}

TEST(ModelValidate, ProgTypePerList) {
  auto r = good();
  xdp0(r).prog_type = "tc";
  expect_one(r, Errc::InvalidPayload, "/0/bpf_programs/xdp_ingress/0/prog_type");
  r = good();
  r[0].bpf_programs->tc_ingress->at(0).prog_type = "xdp";
  expect_one(r, Errc::InvalidPayload, "/0/bpf_programs/tc_ingress/0/prog_type");
  r = good();
  r[0].bpf_programs->probes->at(0).prog_type = "xdp";
  expect_one(r, Errc::InvalidPayload, "/0/bpf_programs/probes/0/prog_type");
  for (const char* t : {"kretprobe", "tracepoint", "uprobe", "uretprobe"}) {
    r[0].bpf_programs->probes->at(0).prog_type = t;
    EXPECT_TRUE(validate_programs(r, ctx()).has_value()) << t;
  }
}

TEST(ModelValidate, SeqIdWithChaining) {
  auto r = good();
  xdp0(r).seq_id = 0;
  expect_one(r, Errc::InvalidPayload, "/0/bpf_programs/xdp_ingress/0/seq_id");
  EXPECT_TRUE(validate_programs(r, ctx(false)).has_value());
  r = good();
  r[0].bpf_programs->xdp_ingress->at(1).seq_id = 1;
  expect_one(r, Errc::InvalidPayload, "/0/bpf_programs/xdp_ingress/1/seq_id");
  EXPECT_TRUE(validate_programs(r, ctx(false)).has_value());  // several per hook: engine's 409
}

TEST(ModelValidate, AtMost33ChainedPrograms) {
  auto r = good();
  auto& list = *r[0].bpf_programs->tc_egress;
  for (int i = 1; i <= 33; ++i) list.push_back(tc_program("p" + std::to_string(i), i));
  EXPECT_TRUE(validate_programs(r, ctx()).has_value());
  list.push_back(tc_program("p34", 34));
  expect_one(r, Errc::InvalidPayload, "/0/bpf_programs/tc_egress");
  EXPECT_TRUE(validate_programs(r, ctx(false)).has_value());
  list.back().admin_status = "disabled";  // only programs that would be chained count
  EXPECT_TRUE(validate_programs(r, ctx()).has_value());
}

TEST(ModelValidate, ArgsValuesMustBeStrings) {
  auto r = good();
  (*xdp0(r).start_args)["rate"] = json::Value(2.0);
  expect_one(r, Errc::InvalidPayload, "/0/bpf_programs/xdp_ingress/0/start_args/rate");
  r = good();
  xdp0(r).update_args = json::Object{{"a/b", json::Value(true)}};
  expect_one(r, Errc::InvalidPayload, "/0/bpf_programs/xdp_ingress/0/update_args/a~1b");
  r = good();
  xdp0(r).stop_args = json::Object{{"x", json::Value(nullptr)}};
  expect_one(r, Errc::InvalidPayload, "/0/bpf_programs/xdp_ingress/0/stop_args/x");
  r = good();
  xdp0(r).status_args = json::Object{{"x", json::Value(json::Object{})}};
  expect_one(r, Errc::InvalidPayload, "/0/bpf_programs/xdp_ingress/0/status_args/x");
  r = good();
  xdp0(r).config_args = json::Object{{"x", json::Value(1.0)}};  // echoed only: any type
  EXPECT_TRUE(validate_programs(r, ctx()).has_value());
}

TEST(ModelValidate, AggregatorAndMapNames) {
  auto r = good();
  xdp0(r).monitor_maps->at(0).aggregator = "sum";
  expect_one(r, Errc::InvalidPayload, "/0/bpf_programs/xdp_ingress/0/monitor_maps/0/aggregator");
  r = good();
  xdp0(r).monitor_maps->at(0).name = "../m";
  expect_one(r, Errc::InvalidPayload, "/0/bpf_programs/xdp_ingress/0/monitor_maps/0/name");
  r = good();
  xdp0(r).map_args->at(0).name = "";
  expect_one(r, Errc::InvalidPayload, "/0/bpf_programs/xdp_ingress/0/map_args/0/name");
}

TEST(ModelValidate, BpfProgramsNullRefused) {
  auto r = good();
  r[0].bpf_programs.reset();
  expect_one(r, Errc::InvalidPayload, "/0/bpf_programs");
}

TEST(ModelValidate, IfaceNameRules) {
  for (const char* bad :
       {"", ".", "..", "a/b", "a:1", "a b", "0123456789abcdef", "links", "progs", "tc"}) {
    auto r = good();
    r[0].iface = bad;
    expect_one(r, Errc::InvalidPayload, "/0/iface");
  }
}

TEST(ModelValidate, ProbeNamedLikeInterfaceRefused) {
  for (const char* bad : {"eth1", "eth0", "tc", "progs", "links"}) {
    auto r = good();
    r[0].bpf_programs->probes->at(0).name = bad;
    expect_one(r, Errc::InvalidPayload, "/0/bpf_programs/probes/0/name");
  }
  auto r = good();
  r.push_back(L3afBpfPrograms{"host1", "veth9", "", BpfPrograms{}});
  r[0].bpf_programs->probes->at(0).name = "veth9";
  expect_one(r, Errc::InvalidPayload, "/0/bpf_programs/probes/0/name");
}

TEST(ModelValidate, NulAnywhereRefused) {
  const std::string nul("a\0b", 3);
  auto r = good();
  xdp0(r).rules = nul;
  expect_one(r, Errc::InvalidPayload, "/0/bpf_programs/xdp_ingress/0/rules");
  r = good();
  xdp0(r).cmd_start = nul;
  expect_one(r, Errc::InvalidPayload, "/0/bpf_programs/xdp_ingress/0/cmd_start");
  r = good();
  r[0].ipv4_address = nul;
  expect_one(r, Errc::InvalidPayload, "/0/ipv4_address");
  r = good();
  xdp0(r).config_args = json::Object{{"k", json::Value(json::Array{json::Value(nul)})}};
  expect_one(r, Errc::InvalidPayload, "/0/bpf_programs/xdp_ingress/0/config_args/k");
  r = good();
  xdp0(r).name = nul;
  expect_one(r, Errc::InvalidPayload, "/0/bpf_programs/xdp_ingress/0/name");
}

TEST(ModelValidate, WrongHostAndUnknownInterfaceCodes) {
  auto r = good();
  r[0].host_name = "other";
  expect_one(r, Errc::WrongHost, "/0/host_name");
  r = good();
  r[0].iface = "eth7";
  expect_one(r, Errc::UnknownInterface, "/0/iface");
  r[0].iface = "lo";
  expect_one(r, Errc::UnknownInterface, "/0/iface");
}

TEST(ModelValidate, PrecedenceAndAllProblemsCollected) {
  auto r = good();
  r[0].iface = "eth7";
  r[0].host_name = "other";
  Status st = validate_programs(r, ctx());
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code, Errc::WrongHost);
  EXPECT_EQ(st.error().items.size(), 2u);
  xdp0(r).name = "";
  r[0].bpf_programs->tc_ingress->at(0).version = "..";
  st = validate_programs(r, ctx());
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code, Errc::InvalidPayload);
  ASSERT_EQ(st.error().items.size(), 4u);
  EXPECT_NE(st.error().message.find("/0/bpf_programs/xdp_ingress/0/name"), std::string::npos)
      << st.error().message;
}

std::vector<L3afBpfProgramNames> good_names() {
  BpfProgramNames n;
  n.xdp_ingress = std::vector<std::string>{"ratelimiting"};
  n.probes = std::vector<std::string>{"kp", "kp2"};
  return {L3afBpfProgramNames{"host1", "eth0", "", n}};
}

TEST(ModelValidate, DeleteNames) {
  EXPECT_TRUE(validate_names(good_names(), ctx()).has_value());
  auto r = good_names();
  r[0].iface = "vanished0";  // a missing interface is fine for delete
  r[0].bpf_programs.reset();
  EXPECT_TRUE(validate_names(r, ctx()).has_value());
  r = good_names();
  r[0].bpf_programs->probes->at(1) = "xdp-root";
  Status st = validate_names(r, ctx());
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code, Errc::InvalidPayload);
  EXPECT_EQ(st.error().items.at(0).field, "/0/bpf_programs/probes/1");
  r = good_names();
  r[0].bpf_programs->xdp_ingress->at(0) = "../x";
  st = validate_names(r, ctx());
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().items.at(0).field, "/0/bpf_programs/xdp_ingress/0");
  EXPECT_EQ(st.error().items.at(0).direction, "xdpingress");
  r = good_names();
  r[0].host_name = "x";
  st = validate_names(r, ctx());
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code, Errc::WrongHost);
  r = good_names();
  r[0].iface = "tc";
  st = validate_names(r, ctx());
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().items.at(0).field, "/0/iface");
}

TEST(ModelValidate, Ipv4AddressEmptyOrDottedQuad) {
  for (const char* good_value : {"", "10.0.0.1", "0.0.0.0", "255.255.255.255", "198.18.0.1"}) {
    auto r = good();
    r[0].ipv4_address = good_value;
    EXPECT_TRUE(validate_programs(r, ctx()).has_value()) << good_value;
  }
  const std::vector<std::string> bad{"256.1.1.1",      "1.2.3",         "1.2.3.4.5",
                                     " 1.2.3.4",       "1.2.3.4 ",      "1.2. 3.4",
                                     "\t1.2.3.4",      "::1",           "fe80::1",
                                     "::ffff:1.2.3.4", "1.2.3.4/24",    "01.2.3.4",
                                     "0x1.2.3.4",      "a.b.c.d",       "1.2.3.-4",
                                     "1..2.3",         "999.999.999.9", std::string("1.2.3.4\0", 8),
                                     "localhost"};
  for (const std::string& b : bad) {
    auto r = good();
    r[0].ipv4_address = b;
    expect_one(r, Errc::InvalidPayload, "/0/ipv4_address");
  }
}

TEST(ModelValidate, Ipv4AddressMessageNamesTheReasonAndQuotesTheValueShortly) {
  auto r = good();
  r[0].ipv4_address = "256.1.1.1";
  Status st = validate_programs(r, ctx());
  ASSERT_FALSE(st);
  EXPECT_NE(st.error().items.at(0).message.find(
                "IPv4 address a.b.c.d (each 0-255) or empty, not \"256.1.1.1\""),
            std::string::npos)
      << st.error().items.at(0).message;
  EXPECT_EQ(st.error().items.at(0).iface, "eth0");
  r[0].ipv4_address = "1.2.3.4\n\x01";  // control characters are not echoed
  st = validate_programs(r, ctx());
  ASSERT_FALSE(st);
  EXPECT_NE(st.error().items.at(0).message.find("\"1.2.3.4??\""), std::string::npos)
      << st.error().items.at(0).message;
}

TEST(ModelValidate, Ipv4AddressOfTenMegabytesIsRefusedWithAShortMessage) {
  auto r = good();
  r[0].ipv4_address = std::string(10 * 1024 * 1024, '1');
  const Status st = validate_programs(r, ctx());
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code, Errc::InvalidPayload);
  ASSERT_EQ(st.error().items.size(), 1u);
  EXPECT_EQ(st.error().items[0].field, "/0/ipv4_address");
  EXPECT_NE(st.error().items[0].message.find("10485760 characters (at most 15)"), std::string::npos)
      << st.error().items[0].message;
  EXPECT_LT(st.error().items[0].message.size(), 200u);
  EXPECT_LT(st.error().to_string().size(), 300u);
}

TEST(ModelValidate, DeleteIpv4AddressFollowsTheSameRule) {
  auto r = good_names();
  r[0].ipv4_address = "10.0.0.1";
  EXPECT_TRUE(validate_names(r, ctx()).has_value());
  r[0].ipv4_address = std::string(1000, 'x');
  const Status st = validate_names(r, ctx());
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code, Errc::InvalidPayload);
  EXPECT_EQ(st.error().items.at(0).field, "/0/ipv4_address");
  EXPECT_LT(st.error().to_string().size(), 300u);
}

}  // namespace
}  // namespace l3afd::model

namespace {

TEST(ValidateRepoUrl, UnknownSchemeIsRefusedNamingTheField) {
  using namespace l3afd::model;
  ValidationContext ctx;
  ctx.host_name = "h";
  L3afBpfPrograms e;
  e.host_name = "h";
  e.iface = "eth0";
  BpfProgram p;
  p.name = "x";
  p.version = "1.0";
  p.artifact = "l3af_x.tar.gz";
  p.admin_status = "enabled";
  p.prog_type = "xdp";
  p.object_file = "x.bpf.o";
  p.entry_function_name = "x";
  p.ebpf_package_repo_url = "ftp://repo/x";
  e.bpf_programs = BpfPrograms{std::vector<BpfProgram>{p}, {}, {}, {}};
  auto st = validate_programs({e}, ctx);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code, l3afd::Errc::InvalidPayload);
  bool named = false;
  for (const auto& it : st.error().items) {
    named = named || it.field == "/0/bpf_programs/xdp_ingress/0/ebpf_package_repo_url";
  }
  EXPECT_TRUE(named) << st.error().to_string();
  e.bpf_programs->xdp_ingress->at(0).ebpf_package_repo_url = "https://repo.example/l3af";
  EXPECT_TRUE(validate_programs({e}, ctx));
}

}  // namespace
