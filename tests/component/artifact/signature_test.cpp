// Signed repositories (artifact/trust.h) through RepositorySource: real ed25519 keys made by the
// test, real SHA256SUMS and SHA256SUMS.sig files in a file:// repository and over real HTTP.
// Every refusal must leave nothing in the cache (no package, no staging directory).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "artifact/trust.h"
#include "component/artifact/fixture.h"
#include "component/artifact/http_server.h"
#include "component/artifact/signing.h"

namespace l3afd::artifact::testing {
namespace {

class Signatures : public ArtifactFixture {
 protected:
  void SetUp() override {
    ArtifactFixture::SetUp();
    trust_dir_ = root_ / "trusted-keys";
    write_file(trust_dir_ / "dev.pem", key_.public_pem());
  }

  /// A package for `r` in the file:// repository, its directory signed by `signer`.
  void publish_signed(const ArtifactRef& r, const std::string& marker, const TestKey& signer) {
    publish_unsigned(r, marker);
    sign_directory(repo_file(r).parent_path(), signer);
  }
  void publish_unsigned(const ArtifactRef& r, const std::string& marker) {
    const std::string top = std::string(artifact_stem(r.artifact).value());
    publish(r, TestFormat::TarGz, {dir(top + "/"), file(top + "/prog.bpf.o", "ELF-" + marker)});
  }
  /// FetchOptions with the trust directory's keys and `policy` for every repository.
  FetchOptions with_policy(SignaturePolicy policy, std::vector<PolicyRule> rules = {}) {
    auto keys = TrustedKeys::load_dir(trust_dir_);
    EXPECT_TRUE(keys.has_value()) << keys.error().to_string();
    auto trust = make_repository_trust(policy, std::move(rules), std::move(*keys));
    EXPECT_TRUE(trust.has_value()) << trust.error().to_string();
    FetchOptions o = options_;
    o.trust = *trust;
    return o;
  }
  /// Asserts a PackageIntegrity refusal that names the artifact URL and `reason`, with nothing
  /// left in the cache (which held `cache_before`).
  void expect_refused(const Result<FetchedPackage>& got, const ArtifactRef& r,
                      const std::string& reason,
                      const std::vector<std::string>& cache_before = {}) {
    ASSERT_FALSE(got.has_value());
    EXPECT_EQ(got.error().code, Errc::PackageIntegrity) << got.error().to_string();
    const std::string url = "file://" + repo_file(r).string();
    EXPECT_NE(got.error().message.find(url), std::string::npos) << got.error().message;
    EXPECT_NE(got.error().message.find(reason), std::string::npos) << got.error().message;
    ASSERT_EQ(got.error().items.size(), 1u);
    EXPECT_EQ(got.error().items[0].field, "artifact");
    EXPECT_EQ(list(cache_), cache_before) << "nothing new in the cache, no staging left";
  }

