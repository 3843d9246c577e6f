// `[mtls] san-match-rules` (docs/compatibility.md §8.4, ours: anchored, unset = no restriction).
#include "tls/san_rules.h"

#include <gtest/gtest.h>

namespace l3afd::tls {
namespace {

TEST(HostName, Syntax) {
  EXPECT_TRUE(is_valid_host_name("ops.example.com"));
  EXPECT_TRUE(is_valid_host_name("a"));
  EXPECT_TRUE(is_valid_host_name("node_1.Example.COM"));
  EXPECT_TRUE(is_valid_host_name(std::string(63, 'a') + ".com"));
  EXPECT_FALSE(is_valid_host_name(std::string(64, 'a') + ".com"));
  EXPECT_FALSE(is_valid_host_name(""));
  EXPECT_FALSE(is_valid_host_name("a..b"));
  EXPECT_FALSE(is_valid_host_name(".a"));
  EXPECT_FALSE(is_valid_host_name("a."));
  EXPECT_FALSE(is_valid_host_name("-a.com"));
  EXPECT_FALSE(is_valid_host_name("a-.com"));
  EXPECT_FALSE(is_valid_host_name("*.example.com"));
  EXPECT_FALSE(is_valid_host_name("fleet-[0-9]+"));
  EXPECT_FALSE(is_valid_host_name("a b"));
}

TEST(SanRules, NoRulesAllowEveryone) {
  auto r = SanRules::compile({});
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->empty());
  EXPECT_TRUE(r->allows({}));
  EXPECT_TRUE(r->allows({"x.example.com"}));
}

TEST(SanRules, HostNameRulesAreExactAndCaseInsensitive) {
  auto r = SanRules::compile({"ops.example.com"});
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->allows({"ops.example.com"}));
  EXPECT_TRUE(r->allows({"OPS.Example.Com"}));
  EXPECT_FALSE(r->allows({"opsXexample.com"}));
  EXPECT_FALSE(r->allows({"ops.example.com.evil.org"}));
  EXPECT_FALSE(r->allows({"a.ops.example.com"}));
  EXPECT_FALSE(r->allows({}));
}

TEST(SanRules, RegularExpressionsMatchTheWholeName) {
  auto r = SanRules::compile({"fleet-[0-9]+\\.example\\.net", ".*\\.lab\\.internal"});
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->allows({"fleet-1.example.net"}));
  EXPECT_TRUE(r->allows({"FLEET-22.example.net"}));
  EXPECT_FALSE(r->allows({"fleet-1.example.net.evil"}));
  EXPECT_FALSE(r->allows({"my-fleet-1.example.net"}));
  EXPECT_TRUE(r->allows({"x.lab.internal"}));
  EXPECT_FALSE(r->allows({"lab.internal"}));
}

TEST(SanRules, NamesThatAreNotHostNamesAreIgnored) {
  auto r = SanRules::compile({".*"});
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->allows({"not a host"}));
  EXPECT_FALSE(r->allows({"*.example.com"}));
  EXPECT_TRUE(r->allows({"not a host", "ok.example.com"}));
}

TEST(SanRules, AnInvalidExpressionIsNamed) {
  auto r = SanRules::compile({"ok.example.com", "fleet-(["});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::InvalidPayload);
  EXPECT_NE(r.error().message.find("san-match-rules"), std::string::npos);
  EXPECT_NE(r.error().message.find("fleet-(["), std::string::npos);
}

}  // namespace
}  // namespace l3afd::tls
