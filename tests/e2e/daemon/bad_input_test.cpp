// Bad requests over real HTTP (docs/compatibility.md §4.8, §5.2, §7.2): each one gets its status,
// the JSON error body's code and, where the daemon names one, the errors[].field pointer; and
// nothing changes: not the kernel, not the bpffs, not the state file. The daemon starts each
// case with xdp-counter installed on interface A; bad programs target the free interface B.
#include <gtest/gtest.h>

#include <algorithm>
#include <functional>

#include "e2e/daemon/daemon_fixture.h"
#include "json/parse.h"
#include "model/l3af_json.h"

namespace l3afd::e2e {
namespace {

const std::string kP = "/0/bpf_programs/xdp_ingress/0/";

struct Ifaces {
  std::string a, b;
};

struct BadCase {
  const char* name;
  const char* op;  ///< add | update | delete
  std::function<std::string(const Ifaces&)> body;
  int status;
  const char* code;
  std::string field;  ///< expected errors[].field; "" = the daemon names none
  bool step = false;  ///< apply failure: the body names the failing step
};

using Mutate = std::function<void(model::BpfProgram&)>;

/// add/update body: one entry for B carrying a mutated xdp-counter on xdp_ingress.
std::function<std::string(const Ifaces&)> prog_body(Mutate m) {
  return [m](const Ifaces& i) {
    auto p = DaemonFixture::xdp_counter();
    m(p);
    return model::encode(std::vector<model::L3afBpfPrograms>{DaemonFixture::entry(i.b, p)});
  };
}

/// Textual replacement in the canonical body (for type errors the model cannot express).
std::function<std::string(const Ifaces&)> replaced(std::string from, std::string to) {
  return [from, to](const Ifaces& i) {
    std::string s = model::encode(std::vector<model::L3afBpfPrograms>{
        DaemonFixture::entry(i.b, DaemonFixture::xdp_counter())});
    const auto pos = s.find(from);
    EXPECT_NE(pos, std::string::npos) << from;
    if (pos != std::string::npos) s.replace(pos, from.size(), to);
    return s;
  };
}

std::function<std::string(const Ifaces&)> entry_body(
    std::function<void(model::L3afBpfPrograms&)> m) {
  return [m](const Ifaces& i) {
    auto e = DaemonFixture::entry(i.b, DaemonFixture::xdp_counter());
    m(e);
    return model::encode(std::vector<model::L3afBpfPrograms>{e});
  };
}

std::vector<BadCase> cases() {
  return {
      {"malformed_json", "add", [](const Ifaces&) { return std::string("[{\"host_name\": "); }, 400,
       "invalid_json", ""},
      {"top_level_object", "add",
       [](const Ifaces& i) {
         return model::encode(DaemonFixture::entry(i.b, DaemonFixture::xdp_counter()));
       },
       400, "invalid_json", ""},
      {"seq_id_string", "add", replaced("\"seq_id\": 1,", "\"seq_id\": \"1\","), 400,
       "invalid_json", kP + "seq_id"},
      {"admin_status_number", "add",
       replaced("\"admin_status\": \"enabled\"", "\"admin_status\": 1"), 400, "invalid_json",
       kP + "admin_status"},
      {"int_out_of_range", "add", replaced("\"cpu\": 0,", "\"cpu\": 9223372036854775808,"), 400,
       "invalid_json", kP + "cpu"},
      {"wrong_host", "add", entry_body([](auto& e) { e.host_name = "not-" + e.host_name; }), 400,
       "wrong_host", "/0/host_name"},
      {"unknown_interface", "add", entry_body([](auto& e) { e.iface = "l3nosuch0"; }), 400,
       "unknown_interface", "/0/iface"},
      {"loopback_interface", "add", entry_body([](auto& e) { e.iface = "lo"; }), 400,
       "unknown_interface", "/0/iface"},
      {"name_with_slash", "add", prog_body([](auto& p) { p.name = "xdp/counter"; }), 400,
       "invalid_payload", kP + "name"},
      {"name_dotdot", "add", prog_body([](auto& p) { p.name = ".."; }), 400, "invalid_payload",
       kP + "name"},
      {"name_with_nul", "add", prog_body([](auto& p) { p.name = std::string("xdp\0c", 5); }), 400,
       "invalid_payload", kP + "name"},
      {"version_with_slash", "add", prog_body([](auto& p) { p.version = "1.0/x"; }), 400,
       "invalid_payload", kP + "version"},
      {"artifact_not_archive", "add",
       prog_body([](auto& p) { p.artifact = "l3af_xdp_counter.tar"; }), 400, "invalid_payload",
       kP + "artifact"},
      {"artifact_with_slash", "add",
       prog_body([](auto& p) { p.artifact = "x/l3af_xdp_counter.tar.gz"; }), 400, "invalid_payload",
       kP + "artifact"},
      {"prog_type_tc_in_xdp", "add", prog_body([](auto& p) { p.prog_type = "tc"; }), 400,
       "invalid_payload", kP + "prog_type"},
      {"prog_type_unknown_in_tc", "add",
       [](const Ifaces& i) {
         auto p = DaemonFixture::tc_counter();
         p.prog_type = "socket";
         return model::encode(std::vector<model::L3afBpfPrograms>{
             DaemonFixture::entry(i.b, std::nullopt, p, std::nullopt)});
       },
       400, "invalid_payload", "/0/bpf_programs/tc_ingress/0/prog_type"},
      {"admin_status_capitalised", "add", prog_body([](auto& p) { p.admin_status = "Enabled"; }),
       400, "invalid_payload", kP + "admin_status"},
      {"object_file_dotdot", "add",
       prog_body([](auto& p) { p.object_file = "../xdp_counter.bpf.o"; }), 400, "invalid_payload",
       kP + "object_file"},
      {"object_file_missing_from_archive", "add",
       prog_body([](auto& p) { p.object_file = "missing.bpf.o"; }), 400, "invalid_payload",
       kP + "object_file", true},
      {"entry_function_unknown", "add",
       prog_body([](auto& p) { p.entry_function_name = "no_such_function"; }), 400,
       "invalid_payload", kP + "entry_function_name", true},
      {"map_args_unknown_map", "add", prog_body([](auto& p) {
         p.map_args =
             std::vector<model::MapArg>{{"no_such_map", std::vector<model::KeyValue>{{0, 1}}}};
       }),
       400, "invalid_payload", kP + "map_args", true},
      // A map of file descriptors: a client must not splice the daemon's fds into a chain.
      {"map_args_fd_valued_map", "add", prog_body([](auto& p) {
         p.map_args = std::vector<model::MapArg>{
             {"xdp_counter_next_prog", std::vector<model::KeyValue>{{0, 3}}}};
       }),
       400, "invalid_payload", kP + "map_args", true},
      {"monitor_aggregator_unknown", "add", prog_body([](auto& p) {
         p.monitor_maps = std::vector<model::MonitorMap>{{"xdp_counter_packets", 0, "sum"}};
       }),
       400, "invalid_payload", kP + "monitor_maps/0/aggregator"},
      {"start_args_member_not_string", "add",
       replaced("\"start_args\": null", "\"start_args\": {\"port\": 8080}"), 400, "invalid_payload",
       kP + "start_args/port"},
      {"two_enabled_programs_one_hook", "add",
       [](const Ifaces& i) {
         auto e = DaemonFixture::entry(i.b, DaemonFixture::xdp_counter());
         auto second = DaemonFixture::xdp_counter();
         second.name = "xdp-counter-2";
         e.bpf_programs->xdp_ingress->push_back(second);
         return model::encode(std::vector<model::L3afBpfPrograms>{e});
       },
       409, "conflict", "/0/bpf_programs/xdp_ingress/1"},
      {"root_package_name", "add", prog_body([](auto& p) { p.name = "xdp-root"; }), 400,
       "invalid_payload", kP + "name"},
      {"interface_named_links", "add", entry_body([](auto& e) { e.iface = "links"; }), 400,
       "invalid_payload", "/0/iface"},
      {"repo_url_unknown_scheme", "add", prog_body([](auto& p) {
         p.version = "latest";  // not in the package cache yet: the repository is used
         p.ebpf_package_repo_url = "ftp://x";
       }),
       400, "invalid_payload", kP + "ebpf_package_repo_url"},
      {"repo_path_missing", "add", prog_body([](auto& p) {
         p.version = "latest";
         p.ebpf_package_repo_url = "file:///nonexistent-l3afd-e2e-repo";
       }),
       400, "invalid_payload", kP + "artifact", true},
      // The same with the version interface A already fetched from the configured repository:
      // the package cache must not stand in for a different repository.
      {"repo_path_missing_cached_version", "add",
       prog_body([](auto& p) { p.ebpf_package_repo_url = "file:///nonexistent-l3afd-e2e-repo"; }),
       400, "invalid_payload", kP + "artifact", true},
      // A genuine failure while applying: the verifier refuses the program.
      {"verifier_rejects_program", "add", prog_body([](auto& p) {
         p.name = "test-verifier-reject";
         p.artifact = "l3af_test_verifier_reject.tar.gz";
         p.object_file = "verifier_reject.bpf.o";
         p.entry_function_name = "verifier_reject";
         p.map_args = std::nullopt;
         p.monitor_maps = std::nullopt;
       }),
       500, "apply_failed", "", true},
      // Companion commands must be executable regular files inside the package (issue 9).
      {"cmd_start_missing_from_package", "add",
       prog_body([](auto& p) { p.cmd_start = "no_such_binary"; }), 400, "invalid_payload",
       kP + "cmd_start", true},
      {"cmd_start_leaves_package", "add",
       prog_body([](auto& p) { p.cmd_start = "../../../../bin/sh"; }), 400, "invalid_payload",
       kP + "cmd_start"},
      {"cmd_start_not_executable", "add",
       prog_body([](auto& p) { p.cmd_start = "xdp_counter.bpf.o"; }), 400, "invalid_payload",
       kP + "cmd_start", true},
      {"start_args_not_string", "add",
       replaced("\"start_args\": null", "\"start_args\": {\"rate\": 2}"), 400, "invalid_payload",
       kP + "start_args/rate"},
      {"probe_without_object_file", "add", entry_body([](auto& e) {
         auto p = DaemonFixture::xdp_counter();
         p.name = "probe-x";
         p.prog_type = "tracepoint";
         p.object_file.clear();
         e.bpf_programs->probes = std::vector<model::BpfProgram>{p};
       }),
       400, "invalid_payload", "/0/bpf_programs/probes/0/object_file"},
      {"bpf_programs_null", "add", entry_body([](auto& e) { e.bpf_programs.reset(); }), 400,
       "invalid_payload", "/0/bpf_programs"},
      {"update_wrong_host", "update", entry_body([](auto& e) { e.host_name = "other-host"; }), 400,
       "wrong_host", "/0/host_name"},
      {"update_seq_id_float", "update", replaced("\"seq_id\": 1,", "\"seq_id\": 1.0,"), 400,
       "invalid_json", kP + "seq_id"},
      {"delete_wrong_host", "delete",
       [](const Ifaces& i) {
         return "[{\"host_name\":\"other-host\",\"iface\":\"" + i.a +
                "\",\"bpf_programs\":{\"xdp_ingress\":[\"xdp-counter\"]}}]";
       },
       400, "wrong_host", "/0/host_name"},
      {"delete_root_name", "delete",
       [](const Ifaces& i) {
         return "[{\"host_name\":\"" + DaemonFixture::host() + "\",\"iface\":\"" + i.a +
                "\",\"bpf_programs\":{\"xdp_ingress\":[\"xdp-root\"]}}]";
       },
       400, "invalid_payload", "/0/bpf_programs/xdp_ingress/0"},
      {"delete_names_not_strings", "delete",
       [](const Ifaces& i) {
         return "[{\"host_name\":\"" + DaemonFixture::host() + "\",\"iface\":\"" + i.a +
                "\",\"bpf_programs\":{\"xdp_ingress\":[7]}}]";
       },
       400, "invalid_json", "/0/bpf_programs/xdp_ingress/0"},
  };
}

void PrintTo(const BadCase& c, std::ostream* os) {
  *os << c.name;
}

/// Field pointers and step of an error body; fails the test when it is not the documented shape.
struct ErrorBody {
  std::string code;
  std::vector<std::string> fields;
  std::string step;
};

ErrorBody parse_error(const std::string& body) {
  ErrorBody out;
  auto root = json::parse(body);
  EXPECT_TRUE(root.has_value()) << body;
  if (!root || root->kind != json::Node::Kind::Map) return out;
  bool has_message = false, has_errors = false;
  for (const auto& m : root->members) {
    if (m.key == "code") out.code = m.value.text;
    if (m.key == "message") has_message = !m.value.text.empty();
    if (m.key == "step") out.step = m.value.text;
    if (m.key == "errors") {
      has_errors = m.value.kind == json::Node::Kind::List;
      for (const auto& e : m.value.elements) {
        for (const auto& f : e.members) {
          if (f.key == "field") out.fields.push_back(f.value.text);
        }
      }
    }
  }
  EXPECT_TRUE(has_message) << body;
  EXPECT_TRUE(has_errors) << body;
  return out;
}

class BadInput : public DaemonFixture, public ::testing::WithParamInterface<BadCase> {
 protected:
  void SetUp() override {
    ASSERT_EQ(a_.error(), "");
    ASSERT_EQ(b_.error(), "");
    ASSERT_TRUE(start_daemon());
    auto r = add({entry(a_.root_name(), xdp_counter())});
    ASSERT_EQ(r.status, 200) << r.body;
  }
  std::vector<std::string> ifaces() const { return {a_.root_name(), b_.root_name()}; }

