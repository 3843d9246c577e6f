// artifact/trust.h: trust directories (real PEM files written by the test), ed25519 verification,
// the longest-prefix policy rule, the start-up check of require policies; and the SHA256SUMS
// parser (artifact/sha256.h).
#include "artifact/trust.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <stdlib.h>

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>

#include "artifact/sha256.h"
#include "component/artifact/signing.h"

namespace l3afd::artifact {
namespace {

namespace fs = std::filesystem;
using testing::read_file;
using testing::TestKey;
using testing::write_file;

class TrustDir : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "l3afd-trust-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    root_ = tmpl;
    dir_ = root_ / "keys";
    fs::create_directories(dir_);
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(root_, ec);
  }
  /// Expects load_dir to fail with `code`, the message naming `file` and containing `why`.
  void expect_bad(Errc code, const fs::path& file, const std::string& why) {
    auto keys = TrustedKeys::load_dir(dir_);
    ASSERT_FALSE(keys.has_value());
    EXPECT_EQ(keys.error().code, code) << keys.error().to_string();
    EXPECT_NE(keys.error().message.find(file.string()), std::string::npos) << keys.error().message;
    EXPECT_NE(keys.error().to_string().find(why), std::string::npos) << keys.error().to_string();
  }

  fs::path root_;
  fs::path dir_;
};

TEST_F(TrustDir, LoadsPemKeysInNameOrderAndIgnoresOtherFiles) {
  TestKey a, b;
  write_file(dir_ / "b.pem", b.public_pem());
  write_file(dir_ / "a.pem", a.public_pem());
  write_file(dir_ / "README", "not a key, not read");
  write_file(dir_ / "a.pem.bak", "garbage, not read either");
  auto keys = TrustedKeys::load_dir(dir_);
  ASSERT_TRUE(keys.has_value()) << keys.error().to_string();
  EXPECT_EQ(keys->size(), 2u);
  EXPECT_EQ(keys->verify("data", a.sign("data")), "a.pem");
  EXPECT_EQ(keys->verify("data", b.sign("data")), "b.pem");
  EXPECT_EQ(keys->verify("data", a.sign("other data")), std::nullopt);
  EXPECT_EQ(keys->verify("data", ""), std::nullopt);
  TestKey stranger;
  EXPECT_EQ(keys->verify("data", stranger.sign("data")), std::nullopt);
}

TEST_F(TrustDir, MissingDirectoryOrEmptyPathIsAnEmptySet) {
  auto missing = TrustedKeys::load_dir(root_ / "absent");
  ASSERT_TRUE(missing.has_value()) << missing.error().to_string();
  EXPECT_TRUE(missing->empty());
  auto none = TrustedKeys::load_dir("");
  ASSERT_TRUE(none.has_value());
  EXPECT_TRUE(none->empty());
}

TEST_F(TrustDir, GarbageKeyFileIsNamed) {
  write_file(dir_ / "broken.pem", "-----BEGIN PUBLIC KEY-----\nnot base64\n");
  expect_bad(Errc::InvalidPayload, dir_ / "broken.pem", "is not a PEM ed25519 public key");
}

TEST_F(TrustDir, PrivateKeyInTheTrustDirectoryIsRefused) {
  TestKey k;
  write_file(dir_ / "oops.pem", k.private_pem());
  expect_bad(Errc::InvalidPayload, dir_ / "oops.pem", "is not a PEM ed25519 public key");
}

TEST_F(TrustDir, KeyOfAnotherAlgorithmIsRefused) {
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> ec(
      EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"), &EVP_PKEY_free);
  ASSERT_TRUE(ec);
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), &BIO_free);
  ASSERT_EQ(PEM_write_bio_PUBKEY(bio.get(), ec.get()), 1);
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio.get(), &data);
  write_file(dir_ / "ec.pem", std::string(data, static_cast<std::size_t>(n)));
  expect_bad(Errc::InvalidPayload, dir_ / "ec.pem", "is a key of type EC; only ed25519");
}

TEST_F(TrustDir, DirectoryNamedLikeAKeyIsRefused) {
  fs::create_directories(dir_ / "sub.pem");
  expect_bad(Errc::InvalidPayload, dir_ / "sub.pem", "is not a regular file");
}

TEST_F(TrustDir, TrustDirThatIsAFileIsAnIoError) {
  write_file(root_ / "file", "x");
  auto keys = TrustedKeys::load_dir(root_ / "file");
  ASSERT_FALSE(keys.has_value());
  EXPECT_EQ(keys.error().code, Errc::Io);
  EXPECT_NE(keys.error().message.find((root_ / "file").string()), std::string::npos);
}

