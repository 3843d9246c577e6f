// Go Unmarshal semantics of the L3AF decoders (docs/compatibility.md §5.2).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <string>

#include "model/l3af_json.h"

namespace l3afd::model {
namespace {

std::vector<L3afBpfPrograms> ok_programs(std::string_view body) {
  auto r = decode_programs(body);
  EXPECT_TRUE(r.has_value()) << body << "\n" << (r ? "" : r.error().message);
  return r ? *r : std::vector<L3afBpfPrograms>{};
}

Error err_programs(std::string_view body) {
  auto r = decode_programs(body);
  EXPECT_FALSE(r.has_value()) << body;
  return r ? Error{} : r.error();
}

/// One xdp program body inside one entry.
std::string xdp(std::string_view program_members) {
  return R"([{"host_name":"h","iface":"eth0","bpf_programs":{"xdp_ingress":[{)" +
         std::string(program_members) + "}]}}]";
}

BpfProgram first_xdp(const std::vector<L3afBpfPrograms>& v) {
  return v.at(0).bpf_programs.value().xdp_ingress.value().at(0);
}

TEST(ModelDecode, TopLevelNullIsEmpty) {
  EXPECT_TRUE(ok_programs(" null ").empty());
  EXPECT_TRUE(ok_programs("[]").empty());
  auto names = decode_names("null");
  ASSERT_TRUE(names);
  EXPECT_TRUE(names->empty());
}

TEST(ModelDecode, TopLevelMustBeArray) {
  const Error e = err_programs(R"({"host_name":"h"})");
  EXPECT_EQ(e.code, Errc::InvalidJson);
  ASSERT_EQ(e.items.size(), 1u);
  EXPECT_EQ(e.items[0].field, "");
  EXPECT_NE(e.message.find("must be an array"), std::string::npos) << e.message;
  EXPECT_EQ(err_programs("\"x\"").code, Errc::InvalidJson);
}

TEST(ModelDecode, SyntaxErrorHasOffsetAndNoItems) {
  const Error e = err_programs("[{\"iface\": }]");
  EXPECT_EQ(e.code, Errc::InvalidJson);
  EXPECT_TRUE(e.items.empty());
  EXPECT_NE(e.message.find("byte 11"), std::string::npos) << e.message;
  EXPECT_EQ(err_programs("").code, Errc::InvalidJson);
  EXPECT_EQ(err_programs("[] x").code, Errc::InvalidJson);
}

TEST(ModelDecode, MissingKeysLeaveZeroValuesAndNulls) {
  const auto v = ok_programs(R"([{"iface":"eth0"}])");
  ASSERT_EQ(v.size(), 1u);
  EXPECT_EQ(v[0], (L3afBpfPrograms{"", "eth0", "", std::nullopt}));
  const BpfProgram& p = first_xdp(ok_programs(xdp(R"("name":"a")")));
  BpfProgram want;
  want.name = "a";
  EXPECT_EQ(p, want);
}

TEST(ModelDecode, KeysMatchCaseInsensitively) {
  const auto v = ok_programs(
      R"([{"HOST_NAME":"h","IfAcE":"eth0","Bpf_Programs":{"XDP_INGRESS":[{"NAME":"a","Seq_Id":3,"START_ARGS":{"Rate":"2"}}]}}])");
  EXPECT_EQ(v.at(0).host_name, "h");
  EXPECT_EQ(v.at(0).iface, "eth0");
  const BpfProgram& p = first_xdp(v);
  EXPECT_EQ(p.name, "a");
  EXPECT_EQ(p.seq_id, 3);
  // Member names inside *_args are data, kept as written.
  EXPECT_EQ(p.start_args.value().count("Rate"), 1u);
}

TEST(ModelDecode, GoUnicodeFoldingOfKeys) {
  // U+017F (long s) folds to S, U+212A (Kelvin sign) to K, U+0131 (dotless i) to I.
  const auto v = ok_programs(
      "[{\"\xC5\xBF"
      "eq\":1,\"\xC4\xB1"
      "face\":\"eth0\",\"\xE2\x84\xAA"
      "x\":1}]");
  EXPECT_EQ(v.at(0).iface, "eth0");
  const BpfProgram& p =
      first_xdp(ok_programs(xdp("\"\xC5\xBF"
                                "eq_id\":7")));
  EXPECT_EQ(p.seq_id, 7);
}

TEST(ModelDecode, NoMatchAcrossDifferentNames) {
  // "hostname" is not "host_name"; both are unknown in the other struct.
  const auto v = ok_programs(R"([{"hostname":"h","host-name":"x"}])");
  EXPECT_EQ(v.at(0).host_name, "");
  auto r = decode_restart(R"({"host_name":"h","Hostname":"real"})");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->hostname, "real");
}

TEST(ModelDecode, ExactMatchHasPriorityOnlyForLookupLaterKeyStillWins) {
  // Both keys address the same field; Go decodes them in document order, later wins.
  EXPECT_EQ(ok_programs(R"([{"iface":"a","IFACE":"b"}])").at(0).iface, "b");
  EXPECT_EQ(ok_programs(R"([{"IFACE":"b","iface":"a"}])").at(0).iface, "a");
}

TEST(ModelDecode, UnknownKeysIgnoredAtEveryLevel) {
  const auto v = ok_programs(
      R"([{"x":{"deep":[1,2]},"iface":"e","bpf_programs":{"other":[],"xdp_ingress":[{"zzz":1,"name":"a",)"
      R"("map_args":[{"name":"m","unknown":true,"args":[{"key":1,"value":2,"extra":"x"}]}],)"
      R"("monitor_maps":[{"name":"n","aggregator":"avg","what":null}]}]}}])");
  const BpfProgram& p = first_xdp(v);
  EXPECT_EQ(p.name, "a");
  ASSERT_EQ(p.map_args.value().size(), 1u);
  EXPECT_EQ(p.map_args->at(0).args.value().at(0), (KeyValue{1, 2}));
  EXPECT_EQ(p.monitor_maps.value().at(0).aggregator, "avg");
}

TEST(ModelDecode, MonitorMapKeyEndExtension) {
  const BpfProgram& p = first_xdp(ok_programs(
      R"([{"iface":"e","bpf_programs":{"xdp_ingress":[{"name":"a","monitor_maps":[)"
      R"({"name":"n","key":1,"aggregator":"avg","key_end":3},{"name":"o","key_end":null}]}]}}])"));
  ASSERT_EQ(p.monitor_maps.value().size(), 2u);
  EXPECT_EQ(p.monitor_maps->at(0).key_end, 3);
  EXPECT_EQ(monitored_keys(p.monitor_maps->at(0)), (std::vector<uint64_t>{1, 2, 3}));
  EXPECT_FALSE(p.monitor_maps->at(1).key_end.has_value());
  EXPECT_EQ(monitored_keys(p.monitor_maps->at(1)), (std::vector<uint64_t>{0}));
}

TEST(ModelDecode, DuplicateScalarsLastWins) {
  const BpfProgram& p = first_xdp(ok_programs(
      xdp(R"("name":"a","seq_id":1,"name":"b","seq_id":2,"is_plugin":true,"is_plugin":false)")));
  EXPECT_EQ(p.name, "b");
  EXPECT_EQ(p.seq_id, 2);
  EXPECT_FALSE(p.is_plugin);
}

TEST(ModelDecode, DuplicateObjectsMergeMemberByMember) {
  const auto v = ok_programs(
      R"([{"iface":"e","bpf_programs":{"xdp_ingress":[{"name":"a"}]},"bpf_programs":{"tc_egress":[]}}])");
  const BpfPrograms& b = v.at(0).bpf_programs.value();
  EXPECT_EQ(b.xdp_ingress.value().at(0).name, "a");
  EXPECT_TRUE(b.tc_egress.has_value());
  EXPECT_TRUE(b.tc_egress->empty());
  const BpfProgram& p = first_xdp(
      ok_programs(xdp(R"("start_args":{"a":"1","b":{"x":1}},"start_args":{"b":{"y":2},"c":"3"})")));
  const json::Object& args = p.start_args.value();
  ASSERT_EQ(args.size(), 3u);
  EXPECT_EQ(std::get<std::string>(args.at("a").v), "1");
  // A member that repeats is replaced, not merged (Go decodes a fresh interface{} value).
  const json::Object& b_member = std::get<json::Object>(args.at("b").v);
  EXPECT_EQ(b_member.size(), 1u);
  EXPECT_EQ(b_member.count("y"), 1u);
}

TEST(ModelDecode, DuplicateArraysKeepLaterLengthAndMergeElements) {
  const BpfProgram& p = first_xdp(ok_programs(xdp(
      R"("monitor_maps":[{"name":"a","key":1},{"name":"b"}],"monitor_maps":[{"aggregator":"avg"}])")));
  ASSERT_EQ(p.monitor_maps.value().size(), 1u);
  EXPECT_EQ(p.monitor_maps->at(0), (MonitorMap{"a", 1, "avg"}));
  const auto v = ok_programs(
      R"([{"iface":"e","bpf_programs":{"xdp_ingress":[{"name":"a","seq_id":1}],"xdp_ingress":[{"seq_id":5},{"name":"b"}]}}])");
  const auto& list = v.at(0).bpf_programs->xdp_ingress.value();
  ASSERT_EQ(list.size(), 2u);
  EXPECT_EQ(list[0].name, "a");
  EXPECT_EQ(list[0].seq_id, 5);
  EXPECT_EQ(list[1].name, "b");
}

TEST(ModelDecode, NullHandling) {
  // null leaves scalars unchanged (zero, or an earlier duplicate's value) ...
  const BpfProgram& p = first_xdp(ok_programs(xdp(
      R"("name":"a","name":null,"seq_id":null,"is_plugin":null,"start_args":{"x":"y"},"start_args":null,)"
      R"("map_args":null,"stop_args":{},"config_args":{"n":null})")));
  EXPECT_EQ(p.name, "a");
  EXPECT_EQ(p.seq_id, 0);
  // ... and sets nullable fields to null; {} stays {}; null members are kept.
  EXPECT_FALSE(p.start_args.has_value());
  EXPECT_FALSE(p.map_args.has_value());
  ASSERT_TRUE(p.stop_args.has_value());
  EXPECT_TRUE(p.stop_args->empty());
  EXPECT_TRUE(p.config_args.value().at("n").is_null());
  // A null list element is a zero-valued program (Go: null into a struct is a no-op).
  const auto v = ok_programs(R"([null,{"iface":"e","bpf_programs":{"probes":[null]}}])");
  ASSERT_EQ(v.size(), 2u);
  EXPECT_EQ(v[0], L3afBpfPrograms{});
  EXPECT_EQ(v[1].bpf_programs->probes.value().at(0), BpfProgram{});
  EXPECT_FALSE(ok_programs(R"([{"bpf_programs":null}])").at(0).bpf_programs.has_value());
}

TEST(ModelDecode, IntegerSyntaxAndRange) {
  EXPECT_EQ(first_xdp(ok_programs(xdp(R"("memory":9223372036854775807)"))).memory, INT64_MAX);
  EXPECT_EQ(first_xdp(ok_programs(xdp(R"("cpu":-9223372036854775808)"))).cpu, INT64_MIN);
  EXPECT_EQ(first_xdp(ok_programs(xdp(R"("id":-0)"))).id, 0);
  for (const char* bad :
       {"1.0", "1e2", "\"1\"", "9223372036854775808", "true", "[]", "{}", "0.5"}) {
    const Error e = err_programs(xdp(std::string(R"("name":"rl","seq_id":)") + bad));
    EXPECT_EQ(e.code, Errc::InvalidJson) << bad;
    ASSERT_EQ(e.items.size(), 1u) << bad;
    EXPECT_EQ(e.items[0].field, "/0/bpf_programs/xdp_ingress/0/seq_id") << bad;
    EXPECT_EQ(e.items[0].iface, "eth0");
    EXPECT_EQ(e.items[0].direction, "xdpingress");
    EXPECT_EQ(e.items[0].program, "rl");
    EXPECT_NE(e.message.find("seq_id must be an integer"), std::string::npos) << e.message;
  }
}

TEST(ModelDecode, StringsOnlyFromStrings) {
  for (const char* bad : {"1", "true", "[]", "{}"}) {
    const Error e = err_programs(xdp(std::string(R"("version":)") + bad));
    ASSERT_EQ(e.items.size(), 1u);
    EXPECT_EQ(e.items[0].field, "/0/bpf_programs/xdp_ingress/0/version");
  }
}

TEST(ModelDecode, BoolsOnlyTrueFalse) {
  for (const char* bad : {"1", "\"true\"", "0", "[]"}) {
    const Error e = err_programs(xdp(std::string(R"("user_program_daemon":)") + bad));
    ASSERT_EQ(e.items.size(), 1u);
    EXPECT_EQ(e.items[0].field, "/0/bpf_programs/xdp_ingress/0/user_program_daemon");
  }
}

TEST(ModelDecode, ArgsOnlyObjectsWithAnyMemberTypes) {
  const BpfProgram& p = first_xdp(ok_programs(xdp(
      R"("start_args":{"s":"x","n":8080,"f":-0.0,"b":true,"z":null,"a":[1,"2"],"o":{"k":1e-7}})")));
  const json::Object& a = p.start_args.value();
  EXPECT_EQ(std::get<double>(a.at("n").v), 8080.0);
  EXPECT_TRUE(std::signbit(std::get<double>(a.at("f").v)));
  EXPECT_TRUE(std::get<bool>(a.at("b").v));
  EXPECT_EQ(std::get<json::Array>(a.at("a").v).size(), 2u);
  for (const char* bad : {"[]", "\"a=b\"", "1", "true"}) {
    const Error e = err_programs(xdp(std::string(R"("update_args":)") + bad));
    ASSERT_EQ(e.items.size(), 1u);
    EXPECT_EQ(e.items[0].field, "/0/bpf_programs/xdp_ingress/0/update_args");
  }
  const Error big = err_programs(xdp(R"("config_args":{"x/y":[1e400]})"));
  ASSERT_EQ(big.items.size(), 1u);
  EXPECT_EQ(big.items[0].field, "/0/bpf_programs/xdp_ingress/0/config_args/x~1y/0");
}

TEST(ModelDecode, MapArgsObjectFormRefused) {
  const Error e = err_programs(xdp(R"("map_args":{"rl_ports_map":"8080,8081"})"));
  ASSERT_EQ(e.items.size(), 1u);
  EXPECT_EQ(e.items[0].field, "/0/bpf_programs/xdp_ingress/0/map_args");
}

TEST(ModelDecode, PointerUsesKeysAsWrittenAndLabelsWhenKnown) {
  const Error e = err_programs(
      R"([{},{"Bpf_Programs":{"TC_Egress":[{},{"Seq_ID":"x","name":"p2"}]},"iface":"veth1"}])");
  ASSERT_EQ(e.items.size(), 1u);
  EXPECT_EQ(e.items[0].field, "/1/Bpf_Programs/TC_Egress/1/Seq_ID");
  EXPECT_EQ(e.items[0].iface, "veth1");
  EXPECT_EQ(e.items[0].direction, "egress");
  EXPECT_EQ(e.items[0].program, "p2");
}

TEST(ModelDecode, FirstTypeErrorInDocumentOrderIsReported) {
  const Error e = err_programs(R"([{"iface":1,"host_name":2}])");
  ASSERT_EQ(e.items.size(), 1u);
  EXPECT_EQ(e.items[0].field, "/0/iface");
}

TEST(ModelDecode, InvalidUtf8AndSurrogatesInValues) {
  const auto v = ok_programs("[{\"iface\":\"e\xFF\",\"host_name\":\"\\ud800x\"}]");
  EXPECT_EQ(v.at(0).iface, "e\xEF\xBF\xBD");
  EXPECT_EQ(v.at(0).host_name, "\xEF\xBF\xBDx");
}

TEST(ModelDecode, Names) {
  auto r = decode_names(
      R"([{"host_name":"h","iface":"eth0","ipv4_address":"1.2.3.4","bpf_programs":{"xdp_ingress":["a",null,"b"],"probes":null,"TC_INGRESS":[]}}])");
  ASSERT_TRUE(r) << r.error().message;
  const BpfProgramNames& b = r->at(0).bpf_programs.value();
  EXPECT_EQ(b.xdp_ingress.value(), (std::vector<std::string>{"a", "", "b"}));
  EXPECT_FALSE(b.probes.has_value());
  EXPECT_TRUE(b.tc_ingress.value().empty());
  auto bad = decode_names(R"([{"iface":"eth0","bpf_programs":{"tc_ingress":["a",1]}}])");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().items.at(0).field, "/0/bpf_programs/tc_ingress/1");
  EXPECT_EQ(bad.error().items.at(0).direction, "ingress");
}

TEST(ModelDecode, Restart) {
  auto r = decode_restart(R"( {"hostname":"h1","version":"v2.0.0","extra":[1]} )");
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, (RestartConfig{"h1", "v2.0.0"}));
  auto n = decode_restart("null");
  ASSERT_TRUE(n);
  EXPECT_EQ(*n, RestartConfig{});
  auto arr = decode_restart(R"([{"hostname":"h1"}])");
  ASSERT_FALSE(arr);
  EXPECT_EQ(arr.error().code, Errc::InvalidJson);
  auto ver = decode_restart(R"({"version":2})");
  ASSERT_FALSE(ver);
  EXPECT_EQ(ver.error().items.at(0).field, "/version");
}

}  // namespace
}  // namespace l3afd::model