  TestKey key_;
  fs::path trust_dir_;
};

TEST_F(Signatures, SignedPackageIsAcceptedUnderRequire) {
  auto r = ref("signed", "1.0", "l3af_signed.tar.gz");
  publish_signed(r, "good", key_);
  auto got = RepositorySource(with_policy(SignaturePolicy::Require)).fetch(r);
  ASSERT_TRUE(got.has_value()) << got.error().to_string();
  EXPECT_EQ(read(got->package_dir / "prog.bpf.o"), "ELF-good");
  // The cache record says the package was verified, and by which key.
  EXPECT_EQ(read(cache_ / "signed" / "1.0" / ".source-l3af_signed"),
            "file://" + repo_file(r).string() + "\nsigned-by dev.pem\n");
}

TEST_F(Signatures, BinaryMarkerAndOtherFilesInTheListingAreAccepted) {
  auto r = ref("marker", "1.0", "l3af_marker.tar.gz");
  publish_unsigned(r, "m");
  const fs::path d = repo_file(r).parent_path();
  const std::string listing = sha256_hex("other") + "  other.tar.gz\n" +
                              sha256_hex(read(repo_file(r))) + " *" + r.artifact + "\n";
  write_file(d / "SHA256SUMS", listing);
  write_file(d / "SHA256SUMS.sig", key_.sign(listing));
  auto got = RepositorySource(with_policy(SignaturePolicy::Require)).fetch(r);
  ASSERT_TRUE(got.has_value()) << got.error().to_string();
}

TEST_F(Signatures, DigestMismatchNamesBothDigests) {
  auto r = ref("mismatch", "1.0", "l3af_mismatch.tar.gz");
  publish_signed(r, "original", key_);
  const std::string listed = sha256_hex(read(repo_file(r)));
  publish_unsigned(r, "replaced");  // the archive changes after the listing was signed
  const std::string served = sha256_hex(read(repo_file(r)));
  ASSERT_NE(listed, served);
  auto got = RepositorySource(with_policy(SignaturePolicy::Require)).fetch(r);
  expect_refused(got, r, "digest mismatch");
  EXPECT_NE(got.error().message.find(listed), std::string::npos) << got.error().message;
  EXPECT_NE(got.error().message.find(served), std::string::npos) << got.error().message;
}

TEST_F(Signatures, SignatureByAnUntrustedKeyIsRefused) {
  auto r = ref("stranger", "1.0", "l3af_stranger.tar.gz");
  TestKey stranger;
  publish_signed(r, "x", stranger);
  auto got = RepositorySource(with_policy(SignaturePolicy::Require)).fetch(r);
  expect_refused(got, r, "bad signature");
  EXPECT_NE(got.error().message.find("1 trusted keys in " + trust_dir_.string()), std::string::npos)
      << got.error().message;
}

TEST_F(Signatures, CorruptedSignatureIsRefused) {
  auto r = ref("corrupt", "1.0", "l3af_corrupt.tar.gz");
  publish_signed(r, "x", key_);
  const fs::path sig = repo_file(r).parent_path() / "SHA256SUMS.sig";
  std::string bytes = read(sig);
  ASSERT_EQ(bytes.size(), 64u);
  bytes[10] = static_cast<char>(bytes[10] ^ 0x01);
  write_file(sig, bytes);
  expect_refused(RepositorySource(with_policy(SignaturePolicy::IfPresent)).fetch(r), r,
                 "bad signature");
}

TEST_F(Signatures, SignatureOfTheWrongSizeIsRefused) {
  auto r = ref("short", "1.0", "l3af_short.tar.gz");
  publish_signed(r, "x", key_);
  const fs::path sig = repo_file(r).parent_path() / "SHA256SUMS.sig";
  write_file(sig, read(sig) + "\n");  // e.g. a text tool appended a newline
  expect_refused(RepositorySource(with_policy(SignaturePolicy::Require)).fetch(r), r,
                 "has 65 bytes");
}

TEST_F(Signatures, ListingEditedAfterSigningIsRefused) {
  auto r = ref("edited", "1.0", "l3af_edited.tar.gz");
  publish_signed(r, "x", key_);
  const fs::path sums = repo_file(r).parent_path() / "SHA256SUMS";
  // An attacker who replaced the archive also fixes the listing, but cannot re-sign it.
  publish_unsigned(r, "evil");
  write_file(sums, sha256_hex(read(repo_file(r))) + "  " + r.artifact + "\n");
  expect_refused(RepositorySource(with_policy(SignaturePolicy::Require)).fetch(r), r,
                 "bad signature");
}

TEST_F(Signatures, ArtifactNotListedIsRefused) {
  auto r = ref("unlisted", "1.0", "l3af_unlisted.tar.gz");
  publish_unsigned(r, "x");
  const fs::path d = repo_file(r).parent_path();
  const std::string listing = sha256_hex(read(repo_file(r))) + "  l3af_other.tar.gz\n";
  write_file(d / "SHA256SUMS", listing);
  write_file(d / "SHA256SUMS.sig", key_.sign(listing));
  expect_refused(RepositorySource(with_policy(SignaturePolicy::IfPresent)).fetch(r), r,
                 "l3af_unlisted.tar.gz is not listed in");
}

TEST_F(Signatures, MalformedSignedListingIsRefused) {
  auto r = ref("malformed", "1.0", "l3af_malformed.tar.gz");
  publish_unsigned(r, "x");
  const fs::path d = repo_file(r).parent_path();
  const std::string listing = "SHA256 (l3af_malformed.tar.gz) = " + sha256_hex("x") + "\n";
  write_file(d / "SHA256SUMS", listing);
  write_file(d / "SHA256SUMS.sig", key_.sign(listing));
  expect_refused(RepositorySource(with_policy(SignaturePolicy::Require)).fetch(r), r,
                 "malformed SHA256SUMS line 1");
}

TEST_F(Signatures, RequireRefusesAnUnsignedRepository) {
  auto r = ref("plain", "1.0", "l3af_plain.tar.gz");
  publish_unsigned(r, "x");
  expect_refused(RepositorySource(with_policy(SignaturePolicy::Require)).fetch(r), r,
                 "SHA256SUMS does not exist");
}

TEST_F(Signatures, IfPresentAcceptsAnUnsignedRepository) {
  auto r = ref("plain", "1.0", "l3af_plain.tar.gz");
  publish_unsigned(r, "x");
  auto got = RepositorySource(with_policy(SignaturePolicy::IfPresent)).fetch(r);
  ASSERT_TRUE(got.has_value()) << got.error().to_string();
  EXPECT_EQ(read(cache_ / "plain" / "1.0" / ".source-l3af_plain"),
            "file://" + repo_file(r).string() + "\n")
      << "no signed-by line: not verified";
}

TEST_F(Signatures, ListingWithoutSignatureIsRefusedUnlessOff) {
  auto r = ref("nosig", "1.0", "l3af_nosig.tar.gz");
  publish_signed(r, "x", key_);
  fs::remove(repo_file(r).parent_path() / "SHA256SUMS.sig");
  expect_refused(RepositorySource(with_policy(SignaturePolicy::IfPresent)).fetch(r), r,
                 "SHA256SUMS.sig does not exist");
  expect_refused(RepositorySource(with_policy(SignaturePolicy::Require)).fetch(r), r,
                 "SHA256SUMS.sig does not exist");
  auto got = RepositorySource(with_policy(SignaturePolicy::Off)).fetch(r);
  ASSERT_TRUE(got.has_value()) << got.error().to_string();
}

TEST_F(Signatures, OffIgnoresEvenABadSignature) {
  auto r = ref("ignored", "1.0", "l3af_ignored.tar.gz");
  TestKey stranger;
  publish_signed(r, "x", stranger);
  auto got = RepositorySource(with_policy(SignaturePolicy::Off)).fetch(r);
  ASSERT_TRUE(got.has_value()) << got.error().to_string();
}

TEST_F(Signatures, NoTrustedKeyFailsAPublishedListing) {
  auto r = ref("nokey", "1.0", "l3af_nokey.tar.gz");
  publish_signed(r, "x", key_);
  fs::remove(trust_dir_ / "dev.pem");
  expect_refused(RepositorySource(with_policy(SignaturePolicy::IfPresent)).fetch(r), r,
                 "no trusted key to verify");
}

TEST_F(Signatures, SecondTrustedKeyVerifies) {
  auto r = ref("rotated", "1.0", "l3af_rotated.tar.gz");
  TestKey next;
  write_file(trust_dir_ / "next.pem", next.public_pem());
  publish_signed(r, "x", next);
  auto got = RepositorySource(with_policy(SignaturePolicy::Require)).fetch(r);
  ASSERT_TRUE(got.has_value()) << got.error().to_string();
  EXPECT_NE(read(cache_ / "rotated" / "1.0" / ".source-l3af_rotated").find("signed-by next.pem"),
            std::string::npos);
}

TEST_F(Signatures, PolicyOfTheLongestMatchingPrefixApplies) {
  auto r = ref("ruled", "1.0", "l3af_ruled.tar.gz");
  publish_unsigned(r, "x");
  // Default require, but this repository is "off" by a rule; a shorter rule says require.
  auto opts = with_policy(SignaturePolicy::Require, {{"file:///", SignaturePolicy::Require},
                                                     {repo_url(), SignaturePolicy::Off}});
  auto got = RepositorySource(opts).fetch(r);
  ASSERT_TRUE(got.has_value()) << got.error().to_string();
  // And the other way round: the longer rule requires.
  auto r2 = ref("ruled2", "1.0", "l3af_ruled2.tar.gz");
  publish_unsigned(r2, "y");
  auto strict = with_policy(SignaturePolicy::Off, {{"file:///", SignaturePolicy::Off},
                                                   {repo_url(), SignaturePolicy::Require}});
  expect_refused(RepositorySource(strict).fetch(r2), r2, "SHA256SUMS does not exist", {"ruled"});
}

// Cache rules: a verified entry is reused without touching the repository; an entry cached
// while no signature was checked is fetched again once the repository's policy is require.
TEST_F(Signatures, RequireRefetchesAnEntryCachedWithoutVerification) {
  auto r = ref("cached", "1.0", "l3af_cached.tar.gz");
  publish_unsigned(r, "old");
  ASSERT_TRUE(RepositorySource(with_policy(SignaturePolicy::IfPresent)).fetch(r).has_value());

  // Now require: the unverified entry is not trusted; the unsigned repository fails the fetch
  // and the cached tree stays as it was (it is not deleted, only not used).
  RepositorySource strict(with_policy(SignaturePolicy::Require));
  auto refused = strict.fetch(r);
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().code, Errc::PackageIntegrity);
  EXPECT_EQ(read(cache_ / "cached" / "1.0" / "l3af_cached" / "prog.bpf.o"), "ELF-old");

