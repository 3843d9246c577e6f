// detect_platform with temporary os-release files and fake lsb_release programs.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "artifact/artifact.h"

namespace l3afd::artifact {
namespace {

namespace fs = std::filesystem;

class DetectPlatform : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "l3afd-platform-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { fs::remove_all(dir_); }

  fs::path write(const std::string& name, const std::string& content, bool exec = false) {
    fs::path p = dir_ / name;
    std::ofstream(p) << content;
    if (exec) ::chmod(p.c_str(), 0755);
    return p;
  }
  /// A fake lsb_release printing `out` (and failing with `rc`).
  std::string fake_lsb(const std::string& out, int rc = 0) {
    return write("lsb_release",
                 "#!/bin/sh\n[ \"$1\" = -cs ] || exit 9\nprintf '" + out + "'\nexit " +
                     std::to_string(rc) + "\n",
                 true)
        .string();
  }

  fs::path dir_;
};

TEST_F(DetectPlatform, ReadsUnquotedCodename) {
  auto p = write("os-release", "NAME=\"Debian GNU/Linux\"\nVERSION_CODENAME=bookworm\nID=debian\n");
  EXPECT_EQ(*detect_platform(p, fake_lsb("wrong")), "bookworm");
}

TEST_F(DetectPlatform, ReadsQuotedCodename) {
  EXPECT_EQ(*detect_platform(write("a", "VERSION_CODENAME=\"jammy\"\n"), fake_lsb("x")), "jammy");
  EXPECT_EQ(*detect_platform(write("b", "VERSION_CODENAME='noble'\n"), fake_lsb("x")), "noble");
}

TEST_F(DetectPlatform, FallsBackToLsbReleaseWhenKeyMissingOrEmpty) {
  EXPECT_EQ(*detect_platform(write("a", "ID=debian\n"), fake_lsb("focal\\n")), "focal");
  EXPECT_EQ(*detect_platform(write("b", "VERSION_CODENAME=\n"), fake_lsb(" trixie \\n")), "trixie");
}

TEST_F(DetectPlatform, FallsBackToLsbReleaseWhenFileMissing) {
  EXPECT_EQ(*detect_platform(dir_ / "absent", fake_lsb("jammy\\n")), "jammy");
}

TEST_F(DetectPlatform, ReportsBothCausesWhenNothingWorks) {
  auto r = detect_platform(dir_ / "absent", fake_lsb("", 3));
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, Errc::Io);
  EXPECT_NE(r.error().message.find("absent"), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find("lsb_release"), std::string::npos) << r.error().message;

  auto missing = detect_platform(dir_ / "absent", (dir_ / "no-such-program").string());
  ASSERT_FALSE(missing.has_value());
  EXPECT_NE(missing.error().message.find("no-such-program"), std::string::npos);
}

TEST_F(DetectPlatform, EmptyLsbOutputIsAnError) {
  EXPECT_FALSE(detect_platform(dir_ / "absent", fake_lsb("\\n")).has_value());
}

TEST_F(DetectPlatform, RejectsUnsafeCodename) {
  auto r = detect_platform(write("a", "VERSION_CODENAME=../etc\n"), fake_lsb("x"));
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, Errc::InvalidPayload);
}

TEST_F(DetectPlatform, MatchesTheRealSystemSources) {
  // Both sources of this machine must agree when both exist (contract: "same value").
  if (!fs::exists("/etc/os-release") || ::access("/usr/bin/lsb_release", X_OK) != 0) {
    GTEST_SKIP() << "needs /etc/os-release and lsb_release";
  }
  auto from_file = detect_platform("/etc/os-release", fake_lsb("unused"));
  auto from_lsb = detect_platform(dir_ / "absent", "/usr/bin/lsb_release");
  ASSERT_TRUE(from_file.has_value()) << from_file.error().to_string();
  ASSERT_TRUE(from_lsb.has_value()) << from_lsb.error().to_string();
  EXPECT_EQ(*from_file, *from_lsb);
}

}  // namespace
}  // namespace l3afd::artifact