// The signature format is what the openssl command line writes (docs/security-packages.md):
// key pair, public key and signature made with the openssl CLI, verified by TrustedKeys.
TEST_F(TrustDir, SignatureWrittenByTheOpensslCommandLineVerifies) {
  const fs::path key = root_ / "key.pem";
  const fs::path sums = root_ / "SHA256SUMS";
  const fs::path sig = root_ / "SHA256SUMS.sig";
  write_file(sums, std::string(64, 'a') + "  l3af_x.tar.gz\n");
  const std::string q = "'";
  const std::string cmd = "openssl genpkey -algorithm ed25519 -out " + q + key.string() + q +
                          " && openssl pkey -in " + q + key.string() + q + " -pubout -out " + q +
                          (dir_ / "ops.pem").string() + q +
                          " && openssl pkeyutl -sign -rawin -inkey " + q + key.string() + q +
                          " -in " + q + sums.string() + q + " -out " + q + sig.string() + q;
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  auto keys = TrustedKeys::load_dir(dir_);
  ASSERT_TRUE(keys.has_value()) << keys.error().to_string();
  EXPECT_EQ(read_file(sig).size(), 64u);
  EXPECT_EQ(keys->verify(read_file(sums), read_file(sig)), "ops.pem");
  EXPECT_EQ(keys->verify(read_file(sums) + " ", read_file(sig)), std::nullopt);
}

// ---- policies
// ------------------------------------------------------------------------------------

RepositoryTrust rules_trust(SignaturePolicy def, std::vector<PolicyRule> rules) {
  return RepositoryTrust(def, std::move(rules), TrustedKeys());
}

TEST(RepositoryTrustPolicy, LongestMatchingPrefixWins) {
  auto t = rules_trust(SignaturePolicy::IfPresent,
                       {{"https://repo.example/", SignaturePolicy::Require},
                        {"https://repo.example/testing", SignaturePolicy::Off},
                        {"file:///srv/", SignaturePolicy::Off}});
  EXPECT_EQ(t.policy_for("https://repo.example/l3af"), SignaturePolicy::Require);
  EXPECT_EQ(t.policy_for("https://repo.example/testing"), SignaturePolicy::Off);
  EXPECT_EQ(t.policy_for("https://repo.example/testing/x"), SignaturePolicy::Off);
  EXPECT_EQ(t.policy_for("file:///srv/repo"), SignaturePolicy::Off);
  EXPECT_EQ(t.policy_for("http://repo.example/l3af"), SignaturePolicy::IfPresent)
      << "another scheme is another repository";
  EXPECT_EQ(t.policy_for("file:///other"), SignaturePolicy::IfPresent);
  // The order of the rules does not matter, only their length.
  auto u = rules_trust(SignaturePolicy::IfPresent,
                       {{"https://repo.example/testing", SignaturePolicy::Off},
                        {"https://repo.example/", SignaturePolicy::Require}});
  EXPECT_EQ(u.policy_for("https://repo.example/testing/x"), SignaturePolicy::Off);
  EXPECT_EQ(u.policy_for("https://repo.example/prod"), SignaturePolicy::Require);
}

TEST(RepositoryTrustPolicy, PrefixMatchesOnlyAtABoundary) {
  auto t = rules_trust(SignaturePolicy::Require, {{"https://repo.example", SignaturePolicy::Off},
                                                  {"https://h/testing", SignaturePolicy::Off}});
  EXPECT_EQ(t.policy_for("https://repo.example"), SignaturePolicy::Off);
  EXPECT_EQ(t.policy_for("https://repo.example/x"), SignaturePolicy::Off);
  EXPECT_EQ(t.policy_for("https://repo.example?x=1"), SignaturePolicy::Off);
  EXPECT_EQ(t.policy_for("https://repo.example.evil.org/x"), SignaturePolicy::Require);
  EXPECT_EQ(t.policy_for("https://repo.example:8443/x"), SignaturePolicy::Require);
  EXPECT_EQ(t.policy_for("https://h/testing2"), SignaturePolicy::Require);
}

TEST(RepositoryTrustPolicy, SchemeAndHostAreCaseInsensitivePathIsNot) {
  auto t = rules_trust(SignaturePolicy::IfPresent,
                       {{"https://Repo.Example/L3af/", SignaturePolicy::Require}});
  EXPECT_EQ(t.policy_for("HTTPS://repo.example/L3af/x"), SignaturePolicy::Require);
  EXPECT_EQ(t.policy_for("https://user:Pw@REPO.example/L3af/x"), SignaturePolicy::IfPresent)
      << "userinfo is part of the prefix comparison";
  EXPECT_EQ(t.policy_for("https://repo.example/l3af/x"), SignaturePolicy::IfPresent);
}

TEST(RepositoryTrustPolicy, NoRulesMeansTheDefault) {
  EXPECT_EQ(rules_trust(SignaturePolicy::Off, {}).policy_for("file:///x"), SignaturePolicy::Off);
  EXPECT_EQ(signature_policy_name(SignaturePolicy::IfPresent), "if-present");
  EXPECT_EQ(signature_policy_name(SignaturePolicy::Require), "require");
  EXPECT_EQ(signature_policy_name(SignaturePolicy::Off), "off");
}