  // Signed now: fetched again, swapped in, recorded as verified, then served from the cache.
  publish_signed(r, "new", key_);
  auto got = strict.fetch(r);
  ASSERT_TRUE(got.has_value()) << got.error().to_string();
  EXPECT_FALSE(got->from_cache);
  EXPECT_EQ(read(got->package_dir / "prog.bpf.o"), "ELF-new");
  fs::remove(repo_file(r));  // a cache hit must not need the repository
  auto again = strict.fetch(r);
  ASSERT_TRUE(again.has_value()) << again.error().to_string();
  EXPECT_TRUE(again->from_cache);
  EXPECT_EQ(list(cache_), std::vector<std::string>({"cached"})) << "no staging left";
}

TEST_F(Signatures, LatestWhoseNewListingFailsKeepsThePreviousTree) {
  auto r = ref("rolling", "latest", "l3af_rolling.tar.gz");
  publish_signed(r, "v1", key_);
  RepositorySource src(with_policy(SignaturePolicy::Require));
  ASSERT_TRUE(src.fetch(r).has_value());
  // The repository now serves a new archive whose listing was not re-signed.
  publish_unsigned(r, "v2");
  write_file(repo_file(r).parent_path() / "SHA256SUMS",
             sha256_hex(read(repo_file(r))) + "  " + r.artifact + "\n");
  auto got = src.fetch(r);
  ASSERT_FALSE(got.has_value());
  EXPECT_EQ(got.error().code, Errc::PackageIntegrity);
  EXPECT_EQ(read(cache_ / "rolling" / "latest" / "l3af_rolling" / "prog.bpf.o"), "ELF-v1");
  EXPECT_EQ(list(cache_), std::vector<std::string>({"rolling"})) << "no staging left";
}

// ---- over HTTP ---------------------------------------------------------------------------------

class SignaturesHttp : public Signatures {
 protected:
  ArtifactRef http_ref(const std::string& name) const {
    return ArtifactRef{server_.base_url() + "/repo", name, "1.0", "l3af_" + name + ".tar.gz"};
  }
  static std::string dir_of(const ArtifactRef& r) {
    return "/repo/" + r.name + "/" + r.version + "/" + kPlatform + "/";
  }
  std::string package_bytes(const std::string& top, const std::string& marker) {
    const fs::path tmp = root_ / ("built-" + marker + ".tar.gz");
    EXPECT_EQ(
        write_archive(tmp, TestFormat::TarGz, {dir(top + "/"), file(top + "/prog.bpf.o", marker)}),
        "");
    return read(tmp);
  }

