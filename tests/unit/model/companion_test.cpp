// The `companion` extension of a program (docs/compatibility.md §11.7): decoded with Go's key
// matching but no unknown member, written only when set (the original's payloads stay
// byte-exact), round-tripped through GET and store encodings, and validated — every bad input a
// 400 whose field is the JSON pointer of the member. Accounts are the host's real ones, looked
// up here independently (getpwnam, /etc/group) to know what resolve_companion must find.
#include <grp.h>
#include <linux/capability.h>
#include <pwd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>
#include <string>

#include "model/companion.h"
#include "model/l3af_json.h"
#include "model/validate.h"

namespace l3afd::model {
namespace {

constexpr const char* kAt = "/0/bpf_programs/xdp_ingress/0/companion";

std::string xdp(std::string_view program_members) {
  return R"([{"host_name":"h","iface":"eth0","bpf_programs":{"xdp_ingress":[{)" +
         std::string(program_members) + "}]}}]";
}

const BpfProgram& first_xdp(const std::vector<L3afBpfPrograms>& v) {
  return v.at(0).bpf_programs.value().xdp_ingress.value().at(0);
}

std::vector<L3afBpfPrograms> decoded(std::string_view body) {
  auto r = decode_programs(body);
  EXPECT_TRUE(r.has_value()) << body << "\n" << (r ? "" : r.error().message);
  return r ? *r : std::vector<L3afBpfPrograms>{};
}

Error decode_error(std::string_view body) {
  auto r = decode_programs(body);
  EXPECT_FALSE(r.has_value()) << body;
  return r ? Error{} : r.error();
}

std::string fixture(const std::string& name) {
  std::ifstream f(std::string(L3AFD_JSON_FIXTURES) + "/" + name, std::ios::binary);
  std::ostringstream s;
  s << f.rdbuf();
  return s.str();
}

/// The host's account `name` as getpwnam(3) sees it (the oracle resolve_companion must agree
/// with); fails the test when it does not exist.
passwd account(const char* name) {
  const passwd* pw = ::getpwnam(name);
  EXPECT_NE(pw, nullptr) << name << " must exist (Debian base system)";
  return pw != nullptr ? *pw : passwd{};
}

gid_t group_id(const char* name) {
  const group* gr = ::getgrnam(name);
  EXPECT_NE(gr, nullptr) << name << " must exist (Debian base system)";
  return gr != nullptr ? gr->gr_gid : 0;
}

// ---- decoding ------------------------------------------------------------------------------

TEST(CompanionDecode, AllMembers) {
  const auto v = decoded(
      xdp(R"("name":"p","companion":{"user":"nobody","group":"nogroup",)"
          R"("environment":{"B":"2","A":"x=y"},"capabilities":["CAP_BPF","cap_net_admin"]})"));
  const auto& c = first_xdp(v).companion;
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->user, "nobody");
  EXPECT_EQ(c->group, "nogroup");
  EXPECT_EQ(c->environment, (std::map<std::string, std::string>{{"A", "x=y"}, {"B", "2"}}));
  EXPECT_EQ(c->capabilities, (std::vector<std::string>{"CAP_BPF", "cap_net_admin"}));
}

TEST(CompanionDecode, AbsentNullAndEmptyAreDistinct) {
  EXPECT_FALSE(first_xdp(decoded(xdp(R"("name":"p")"))).companion.has_value());
  EXPECT_FALSE(first_xdp(decoded(xdp(R"("name":"p","companion":null)"))).companion.has_value());
  const auto empty = first_xdp(decoded(xdp(R"("name":"p","companion":{})"))).companion;
  ASSERT_TRUE(empty.has_value());
  EXPECT_EQ(*empty, CompanionSettings{});
  const auto nulls = first_xdp(decoded(
      xdp(R"("companion":{"user":null,"group":null,"environment":null,"capabilities":null})")));
  EXPECT_EQ(nulls.companion, CompanionSettings{}) << "a null member is an absent one";
}

TEST(CompanionDecode, KeysMatchLikeTheRestAndRepeatsMerge) {
  // Go's rules everywhere else: exact, then case-insensitive; a repeated object merges.
  const auto v = decoded(xdp(R"("Companion":{"USER":"nobody"},"companion":{"Group":"nogroup",)"
                             R"("environment":{"A":"1"}},"companion":{"environment":{"A":"2"}})"));
  const auto& c = first_xdp(v).companion;
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->user, "nobody");
  EXPECT_EQ(c->group, "nogroup");
  EXPECT_EQ(c->environment, (std::map<std::string, std::string>{{"A", "2"}}));
}