TEST_F(TrustDir, RequireWithoutAnyKeyIsAConfigurationError) {
  auto keys = TrustedKeys::load_dir(dir_);  // empty directory
  ASSERT_TRUE(keys.has_value());
  auto def = make_repository_trust(SignaturePolicy::Require, {}, *keys);
  ASSERT_FALSE(def.has_value());
  EXPECT_EQ(def.error().code, Errc::InvalidPayload);
  EXPECT_EQ(def.error().message, "signature-policy: require, but " + dir_.string() +
                                     " holds no ed25519 public key (*.pem)");
  auto rule = make_repository_trust(
      SignaturePolicy::IfPresent,
      {{"https://a/", SignaturePolicy::Off}, {"https://b/", SignaturePolicy::Require}}, *keys);
  ASSERT_FALSE(rule.has_value());
  EXPECT_EQ(rule.error().message, "signature-policy-by-url: https://b/=require, but " +
                                      dir_.string() + " holds no ed25519 public key (*.pem)");
  // Without require, no key is acceptable (unsigned repositories keep working).
  auto lax = make_repository_trust(SignaturePolicy::IfPresent,
                                   {{"https://a/", SignaturePolicy::Off}}, *keys);
  ASSERT_TRUE(lax.has_value());
  // With a key, require is fine.
  TestKey k;
  write_file(dir_ / "k.pem", k.public_pem());
  auto with_key = TrustedKeys::load_dir(dir_);
  ASSERT_TRUE(with_key.has_value());
  EXPECT_TRUE(make_repository_trust(SignaturePolicy::Require, {}, *with_key).has_value());
}

// ---- SHA256SUMS
// ------------------------------------------------------------------------------------

const std::string kA(64, 'a');
const std::string kB = std::string(63, 'b') + "C";

TEST(Sha256Sums, FindsTheListedDigest) {
  const std::string text = kA + "  one.tar.gz\n" + kB + " *two.tar.gz\r\n\n";
  EXPECT_EQ(*detail::find_in_sha256sums(text, "one.tar.gz"), kA);
  EXPECT_EQ(*detail::find_in_sha256sums(text, "two.tar.gz"), std::string(63, 'b') + "c")
      << "binary marker accepted, CR ignored, digest lower-cased";
  EXPECT_EQ(*detail::find_in_sha256sums(text, "three.tar.gz"), std::nullopt);
  EXPECT_EQ(*detail::find_in_sha256sums(text, "./one.tar.gz"), std::nullopt) << "no ./ folding";
  EXPECT_EQ(*detail::find_in_sha256sums("", "one.tar.gz"), std::nullopt);
  EXPECT_EQ(*detail::find_in_sha256sums(kA + "  one.tar.gz", "one.tar.gz"), kA)
      << "last line without newline";
}

TEST(Sha256Sums, EscapedNamesAreDecoded) {
  const std::string text = "\\" + kA + "  a\\\\b\\nc.tar.gz\n";
  EXPECT_EQ(*detail::find_in_sha256sums(text, "a\\b\nc.tar.gz"), kA);
  auto bad = detail::find_in_sha256sums("\\" + kA + "  a\\tb\n", "x");
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().message, "malformed SHA256SUMS line 1: bad escape");
}

TEST(Sha256Sums, MalformedLinesAreErrorsWithTheirNumber) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {kA + "  ok.tar.gz\nshort\n", "malformed SHA256SUMS line 2: too short"},
      {std::string(63, 'a') + "g  x.tar.gz\n", "malformed SHA256SUMS line 1: want 64 hex digits"},
      {kA + "\tx.tar.gz\n" + std::string(10, 'y'), "malformed SHA256SUMS line 1: want two spaces"},
      {kA + " -x.tar.gz\n", "malformed SHA256SUMS line 1: want two spaces"},
      {"\n\n" + kA + "  \n", "malformed SHA256SUMS line 3: too short"},
  };
  for (const auto& [text, want] : cases) {
    auto got = detail::find_in_sha256sums(text, "x.tar.gz");
    ASSERT_FALSE(got.has_value()) << text;
    EXPECT_EQ(got.error().code, Errc::PackageIntegrity);
    EXPECT_EQ(got.error().message.rfind(want, 0), 0u) << got.error().message;
  }
}

TEST(Sha256Sums, ConflictingDuplicatesAreErrors) {
  EXPECT_EQ(*detail::find_in_sha256sums(kA + "  x\n" + kA + "  x\n", "x"), kA);
  auto got = detail::find_in_sha256sums(kA + "  x\n" + kB + "  x\n", "x");
  ASSERT_FALSE(got.has_value());
  EXPECT_EQ(got.error().message, "x is listed twice with different digests");
}

}  // namespace
}  // namespace l3afd::artifact
