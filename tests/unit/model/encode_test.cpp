// Golden tests of the model encoders (docs/compatibility.md §5.1, §5.3).
#include <gtest/gtest.h>

#include <string>

#include "model/l3af_json.h"

namespace l3afd::model {
namespace {

/// The 31 keys of a zero BpfProgram at the given indentation, in §4.3 order.
std::string zero_program(const std::string& in) {
  std::string s = "{\n";
  const char* rows[] = {"\"id\": 0",
                        "\"name\": \"\"",
                        "\"seq_id\": 0",
                        "\"artifact\": \"\"",
                        "\"map_name\": \"\"",
                        "\"cmd_start\": \"\"",
                        "\"cmd_stop\": \"\"",
                        "\"cmd_status\": \"\"",
                        "\"cmd_config\": \"\"",
                        "\"cmd_update\": \"\"",
                        "\"version\": \"\"",
                        "\"user_program_daemon\": false",
                        "\"is_plugin\": false",
                        "\"cpu\": 0",
                        "\"memory\": 0",
                        "\"admin_status\": \"\"",
                        "\"prog_type\": \"\"",
                        "\"rules_file\": \"\"",
                        "\"rules\": \"\"",
                        "\"config_file_path\": \"\"",
                        "\"cfg_version\": 0",
                        "\"start_args\": null",
                        "\"stop_args\": null",
                        "\"status_args\": null",
                        "\"update_args\": null",
                        "\"map_args\": null",
                        "\"config_args\": null",
                        "\"monitor_maps\": null",
                        "\"ebpf_package_repo_url\": \"\"",
                        "\"object_file\": \"\"",
                        "\"entry_function_name\": \"\""};
  const std::size_t n = sizeof rows / sizeof rows[0];
  EXPECT_EQ(n, 31u);
  for (std::size_t i = 0; i < n; ++i) {
    s += in + "  " + rows[i] + (i + 1 < n ? ",\n" : "\n");
  }
  return s + in + "}";
}

TEST(ModelEncode, EntryWithNullProgramsAllKeysInOrder) {
  const L3afBpfPrograms e{"host1", "eth0", "10.0.0.1", std::nullopt};
  EXPECT_EQ(
      encode(e),
      "{\n  \"host_name\": \"host1\",\n  \"iface\": \"eth0\",\n  \"ipv4_address\": \"10.0.0.1\",\n"
      "  \"bpf_programs\": null\n}");
}

TEST(ModelEncode, UnknownInterfaceShape) {
  const L3afBpfPrograms e{"h", "add", "", BpfPrograms{}};
  EXPECT_EQ(encode(e),
            "{\n  \"host_name\": \"h\",\n  \"iface\": \"add\",\n  \"ipv4_address\": \"\",\n"
            "  \"bpf_programs\": {\n    \"xdp_ingress\": null,\n    \"tc_ingress\": null,\n"
            "    \"tc_egress\": null,\n    \"probes\": null\n  }\n}");
}

TEST(ModelEncode, ZeroProgramHas31KeysInTableOrder) {
  const L3afBpfPrograms e{
      "h", "e", "",
      BpfPrograms{
          {}, std::vector<BpfProgram>{}, std::nullopt, std::vector<BpfProgram>{BpfProgram{}}}};
  EXPECT_EQ(encode(e),
            "{\n  \"host_name\": \"h\",\n  \"iface\": \"e\",\n  \"ipv4_address\": \"\",\n"
            "  \"bpf_programs\": {\n    \"xdp_ingress\": null,\n    \"tc_ingress\": [],\n"
            "    \"tc_egress\": null,\n    \"probes\": [\n      " +
                zero_program("      ") + "\n    ]\n  }\n}");
}

TEST(ModelEncode, NestedListsNullEmptyAndFilled) {
  BpfProgram p;
  p.map_args =
      std::vector<MapArg>{MapArg{"m1", std::nullopt}, MapArg{"m2", std::vector<KeyValue>{}},
                          MapArg{"m3", std::vector<KeyValue>{{-1, 9}}}};
  p.monitor_maps = std::vector<MonitorMap>{};
  const std::string out = encode_compact(p);
  EXPECT_NE(out.find(R"("map_args":[{"name":"m1","args":null},{"name":"m2","args":[]},)"
                     R"({"name":"m3","args":[{"key":-1,"value":9}]}])"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find(R"("config_args":null,"monitor_maps":[],"ebpf_package_repo_url":"")"),
            std::string::npos)
      << out;
}

TEST(ModelEncode, MonitorMapKeyEndOnlyWhenSet) {
  BpfProgram p;
  MonitorMap range{"m", 2, "scalar"};
  range.key_end = 5;
  p.monitor_maps = std::vector<MonitorMap>{{"n", 0, "avg"}, range};
  const std::string out = encode_compact(p);
  EXPECT_NE(out.find(R"("monitor_maps":[{"name":"n","key":0,"aggregator":"avg"},)"
                     R"({"name":"m","key":2,"aggregator":"scalar","key_end":5}])"),
            std::string::npos)
      << "the original's entries unchanged, the extension after them: " << out;
}

TEST(ModelEncode, ArgsSortedWithGoNumbersAndEscapes) {
  BpfProgram p;
  p.start_args = json::Object{{"rate", json::Value(std::string("2"))},
                              {"Ports", json::Value(std::string("80,<8080>"))},
                              {"big", json::Value(1e21)},
                              {"small", json::Value(1.5e-7)},
                              {"neg0", json::Value(-0.0)},
                              {"n", json::Value(123456789012.0)}};
  const std::string out = encode_compact(p);
  EXPECT_NE(out.find(R"("start_args":{"Ports":"80,\u003c8080\u003e","big":1e+21,"n":123456789012,)"
                     R"("neg0":-0,"rate":"2","small":1.5e-7})"),
            std::string::npos)
      << out;
}

TEST(ModelEncode, CompactProgramStartsWithIdAndEndsWithEntry) {
  BpfProgram p;
  p.id = 7;
  p.entry_function_name = "f";
  const std::string out = encode_compact(p);
  EXPECT_EQ(out.rfind("{\"id\":7,\"name\":\"\",\"seq_id\":0,", 0), 0u) << out;
  EXPECT_EQ(out.substr(out.size() - 27), ",\"entry_function_name\":\"f\"}");
  EXPECT_EQ(out.find(' '), std::string::npos);
}

TEST(ModelEncode, ArrayForms) {
  EXPECT_EQ(encode(std::vector<L3afBpfPrograms>{}), "[]");
  EXPECT_EQ(encode_store({}), "null");
  const std::vector<L3afBpfPrograms> two{{"h", "a", "", std::nullopt},
                                         {"h", "b", "", std::nullopt}};
  EXPECT_EQ(encode(two),
            "[\n  {\n    \"host_name\": \"h\",\n    \"iface\": \"a\",\n"
            "    \"ipv4_address\": \"\",\n    \"bpf_programs\": null\n  },\n  {\n"
            "    \"host_name\": \"h\",\n    \"iface\": \"b\",\n"
            "    \"ipv4_address\": \"\",\n    \"bpf_programs\": null\n  }\n]");
  EXPECT_EQ(encode_store({two[0]}),
            "[\n {\n  \"host_name\": \"h\",\n  \"iface\": \"a\",\n"
            "  \"ipv4_address\": \"\",\n  \"bpf_programs\": null\n }\n]");
}

}  // namespace
}  // namespace l3afd::model