TEST(CompanionDecode, AnUnknownMemberIsRefusedNotIgnored) {
  const Error e = decode_error(xdp(R"("name":"p","companion":{"usr":"nobody"})"));
  EXPECT_EQ(e.code, Errc::InvalidPayload);
  ASSERT_EQ(e.items.size(), 1u);
  EXPECT_EQ(e.items[0].field, std::string(kAt) + "/usr");
  EXPECT_EQ(e.items[0].program, "p");
  EXPECT_EQ(e.items[0].iface, "eth0");
  EXPECT_NE(e.message.find("unknown member of companion"), std::string::npos) << e.message;
}

TEST(CompanionDecode, WrongTypesNameTheValue) {
  struct Case {
    std::string body;
    std::string field;
  };
  for (const Case& c : std::vector<Case>{
           {R"("companion":"nobody")", ""},
           {R"("companion":{"user":65534})", "/user"},
           {R"("companion":{"group":true})", "/group"},
           {R"("companion":{"environment":["A=1"]})", "/environment"},
           {R"("companion":{"environment":{"A":1}})", "/environment/A"},
           {R"("companion":{"capabilities":"CAP_BPF"})", "/capabilities"},
           {R"("companion":{"capabilities":["CAP_BPF",12]})", "/capabilities/1"},
       }) {
    const Error e = decode_error(xdp(c.body));
    EXPECT_EQ(e.code, Errc::InvalidJson) << c.body;
    ASSERT_EQ(e.items.size(), 1u) << c.body;
    EXPECT_EQ(e.items[0].field, kAt + c.field) << c.body;
  }
}

// ---- encoding ------------------------------------------------------------------------------

TEST(CompanionEncode, WithoutTheExtensionTheOriginalsOutputIsByteExact) {
  auto v = decode_programs(fixture("ratelimiting_add_payload.json"));
  ASSERT_TRUE(v);
  EXPECT_FALSE(first_xdp(*v).companion.has_value());
  const std::string get = encode(v->at(0));
  EXPECT_EQ(get + "\n", fixture("ratelimiting_get_expected.json"));
  EXPECT_EQ(encode_store(*v) + "\n", fixture("ratelimiting_store_expected.json"));
  EXPECT_EQ(get.find("companion"), std::string::npos);
}

TEST(CompanionEncode, LastAndOnlyTheMembersSet) {
  BpfProgram p;
  p.entry_function_name = "f";
  p.companion =
      CompanionSettings{.user = "nobody",
                        .group = "nogroup",
                        .environment = std::map<std::string, std::string>{{"Z", "<z>"}, {"A", "1"}},
                        .capabilities = std::vector<std::string>{"CAP_BPF", "x"}};
  EXPECT_EQ(encode_compact(p).substr(encode_compact(p).find(R"("entry_function_name")")),
            R"("entry_function_name":"f","companion":{"user":"nobody","group":"nogroup",)"
            R"("environment":{"A":"1","Z":"\u003cz\u003e"},"capabilities":["CAP_BPF","x"]}})");
  p.companion = CompanionSettings{.user = "nobody"};
  EXPECT_EQ(encode_compact(p).substr(encode_compact(p).find(R"("companion")")),
            R"("companion":{"user":"nobody"}})");
  p.companion = CompanionSettings{.environment = std::map<std::string, std::string>{},
                                  .capabilities = std::vector<std::string>{}};
  EXPECT_EQ(encode_compact(p).substr(encode_compact(p).find(R"("companion")")),
            R"("companion":{"environment":{},"capabilities":[]}})");
  p.companion = CompanionSettings{};
  EXPECT_EQ(encode_compact(p).substr(encode_compact(p).find(R"("companion")")),
            R"("companion":{}})");
}