  testing::VethPair a_;
  testing::VethPair b_;
};

TEST_P(BadInput, RefusedAndNothingChanges) {
  const BadCase& c = GetParam();
  const Ifaces i{a_.root_name(), b_.root_name()};
  const auto k0 = kernel_snapshot(ifaces());
  const auto s0 = state_bytes();
  const auto g0 = get_all().body;
  ASSERT_NE(s0, "<absent>");

  auto r = api("POST", std::string("/l3af/configs/v1/") + c.op, c.body(i));
  EXPECT_EQ(r.status, c.status) << r.body;
  EXPECT_EQ(r.header("Content-Type"), "application/json");
  const auto e = parse_error(r.body);
  EXPECT_EQ(e.code, c.code) << r.body;
  if (c.field.empty()) {
    EXPECT_TRUE(e.fields.empty()) << r.body;
  } else {
    EXPECT_NE(std::find(e.fields.begin(), e.fields.end(), c.field), e.fields.end())
        << "expected field " << c.field << " in " << r.body;
  }
  if (c.step) {
    EXPECT_NE(e.step, "") << r.body;
  }

  const auto k1 = kernel_snapshot(ifaces());
  EXPECT_EQ(k1, k0) << "before:\n" << k0.describe() << "after:\n" << k1.describe();
  EXPECT_EQ(state_bytes(), s0);
  EXPECT_TRUE(get_all().body == g0) << "GET changed";
}

INSTANTIATE_TEST_SUITE_P(Cases, BadInput, ::testing::ValuesIn(cases()),
                         [](const auto& param_info) { return std::string(param_info.param.name); });

class HttpErrors : public DaemonFixture {};

TEST_F(HttpErrors, UnknownPathIs404PlainText) {
  ASSERT_TRUE(start_daemon());
  auto r = api("GET", "/l3af/nothing/here");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.body, "404 page not found\n");
  EXPECT_NE(r.header("Content-Type").find("text/plain"), std::string::npos)
      << r.header("Content-Type");
  r = api("GET", "/l3af/configs/v1/");
  EXPECT_EQ(r.status, 404);
}

TEST_F(HttpErrors, WrongMethodIs405AndGetOfAddIsAnInterface) {
  ASSERT_TRUE(start_daemon());
  auto r = api("PUT", "/l3af/configs/v1/add", "[]");
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(r.body, "");
  r = api("GET", "/l3af/configs/v1/add");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, model::encode(view("add", "")));
}

TEST_F(HttpErrors, OversizedBodyIs413AndNothingChanges) {
  testing::VethPair v;
  ASSERT_EQ(v.error(), "");
  DaemonOptions opt;
  opt.max_body_size = 4096;
  ASSERT_TRUE(start_daemon(opt));
  auto r = add({entry(v.root_name(), xdp_counter())});
  ASSERT_EQ(r.status, 200) << r.body;
  const auto k0 = kernel_snapshot({v.root_name()});
  const auto s0 = state_bytes();
  auto big = entry(v.root_name(), tc_counter());
  big.ipv4_address = std::string(8192, '1');
  r = api("POST", "/l3af/configs/v1/update",
          model::encode(std::vector<model::L3afBpfPrograms>{big}));
  EXPECT_EQ(r.status, 413) << r.body;
  EXPECT_EQ(parse_error(r.body).code, "payload_too_large") << r.body;
  EXPECT_EQ(kernel_snapshot({v.root_name()}), k0);
  EXPECT_EQ(state_bytes(), s0);
  // The listener still serves afterwards.
  EXPECT_EQ(get(v.root_name()).status, 200);
}

}  // namespace
}  // namespace l3afd::e2e
