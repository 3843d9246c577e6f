// url_join_path and fetch_archive (artifact/release.h) against a file:// directory: extraction,
// checksum rules, refused archives, and that the scratch directory never outlives the call.
#include "artifact/release.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "artifact/sha256.h"
#include "component/artifact/archive_builder.h"
#include "component/artifact/signing.h"

namespace l3afd::artifact {
namespace {

namespace fs = std::filesystem;
using testing::dir;
using testing::file;
using testing::special;
using testing::TestEntry;
using testing::TestFormat;
using testing::write_archive;

TEST(UrlJoinPath, JoinsElementsLikeGoJoinPath) {
  EXPECT_EQ(*url_join_path("https://h/base", {"v2.1.0", "l3afd.tar.gz"}),
            "https://h/base/v2.1.0/l3afd.tar.gz");
  EXPECT_EQ(*url_join_path("https://h/base/", {"v2.1.0", "l3afd.tar.gz"}),
            "https://h/base/v2.1.0/l3afd.tar.gz");
  EXPECT_EQ(*url_join_path("https://u:p@h:8/b?x=1#f", {"v1", "a b"}),
            "https://u:p@h:8/b/v1/a%20b?x=1#f");
  EXPECT_EQ(*url_join_path("file:///srv/r", {"..", "..", "..", "x"}), "file:///x");
  EXPECT_EQ(*url_join_path("file:///srv/r", {"d/"}), "file:///srv/r/d/");
}

TEST(UrlJoinPath, RejectsEmptyAndSpacedBases) {
  auto empty = url_join_path("", {"a"});
  ASSERT_FALSE(empty.has_value());
  EXPECT_EQ(empty.error().code, Errc::InvalidPayload);
  EXPECT_FALSE(url_join_path("http://h/a b", {"a"}).has_value());
}

TEST(RedactUserinfo, HidesCredentialsOnly) {
  EXPECT_EQ(redact_userinfo("https://user:secret@h:8/a/b?q=1"), "https://***@h:8/a/b?q=1");
  EXPECT_EQ(redact_userinfo("https://h/a"), "https://h/a");
  EXPECT_EQ(redact_userinfo("file:///srv/r"), "file:///srv/r");
}

class FetchArchive : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "l3afd-release-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    root_ = tmpl;
    fs::create_directories(root_ / "repo");
    fs::create_directories(root_ / "work" / "dest");
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(root_, ec);
  }

  fs::path archive_path() const { return root_ / "repo" / "pkg.tar.gz"; }
  std::string url() const { return "file://" + archive_path().string(); }
  std::string repo() const { return "file://" + (root_ / "repo").string(); }
  fs::path dest() const { return root_ / "work" / "dest"; }
  void publish(const std::vector<TestEntry>& entries) {
    ASSERT_EQ(write_archive(archive_path(), TestFormat::TarGz, entries), "");
  }
  void write_sum(const std::string& content) {
    std::ofstream(archive_path().string() + ".sha256", std::ios::binary) << content;
  }
  static std::vector<std::string> list(const fs::path& d) {
    std::vector<std::string> out;
    for (const auto& e : fs::directory_iterator(d)) out.push_back(e.path().filename());
    std::sort(out.begin(), out.end());
    return out;
  }
  static std::string read(const fs::path& p) {
    // stdio: GCC 12 reports a false -Wnull-dereference for istreambuf_iterator at -O2.
    std::string out;
    FILE* f = std::fopen(p.c_str(), "rb");
    if (f == nullptr) return out;
    char buf[4096];
    std::size_t n = 0;
    while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) out.append(buf, n);
    std::fclose(f);
    return out;
  }
  /// The work directory holds only `dest`: the scratch directory is gone.
  void expect_no_scratch() const {
    EXPECT_EQ(list(root_ / "work"), std::vector<std::string>{"dest"});
  }

  fs::path root_;
  FetchOptions options_;
};

TEST_F(FetchArchive, ExtractsIntoDestAndRemovesScratch) {
  publish({dir("top/"), file("top/bin", "ELF", 0755), file("top/conf", "c", 0640)});
  auto st = fetch_archive(url(), repo(), ArchiveFormat::TarGz, dest(), options_);
  ASSERT_TRUE(st.has_value()) << st.error().to_string();
  EXPECT_EQ(list(dest()), std::vector<std::string>{"top"});
  EXPECT_EQ(read(dest() / "top" / "bin"), "ELF");
  struct stat sb {};
  ASSERT_EQ(::stat((dest() / "top" / "bin").c_str(), &sb), 0);
  EXPECT_EQ(sb.st_mode & 0777, 0755u);
  expect_no_scratch();
}