TEST(CompanionEncode, GetIndentation) {
  L3afBpfPrograms e{"h", "eth0", "", BpfPrograms{}};
  BpfProgram p;
  p.companion = CompanionSettings{.user = "nobody",
                                  .environment = std::map<std::string, std::string>{{"A", "1"}}};
  e.bpf_programs->xdp_ingress = std::vector<BpfProgram>{p};
  const std::string out = encode(e);
  EXPECT_NE(out.find("        \"entry_function_name\": \"\",\n"
                     "        \"companion\": {\n"
                     "          \"user\": \"nobody\",\n"
                     "          \"environment\": {\n"
                     "            \"A\": \"1\"\n"
                     "          }\n"
                     "        }\n"
                     "      }\n"),
            std::string::npos)
      << out;
}

TEST(CompanionEncode, RoundTripsThroughGetAndStore) {
  const std::string body =
      xdp(R"("name":"p","cmd_start":"bin/c","companion":{"user":"nobody","group":"65534",)"
          R"("environment":{"PATH":"/usr/bin","EMPTY":""},"capabilities":["CAP_BPF"]})");
  const auto v = decoded(body);
  for (const std::string& text : {encode(v), encode_store(v)}) {
    auto again = decode_programs(text);
    ASSERT_TRUE(again) << text;
    EXPECT_EQ(*again, v) << text;
    EXPECT_EQ(encode_store(*again), encode_store(v));
  }
}

// ---- resolution ----------------------------------------------------------------------------

TEST(CompanionResolve, NothingSetKeepsTheDaemonsIdentityAndGivesNoEnvironment) {
  auto id = resolve_companion(CompanionSettings{});
  ASSERT_TRUE(id) << id.error().to_string();
  EXPECT_EQ(*id, CompanionIdentity{});
}

TEST(CompanionResolve, UserByNameTakesItsPrimaryGroup) {
  const passwd nobody = account("nobody");
  auto id = resolve_companion(CompanionSettings{.user = "nobody"});
  ASSERT_TRUE(id) << id.error().to_string();
  EXPECT_TRUE(id->change_user);
  EXPECT_EQ(id->uid, nobody.pw_uid);
  EXPECT_EQ(id->gid, nobody.pw_gid);
  EXPECT_NE(std::find(id->groups.begin(), id->groups.end(), nobody.pw_gid), id->groups.end());
}

TEST(CompanionResolve, UserAndGroupByNumberWithoutPasswdEntry) {
  // 4000000000: far above any allocated uid; no passwd entry.
  ASSERT_EQ(::getpwuid(4000000000U), nullptr);
  auto id = resolve_companion(CompanionSettings{.user = "4000000000", .group = "4000000001"});
  ASSERT_TRUE(id) << id.error().to_string();
  EXPECT_EQ(id->uid, 4000000000U);
  EXPECT_EQ(id->gid, 4000000001U);
  EXPECT_EQ(id->groups, std::vector<gid_t>{4000000001U}) << "member of its own group only";
}

TEST(CompanionResolve, GroupOverridesThePrimaryAndSupplementaryGroupsFollowEtcGroup) {
  const gid_t root_gid = group_id("root");
  auto id = resolve_companion(CompanionSettings{.user = "nobody", .group = "root"});
  ASSERT_TRUE(id) << id.error().to_string();
  EXPECT_EQ(id->gid, root_gid);
  // The oracle: the group given plus every group of /etc/group listing the user.
  std::set<gid_t> want{root_gid};
  std::ifstream etc("/etc/group");
  for (std::string line; std::getline(etc, line);) {
    std::vector<std::string> f;
    std::stringstream in(line);
    for (std::string x; std::getline(in, x, ':');) f.push_back(x);
    if (f.size() < 4) continue;
    std::stringstream members(f[3]);
    for (std::string m; std::getline(members, m, ',');) {
      if (m == "nobody") want.insert(static_cast<gid_t>(std::stoul(f[2])));
    }
  }
  EXPECT_EQ(std::set<gid_t>(id->groups.begin(), id->groups.end()), want);
}

