// [ebpf-repo] keys of signed repositories (extension, docs/config.md): trusted-keys-dir,
// signature-policy, signature-policy-by-url; defaults, values, and fatal errors naming the key.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "config/config.h"
#include "unit/config/config_fixture.h"

namespace l3afd::config {
namespace {

using namespace fixture;
using Rules = std::vector<SignaturePolicyRule>;

TEST(ConfigSignatures, DefaultsKeepUnsignedRepositoriesWorking) {
  const auto c = parse_ok("");
  EXPECT_EQ(c.ebpf_repo.trusted_keys_dir, "/etc/l3afd/trusted-keys");
  EXPECT_EQ(c.ebpf_repo.signature_policy, SignaturePolicy::IfPresent);
  EXPECT_TRUE(c.ebpf_repo.signature_policy_by_url.empty());
  EXPECT_TRUE(c.warnings.empty());
}

TEST(ConfigSignatures, EachPolicyIsRead) {
  EXPECT_EQ(parse_ok("[ebpf-repo]\nsignature-policy: require\n").ebpf_repo.signature_policy,
            SignaturePolicy::Require);
  EXPECT_EQ(parse_ok("[ebpf-repo]\nsignature-policy: off\n").ebpf_repo.signature_policy,
            SignaturePolicy::Off);
  EXPECT_EQ(parse_ok("[ebpf-repo]\nsignature-policy: if-present\n").ebpf_repo.signature_policy,
            SignaturePolicy::IfPresent);
  EXPECT_EQ(parse_ok("[ebpf-repo]\ntrusted-keys-dir: /opt/keys\n").ebpf_repo.trusted_keys_dir,
            "/opt/keys");
  EXPECT_EQ(parse_ok("[ebpf-repo]\ntrusted-keys-dir:\n").ebpf_repo.trusted_keys_dir, "")
      << "empty: no trusted keys";
}

TEST(ConfigSignatures, UnknownPolicyIsFatalNamingTheKey) {
  EXPECT_EQ(parse_error(std::string(kMinimal) + "[ebpf-repo]\nsignature-policy: Require\n"),
            "t.cfg: [ebpf-repo] signature-policy: \"Require\" is not one of require, "
            "if-present, off");
  EXPECT_EQ(parse_error(std::string(kMinimal) + "[ebpf-repo]\nsignature-policy:\n"),
            "t.cfg: [ebpf-repo] signature-policy: \"\" is not one of require, if-present, off");
}

TEST(ConfigSignatures, RulesKeepColonsAndEqualsOfTheirUrls) {
  // The first ':' of the line separates the key; the last '=' of a rule its policy.
  const auto c = parse_ok(
      "[ebpf-repo]\nsignature-policy-by-url: https://repo.example:8443/l3af/=require, "
      "http://h/r?token=a=b=off ,file:///srv/repo=if-present\n");
  EXPECT_EQ(c.ebpf_repo.signature_policy_by_url,
            (Rules{{"https://repo.example:8443/l3af/", SignaturePolicy::Require},
                   {"http://h/r?token=a=b", SignaturePolicy::Off},
                   {"file:///srv/repo", SignaturePolicy::IfPresent}}));
  // '=' as the key separator works as well, and continuation lines split nothing.
  const auto d =
      parse_ok("[ebpf-repo]\nsignature-policy-by-url = https://a/ = require,\n  https://b/=off\n");
  EXPECT_EQ(d.ebpf_repo.signature_policy_by_url, (Rules{{"https://a/", SignaturePolicy::Require},
                                                        {"https://b/", SignaturePolicy::Off}}));
  EXPECT_TRUE(parse_ok("[ebpf-repo]\nsignature-policy-by-url:\n")
                  .ebpf_repo.signature_policy_by_url.empty());
}

TEST(ConfigSignatures, BadRulesAreFatalNamingTheKeyAndTheRule) {
  const std::string base = std::string(kMinimal) + "[ebpf-repo]\nsignature-policy-by-url: ";
  EXPECT_EQ(parse_error(base + "https://a/\n"),
            "t.cfg: [ebpf-repo] signature-policy-by-url: \"https://a/\" is not "
            "<url prefix>=<policy>");
  EXPECT_EQ(parse_error(base + "https://a/=sometimes\n"),
            "t.cfg: [ebpf-repo] signature-policy-by-url: \"https://a/=sometimes\": "
            "\"sometimes\" is not one of require, if-present, off");
  EXPECT_EQ(parse_error(base + "repo.example/=off\n"),
            "t.cfg: [ebpf-repo] signature-policy-by-url: \"repo.example/=off\": the url prefix "
            "must start with file://, http:// or https://");
  EXPECT_EQ(parse_error(base + "=require\n"),
            "t.cfg: [ebpf-repo] signature-policy-by-url: \"=require\": the url prefix must "
            "start with file://, http:// or https://");
  // A continuation line without a comma joins two rules: the message stays on one line.
  EXPECT_EQ(parse_error(base + "https://a/=off\n  https://b/=on\n"),
            "t.cfg: [ebpf-repo] signature-policy-by-url: \"https://a/=off\\x0ahttps://b/=on\": "
            "\"on\" is not one of require, if-present, off");
  EXPECT_EQ(parse_error(base + "https://a/=off, https://a/=require\n"),
            "t.cfg: [ebpf-repo] signature-policy-by-url: url prefix \"https://a/\" is given "
            "twice");
}

TEST(ConfigSignatures, SchemeOfARuleIsCaseInsensitive) {
  EXPECT_EQ(parse_ok("[ebpf-repo]\nsignature-policy-by-url: HTTPS://A/=off\n")
                .ebpf_repo.signature_policy_by_url,
            (Rules{{"HTTPS://A/", SignaturePolicy::Off}}));
}

}  // namespace
}  // namespace l3afd::config