TEST_F(FetchArchive, DestWithTrailingSlashKeepsScratchOutOfDest) {
  publish({file("top/a", "x")});
  auto st = fetch_archive(url(), repo(), ArchiveFormat::TarGz, dest().string() + "/", options_);
  ASSERT_TRUE(st.has_value()) << st.error().to_string();
  EXPECT_EQ(list(dest()), std::vector<std::string>{"top"});
  expect_no_scratch();
}

TEST_F(FetchArchive, MatchingChecksumIsAccepted) {
  publish({file("top/a", "x")});
  auto digest = detail::sha256_file_hex(archive_path());
  ASSERT_TRUE(digest.has_value());
  write_sum(*digest + "  pkg.tar.gz\n");
  options_.require_checksum = true;
  auto st = fetch_archive(url(), repo(), ArchiveFormat::TarGz, dest(), options_);
  ASSERT_TRUE(st.has_value()) << st.error().to_string();
  EXPECT_EQ(read(dest() / "top" / "a"), "x");
  EXPECT_TRUE(st->checksum);
  EXPECT_EQ(st->signed_by, "") << "no trust configured: no signature checked";
  EXPECT_EQ(st->policy, SignaturePolicy::Off);
}

TEST_F(FetchArchive, MismatchingChecksumFailsBeforeExtraction) {
  publish({file("top/a", "x")});
  write_sum(std::string(64, 'a') + "\n");
  auto st = fetch_archive(url(), repo(), ArchiveFormat::TarGz, dest(), options_);
  ASSERT_FALSE(st.has_value());
  EXPECT_EQ(st.error().code, Errc::PackageIntegrity);
  EXPECT_NE(st.error().message.find("checksum mismatch"), std::string::npos) << st.error().message;
  EXPECT_NE(st.error().message.find(archive_path().string()), std::string::npos);
  EXPECT_TRUE(list(dest()).empty()) << "nothing is extracted from an unverified archive";
  expect_no_scratch();
}

TEST_F(FetchArchive, ChecksumSuffixGoesOnThePathBeforeTheQuery) {
  publish({file("top/a", "x")});
  write_sum(std::string(64, 'a') + "\n");
  // file:// ignores the query, so the mismatch proves `<path>.sha256?q=1` was read.
  auto st = fetch_archive(url() + "?q=1", repo(), ArchiveFormat::TarGz, dest(), options_);
  ASSERT_FALSE(st.has_value());
  EXPECT_NE(st.error().message.find("checksum mismatch"), std::string::npos) << st.error().message;
}

TEST_F(FetchArchive, MalformedChecksumFileFails) {
  publish({file("top/a", "x")});
  write_sum("nope\n");
  auto st = fetch_archive(url(), repo(), ArchiveFormat::TarGz, dest(), options_);
  ASSERT_FALSE(st.has_value());
  EXPECT_EQ(st.error().code, Errc::PackageIntegrity);
  EXPECT_NE(st.error().message.find("malformed checksum"), std::string::npos);
}

TEST_F(FetchArchive, RequiredChecksumMustExist) {
  publish({file("top/a", "x")});
  options_.require_checksum = true;
  auto st = fetch_archive(url(), repo(), ArchiveFormat::TarGz, dest(), options_);
  ASSERT_FALSE(st.has_value());
  EXPECT_EQ(st.error().code, Errc::PackageIntegrity);
  EXPECT_NE(st.error().message.find("checksum required"), std::string::npos);
  EXPECT_TRUE(list(dest()).empty());
  expect_no_scratch();
}

TEST_F(FetchArchive, MissingArchiveIsNotFound) {
  auto st = fetch_archive(url(), repo(), ArchiveFormat::TarGz, dest(), options_);
  ASSERT_FALSE(st.has_value());
  EXPECT_EQ(st.error().code, Errc::NotFound);
  EXPECT_NE(st.error().message.find(archive_path().string()), std::string::npos);
  expect_no_scratch();
}