TEST(CompanionResolve, EnvironmentSortedAndCapabilitiesAsBits) {
  auto id = resolve_companion(CompanionSettings{
      .user = "nobody",
      .environment = std::map<std::string, std::string>{{"B", "x=y"}, {"A", ""}, {"_a1", "z"}},
      .capabilities = std::vector<std::string>{"CAP_BPF", "cap_net_admin", "CAP_BPF"}});
  ASSERT_TRUE(id) << id.error().to_string();
  EXPECT_EQ(id->environment, (std::vector<std::string>{"A=", "B=x=y", "_a1=z"}));
  EXPECT_EQ(id->capabilities, (std::uint64_t{1} << CAP_BPF) | (std::uint64_t{1} << CAP_NET_ADMIN));
}

// ---- validation ----------------------------------------------------------------------------

std::vector<L3afBpfPrograms> request(const CompanionSettings& c) {
  BpfProgram p;
  p.name = "p";
  p.artifact = "p.tar.gz";
  p.version = "1.0";
  p.admin_status = "enabled";
  p.prog_type = "xdp";
  p.object_file = "p.bpf.o";
  p.entry_function_name = "f";
  p.cmd_start = "bin/p";
  p.user_program_daemon = true;
  p.companion = c;
  BpfPrograms b;
  b.xdp_ingress = std::vector<BpfProgram>{p};
  return {L3afBpfPrograms{"h", "eth0", "", b}};
}

ValidationContext context() {
  ValidationContext c;
  c.host_name = "h";
  c.companions = true;
  return c;
}

/// Expects a 400 (InvalidPayload) whose items are exactly `fields` (relative to the companion).
void expect_refused(const CompanionSettings& c, const std::vector<std::string>& fields,
                    const std::string& why) {
  const Status st = validate_programs(request(c), context());
  ASSERT_FALSE(st) << why;
  EXPECT_EQ(st.error().code, Errc::InvalidPayload) << why;
  std::vector<std::string> got;
  for (const auto& item : st.error().items) {
    got.push_back(item.field);
    EXPECT_EQ(item.program, "p") << why;
    EXPECT_EQ(item.iface, "eth0") << why;
    EXPECT_EQ(item.direction, "xdpingress") << why;
    EXPECT_FALSE(item.message.empty()) << why;
  }
  std::vector<std::string> want;
  for (const auto& f : fields) want.push_back(kAt + (f.empty() ? "" : "/" + f));
  EXPECT_EQ(got, want) << why << ": " << st.error().message;
}

TEST(CompanionValidate, AGoodExtensionPasses) {
  const auto ok = validate_programs(
      request(CompanionSettings{
          .user = "nobody",
          .group = "nogroup",
          .environment = std::map<std::string, std::string>{{"PATH", "/usr/bin:/bin"}},
          .capabilities = std::vector<std::string>{"CAP_BPF", "CAP_NET_ADMIN"}}),
      context());
  EXPECT_TRUE(ok) << ok.error().message;
  EXPECT_TRUE(validate_programs(request(CompanionSettings{}), context()));
  EXPECT_TRUE(validate_programs(request(CompanionSettings{.user = "root"}), context()));
}

TEST(CompanionValidate, UsersAndGroups) {
  expect_refused({.user = "l3afd-no-such-user"}, {"user"}, "unknown user");
  expect_refused({.user = "-nobody"}, {"user"}, "leading '-'");
  expect_refused({.user = "no body"}, {"user"}, "space");
  expect_refused({.user = ""}, {"user"}, "empty");
  expect_refused({.user = std::string(33, 'a')}, {"user"}, "longer than 32");
  expect_refused({.user = "4294967295"}, {"user"}, "(uid_t)-1");
  expect_refused({.user = "99999999999"}, {"user"}, "beyond 32 bits");
  expect_refused({.user = "nobody", .group = "l3afd-no-such-group"}, {"group"}, "unknown group");
  expect_refused({.user = "nobody", .group = "a:b"}, {"group"}, "':'");
  expect_refused({.group = "nogroup"}, {"group"}, "group without user");
  expect_refused({.user = "4000000000"}, {"group"}, "a uid without entry needs a group");
}