  TestHttpServer server_;
};

TEST_F(SignaturesHttp, SignedPackageOverHttp) {
  auto r = http_ref("web");
  const std::string bytes = package_bytes("l3af_web", "over-http");
  const std::string listing = sha256_hex(bytes) + "  " + r.artifact + "\n";
  server_.set(dir_of(r) + r.artifact, {200, bytes});
  server_.set(dir_of(r) + "SHA256SUMS", {200, listing});
  server_.set(dir_of(r) + "SHA256SUMS.sig", {200, key_.sign(listing)});
  auto got = RepositorySource(with_policy(SignaturePolicy::Require)).fetch(r);
  ASSERT_TRUE(got.has_value()) << got.error().to_string();
  EXPECT_EQ(read(got->package_dir / "prog.bpf.o"), "over-http");
  EXPECT_EQ(server_.hits(dir_of(r) + "SHA256SUMS"), 1);
  EXPECT_EQ(server_.hits(dir_of(r) + "SHA256SUMS.sig"), 1);
}

TEST_F(SignaturesHttp, TamperedDownloadOverHttpIsRefused) {
  auto r = http_ref("mitm");
  const std::string bytes = package_bytes("l3af_mitm", "genuine");
  const std::string listing = sha256_hex(bytes) + "  " + r.artifact + "\n";
  const std::string evil = package_bytes("l3af_mitm", "evil");
  server_.set(dir_of(r) + r.artifact, {200, evil});
  server_.set(dir_of(r) + "SHA256SUMS", {200, listing});
  server_.set(dir_of(r) + "SHA256SUMS.sig", {200, key_.sign(listing)});
  auto got = RepositorySource(with_policy(SignaturePolicy::IfPresent)).fetch(r);
  ASSERT_FALSE(got.has_value());
  EXPECT_EQ(got.error().code, Errc::PackageIntegrity);
  EXPECT_NE(got.error().message.find(server_.base_url() + dir_of(r) + r.artifact),
            std::string::npos)
      << got.error().message;
  EXPECT_NE(got.error().message.find(sha256_hex(evil)), std::string::npos);
  EXPECT_TRUE(list(cache_).empty());
}

TEST_F(SignaturesHttp, ListingServerErrorIsNotSkipped) {
  auto r = http_ref("flaky");
  server_.set(dir_of(r) + r.artifact, {200, package_bytes("l3af_flaky", "x")});
  server_.set(dir_of(r) + "SHA256SUMS", {503, "busy"});
  auto got = RepositorySource(with_policy(SignaturePolicy::IfPresent)).fetch(r);
  ASSERT_FALSE(got.has_value());
  EXPECT_EQ(got.error().code, Errc::Unavailable);
  EXPECT_NE(got.error().message.find("SHA256SUMS"), std::string::npos) << got.error().message;
  EXPECT_NE(got.error().message.find("http status 503"), std::string::npos);
  EXPECT_TRUE(list(cache_).empty());
}

TEST_F(SignaturesHttp, OffMakesNoSignatureRequests) {
  auto r = http_ref("quiet");
  server_.set(dir_of(r) + r.artifact, {200, package_bytes("l3af_quiet", "x")});
  auto got = RepositorySource(with_policy(SignaturePolicy::Off)).fetch(r);
  ASSERT_TRUE(got.has_value()) << got.error().to_string();
  EXPECT_EQ(server_.hits(dir_of(r) + "SHA256SUMS"), 0);
  EXPECT_EQ(server_.hits(dir_of(r) + "SHA256SUMS.sig"), 0);
}

}  // namespace
}  // namespace l3afd::artifact::testing