TEST_F(FetchArchive, RefusedEntriesFailWithTheEntryNamed) {
  publish({dir("top/"), special("top/link", TestEntry::Type::Symlink, "/etc/passwd")});
  auto st = fetch_archive(url(), repo(), ArchiveFormat::TarGz, dest(), options_);
  ASSERT_FALSE(st.has_value());
  EXPECT_EQ(st.error().code, Errc::Unavailable);
  EXPECT_NE(st.error().message.find("symbolic link not allowed"), std::string::npos)
      << st.error().message;
  EXPECT_NE(st.error().message.find("extract " + url()), std::string::npos);
  expect_no_scratch();
}

TEST_F(FetchArchive, UnknownSchemeIsInvalidPayload) {
  auto st = fetch_archive("ftp://h/pkg.tar.gz", "ftp://h", ArchiveFormat::TarGz, dest(), options_);
  ASSERT_FALSE(st.has_value());
  EXPECT_EQ(st.error().code, Errc::InvalidPayload);
  expect_no_scratch();
}

// A release directory `<url>/<ver>/` signed like an artifact directory: the policy is the one of
// the repository URL passed, and a refusal extracts nothing.
class FetchSignedArchive : public FetchArchive {
 protected:
  void SetUp() override {
    FetchArchive::SetUp();
    testing::write_file(root_ / "keys" / "release.pem", key_.public_pem());
  }
  void trust(SignaturePolicy def, std::vector<PolicyRule> rules = {}) {
    auto keys = TrustedKeys::load_dir(root_ / "keys");
    ASSERT_TRUE(keys.has_value()) << keys.error().to_string();
    auto t = make_repository_trust(def, std::move(rules), std::move(*keys));
    ASSERT_TRUE(t.has_value()) << t.error().to_string();
    options_.trust = *t;
  }
  testing::TestKey key_;
};

TEST_F(FetchSignedArchive, SignedReleaseIsVerifiedBeforeExtraction) {
  publish({file("top/a", "x")});
  testing::sign_directory(root_ / "repo", key_);
  trust(SignaturePolicy::Require);
  auto st = fetch_archive(url(), repo(), ArchiveFormat::TarGz, dest(), options_);
  ASSERT_TRUE(st.has_value()) << st.error().to_string();
  EXPECT_EQ(st->signed_by, "release.pem");
  EXPECT_EQ(st->policy, SignaturePolicy::Require);
  EXPECT_EQ(read(dest() / "top" / "a"), "x");
  expect_no_scratch();
}

TEST_F(FetchSignedArchive, TamperedReleaseExtractsNothing) {
  publish({file("top/a", "x")});
  testing::sign_directory(root_ / "repo", key_);
  publish({file("top/a", "evil")});
  trust(SignaturePolicy::IfPresent);
  auto st = fetch_archive(url(), repo(), ArchiveFormat::TarGz, dest(), options_);
  ASSERT_FALSE(st.has_value());
  EXPECT_EQ(st.error().code, Errc::PackageIntegrity);
  EXPECT_NE(st.error().message.find("digest mismatch"), std::string::npos) << st.error().message;
  EXPECT_NE(st.error().message.find(url()), std::string::npos) << st.error().message;
  EXPECT_TRUE(list(dest()).empty()) << "nothing is extracted from a refused archive";
  expect_no_scratch();
}

TEST_F(FetchSignedArchive, PolicyFollowsTheRepositoryUrlGiven) {
  publish({file("top/a", "x")});  // unsigned
  trust(SignaturePolicy::IfPresent,
        {{"file:///releases-that-must-be-signed/", SignaturePolicy::Require}});
  auto lax = fetch_archive(url(), repo(), ArchiveFormat::TarGz, dest(), options_);
  ASSERT_TRUE(lax.has_value()) << lax.error().to_string();
  EXPECT_EQ(lax->policy, SignaturePolicy::IfPresent);
  EXPECT_EQ(lax->signed_by, "");
  fs::remove_all(dest() / "top");
  // The same archive, named as coming from the strict repository: refused.
  auto strict = fetch_archive(url(), "file:///releases-that-must-be-signed/", ArchiveFormat::TarGz,
                              dest(), options_);
  ASSERT_FALSE(strict.has_value());
  EXPECT_EQ(strict.error().code, Errc::PackageIntegrity);
  EXPECT_NE(strict.error().message.find("SHA256SUMS does not exist"), std::string::npos)
      << strict.error().message;
  EXPECT_TRUE(list(dest()).empty());
}

}  // namespace
}  // namespace l3afd::artifact