TEST(CompanionValidate, Environment) {
  using Env = std::map<std::string, std::string>;
  expect_refused({.environment = Env{{"1A", "x"}}}, {"environment/1A"}, "leading digit");
  expect_refused({.environment = Env{{"A-B", "x"}}}, {"environment/A-B"}, "'-'");
  expect_refused({.environment = Env{{"A=B", "x"}}}, {"environment/A=B"}, "'='");
  expect_refused({.environment = Env{{"", "x"}}}, {"environment/"}, "empty name");
  expect_refused({.environment = Env{{"a/b", "x"}}}, {"environment/a~1b"}, "pointer escaped");
  expect_refused({.environment = Env{{std::string(256, 'A'), "x"}}},
                 {"environment/" + std::string(256, 'A')}, "name too long");
  expect_refused({.environment = Env{{"A", std::string("x\0y", 3)}}}, {"environment/A"}, "NUL");
  Env many;
  for (std::size_t i = 0; i <= kMaxCompanionVariables; ++i) many["V" + std::to_string(i)] = "";
  expect_refused({.environment = many}, {"environment"}, "too many variables");
  expect_refused({.environment = Env{{"A", std::string(kMaxCompanionEnvironmentBytes, 'x')}}},
                 {"environment"}, "too many bytes");
  Env limit;  // exactly at both limits: fine
  std::size_t bytes = 0;
  for (std::size_t i = 0; i + 1 < kMaxCompanionVariables; ++i) {
    const std::string name = "V" + std::to_string(i);
    limit[name] = "";
    bytes += name.size() + 1;  // "Vn="
  }
  limit["LAST"] = std::string(kMaxCompanionEnvironmentBytes - bytes - 5, 'x');  // "LAST=x..."
  EXPECT_TRUE(validate_programs(request({.environment = limit}), context()))
      << "64 variables, 32 KiB in all";
}

TEST(CompanionValidate, Capabilities) {
  using Caps = std::vector<std::string>;
  expect_refused({.user = "nobody", .capabilities = Caps{"CAP_BPF", "CAP_NO_SUCH"}},
                 {"capabilities/1"}, "unknown name");
  expect_refused({.user = "nobody", .capabilities = Caps{"BPF"}}, {"capabilities/0"},
                 "without CAP_");
  expect_refused({.user = "nobody", .capabilities = Caps{"39"}}, {"capabilities/0"}, "a number");
  expect_refused({.user = "nobody", .capabilities = Caps{""}}, {"capabilities/0"}, "empty");
  expect_refused({.capabilities = Caps{"CAP_BPF"}}, {"capabilities"}, "without user");
  expect_refused({.user = "root", .capabilities = Caps{"CAP_BPF"}}, {"capabilities"}, "root");
  expect_refused({.user = "0", .capabilities = Caps{}}, {"capabilities"}, "uid 0");
}

TEST(CompanionValidate, NeedsCmdStartAndCollectsEveryProblem) {
  auto r = request(CompanionSettings{});
  r[0].bpf_programs->xdp_ingress->at(0).cmd_start.clear();
  const Status st = validate_programs(r, context());
  ASSERT_FALSE(st);
  ASSERT_EQ(st.error().items.size(), 1u);
  EXPECT_EQ(st.error().items[0].field, kAt);
  expect_refused({.user = "l3afd-no-such-user",
                  .group = "nogroup",
                  .environment = std::map<std::string, std::string>{{"1", ""}, {"OK", ""}},
                  .capabilities = std::vector<std::string>{"CAP_NOPE"}},
                 {"user", "environment/1", "capabilities/0"}, "all at once");
}

}  // namespace
}  // namespace l3afd::model
