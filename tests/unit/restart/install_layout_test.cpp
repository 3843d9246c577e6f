// The install layout: paths, running_version (D39 d), stage_release and remove_release against a
// temporary basepath and a file:// release directory.
#include "restart/install_layout.h"

#include <sys/stat.h>
#include <unistd.h>

#include "artifact/sha256.h"
#include "unit/restart/fixture.h"

namespace l3afd::restart::testing {
namespace {

using Type = TestEntry::Type;

TEST(LayoutPaths, AreTheDocumentedOnes) {
  EXPECT_EQ(latest_binary("/usr/local/l3afd"), "/usr/local/l3afd/latest/l3afd");
  EXPECT_EQ(latest_config("/usr/local/l3afd"), "/usr/local/l3afd/latest/l3afd.cfg");
  EXPECT_EQ(release_dir("/b", "v2.1.0"), "/b/v2.1.0");
  EXPECT_EQ(release_binary("/b", "v2.1.0"), "/b/v2.1.0/l3afd/l3afd");
  EXPECT_EQ(release_config("/b", "v2.1.0"), "/b/v2.1.0/l3afd/l3afd.cfg");
  EXPECT_EQ(*absolute_basepath("/b/./c/../d/"), "/b/d");
  EXPECT_EQ(*absolute_basepath("/"), "/");
  EXPECT_FALSE(absolute_basepath("").has_value());
}

TEST(LayoutPaths, ReleaseNamesAreSinglePlainComponents) {
  EXPECT_TRUE(validate_release_name("v2.1.0").has_value());
  for (const char* bad : {"", ".", "..", "a/b", "latest", ".staging-x", "v1..2"}) {
    auto st = validate_release_name(bad);
    ASSERT_FALSE(st.has_value()) << bad;
    EXPECT_EQ(st.error().code, Errc::InvalidPayload) << bad;
    EXPECT_NE(st.error().message.find("version"), std::string::npos) << st.error().message;
  }
}

// --- running_version ---------------------------------------------------------------------------

using RunningVersion = LayoutFixture;

TEST_F(RunningVersion, AbsoluteTarget) {
  link_latest(base_, (base_ / "v2.1.0" / "l3afd" / "l3afd").string());
  auto got = running_version(base_);
  ASSERT_TRUE(got.has_value()) << got.error().to_string();
  EXPECT_EQ(*got, "v2.1.0");
}

TEST_F(RunningVersion, RelativeTargetIsResolvedAgainstLatest) {
  link_latest(base_, "../v2.0.7/l3afd/l3afd");
  auto got = running_version(base_);
  ASSERT_TRUE(got.has_value()) << got.error().to_string();
  EXPECT_EQ(*got, "v2.0.7");
}

TEST_F(RunningVersion, TargetIsNormalisedLexically) {
  link_latest(base_, (base_ / "latest" / ".." / "v1.2.3" / "." / "l3afd" / "l3afd").string());
  EXPECT_EQ(*running_version(base_), "v1.2.3");
  // basepath spelled with a trailing separator and a "." component: the same layout.
  EXPECT_EQ(*running_version(base_.string() + "/./"), "v1.2.3");
}

TEST_F(RunningVersion, AbsentLinkMeansNoRunningRelease) {
  EXPECT_EQ(*running_version(base_), std::nullopt);
  fs::create_directories(base_ / "latest");
  EXPECT_EQ(*running_version(base_), std::nullopt);
  EXPECT_EQ(*running_version(root_ / "no-such-basepath"), std::nullopt);
}

TEST_F(RunningVersion, DanglingLinkStillNamesTheVersion) {
  link_latest(base_, (base_ / "v3.0.0" / "l3afd" / "l3afd").string());
  EXPECT_FALSE(fs::exists(base_ / "v3.0.0"));
  EXPECT_EQ(*running_version(base_), "v3.0.0");
}

TEST_F(RunningVersion, RegularFileIsAnError) {
  write(base_ / "latest" / "l3afd", "a copied binary");
  auto got = running_version(base_);
  ASSERT_FALSE(got.has_value());
  EXPECT_EQ(got.error().code, Errc::Io);
  EXPECT_NE(got.error().message.find((base_ / "latest" / "l3afd").string()), std::string::npos)
      << got.error().message;
  EXPECT_NE(got.error().message.find("not a symbolic link"), std::string::npos);
}

TEST_F(RunningVersion, TargetsOutsideTheLayoutAreErrorsNamingLinkAndTarget) {
  const std::vector<std::string> targets = {
      "/opt/other/v2.1.0/l3afd/l3afd",                        // another tree
      (root_ / "v2.1.0" / "l3afd" / "l3afd").string(),        // basepath's parent
      "../../v2.1.0/l3afd/l3afd",                             // relative, escaping basepath
      (base_ / "v2.1.0" / "bin" / "l3afd").string(),          // wrong package directory
      (base_ / "v2.1.0" / "l3afd" / "l3afd.cfg").string(),    // the config, not the binary
      (base_ / "v2.1.0" / "x" / "l3afd" / "l3afd").string(),  // one level too deep
      (base_ / "l3afd" / "l3afd").string(),                   // no version level
      (base_ / "latest" / "l3afd" / "l3afd").string(),        // "latest" is no release
      (base_ / ".staging-v1-abc" / "l3afd" / "l3afd").string(),
      base_.string() + "x/v2.1.0/l3afd/l3afd",  // a sibling whose name starts like basepath
  };
  for (const auto& t : targets) {
    std::error_code ec;
    fs::remove(base_ / "latest" / "l3afd", ec);
    link_latest(base_, t);
    auto got = running_version(base_);
    ASSERT_FALSE(got.has_value()) << t << " gave " << got->value_or("<none>");
    EXPECT_EQ(got.error().code, Errc::Io) << t;
    EXPECT_NE(got.error().message.find((base_ / "latest" / "l3afd").string() + " -> " + t),
              std::string::npos)
        << got.error().message;
  }
}

// D39 d: the Original trims the characters of "<basepath>/" from the binary path, which eats the
// last character of a version that occurs in the basepath ("v2.1.3" under ".../l3afd").
TEST_F(RunningVersion, VersionEndingInACharacterOfTheBasepath) {
  for (const fs::path& base : {base_, root_ / "opt3", root_ / "usr" / "local" / "l3afd"}) {
    for (const std::string v : {"v2.1.3", "v0.0.1", "v10.0.0"}) {
      std::error_code ec;
      fs::remove(base / "latest" / "l3afd", ec);
      link_latest(base, (base / v / "l3afd" / "l3afd").string());
      auto got = running_version(base);
      ASSERT_TRUE(got.has_value()) << got.error().to_string();
      EXPECT_EQ(*got, v) << base;
    }
  }
}

// --- stage_release -----------------------------------------------------------------------------

class StageRelease : public LayoutFixture {
 protected:
  /// Nothing but the expected entries in basepath: no staging directory left.
  void expect_base_names(const std::vector<std::string>& want) { EXPECT_EQ(names(base_), want); }
  artifact::FetchOptions limits_;
};

TEST_F(StageRelease, InstallsThePackage) {
  publish("v2.1.0", good_package("new"));
  auto st = stage_release(base_, "v2.1.0", artifacts_url(), limits_);
  ASSERT_TRUE(st.has_value()) << st.error().to_string();
  EXPECT_EQ(read(base_ / "v2.1.0" / "l3afd" / "l3afd"), "#!bin new\n");
  EXPECT_EQ(read(base_ / "v2.1.0" / "l3afd" / "l3afd.cfg"), "[l3afd]\n# new\n");
  EXPECT_EQ(::access((base_ / "v2.1.0" / "l3afd" / "l3afd").c_str(), X_OK), 0);
  EXPECT_TRUE(fs::is_directory(fs::symlink_status(base_ / "v2.1.0")));
  expect_base_names({"v2.1.0"});
  EXPECT_EQ(names(base_ / "v2.1.0"), std::vector<std::string>{"l3afd"})
      << "the downloaded archive is not installed";
}

TEST_F(StageRelease, UrlWithTrailingSlashAndVerifiedChecksum) {
  publish("v2.1.0", good_package("summed"));
  auto digest = artifact::detail::sha256_file_hex(package_path("v2.1.0"));
  ASSERT_TRUE(digest.has_value());
  write(package_path("v2.1.0").string() + ".sha256", *digest + "  l3afd.tar.gz\n");
  limits_.require_checksum = true;
  auto st = stage_release(base_, "v2.1.0", artifacts_url() + "/", limits_);
  ASSERT_TRUE(st.has_value()) << st.error().to_string();
  EXPECT_EQ(read(base_ / "v2.1.0" / "l3afd" / "l3afd"), "#!bin summed\n");
}

TEST_F(StageRelease, ReplacesAnInstalledTreeThatIsNotRunning) {
  install(base_, "v2.1.0", "old");
  write(base_ / "v2.1.0" / "stale-file", "from the old tree");
  link_latest(base_, (base_ / "v2.0.0" / "l3afd" / "l3afd").string());
  install(base_, "v2.0.0", "running");
  const auto running_before = snapshot(base_ / "v2.0.0");
  publish("v2.1.0", good_package("new"));
  auto st = stage_release(base_, "v2.1.0", artifacts_url(), limits_);
  ASSERT_TRUE(st.has_value()) << st.error().to_string();
  EXPECT_EQ(read(base_ / "v2.1.0" / "l3afd" / "l3afd"), "#!bin new\n");
  EXPECT_FALSE(fs::exists(base_ / "v2.1.0" / "stale-file")) << "replaced, not merged";
  EXPECT_EQ(snapshot(base_ / "v2.0.0"), running_before);
  expect_base_names({"latest", "v2.0.0", "v2.1.0"});
}

// D39 d: the running installation is never deleted, also when the basepath contains the last
// character of the version.
TEST_F(StageRelease, RefusesTheRunningVersion) {
  for (const std::string v : {"v2.1.0", "v2.1.3"}) {
    std::error_code ec;
    fs::remove(base_ / "latest" / "l3afd", ec);
    install(base_, v, "running");
    link_latest(base_, (base_ / v / "l3afd" / "l3afd").string());
    publish(v, good_package("new"));
    const auto before = snapshot(base_);
    auto st = stage_release(base_, v, artifacts_url(), limits_);
    ASSERT_FALSE(st.has_value()) << v;
    EXPECT_EQ(st.error().code, Errc::InvalidPayload);
    EXPECT_NE(st.error().message.find("running version"), std::string::npos) << st.error().message;
    EXPECT_EQ(snapshot(base_), before) << "nothing staged, nothing replaced";
  }
}

TEST_F(StageRelease, UnknownRunningVersionRefusesToo) {
  write(base_ / "latest" / "l3afd", "not a link");
  publish("v2.1.0", good_package("new"));
  auto st = stage_release(base_, "v2.1.0", artifacts_url(), limits_);
  ASSERT_FALSE(st.has_value());
  EXPECT_NE(st.error().message.find("determine the running version"), std::string::npos)
      << st.error().message;
  expect_base_names({"latest"});
}

TEST_F(StageRelease, InvalidNamesAndUrlsAreRefusedBeforeAnyChange) {
  publish("v2.1.0", good_package("new"));
  for (const char* v : {"", "..", "../x", "latest", ".hidden", "a/b"}) {
    auto st = stage_release(base_, v, artifacts_url(), limits_);
    ASSERT_FALSE(st.has_value()) << v;
    EXPECT_EQ(st.error().code, Errc::InvalidPayload) << v;
  }
  auto empty_url = stage_release(base_, "v2.1.0", "", limits_);
  ASSERT_FALSE(empty_url.has_value());
  EXPECT_EQ(empty_url.error().code, Errc::InvalidPayload);
  EXPECT_NE(empty_url.error().message.find("restart artifacts url"), std::string::npos);
  auto ftp = stage_release(base_, "v2.1.0", "ftp://h/r", limits_);
  ASSERT_FALSE(ftp.has_value());
  EXPECT_EQ(ftp.error().code, Errc::InvalidPayload);
  expect_base_names({});
}

TEST_F(StageRelease, ExistingNonDirectoryTargetIsRefused) {
  write(base_ / "v2.1.0", "a file where the release would go");
  publish("v2.1.0", good_package("new"));
  auto st = stage_release(base_, "v2.1.0", artifacts_url(), limits_);
  ASSERT_FALSE(st.has_value());
  EXPECT_EQ(st.error().code, Errc::Io);
  EXPECT_NE(st.error().message.find((base_ / "v2.1.0").string()), std::string::npos);
  EXPECT_EQ(read(base_ / "v2.1.0"), "a file where the release would go");
  expect_base_names({"v2.1.0"});
}

struct BadPackage {
  std::string label;
  std::vector<TestEntry> entries;  ///< empty: nothing is published (missing package)
  Errc code;
  std::string expect;    ///< substring of the error message
  std::string checksum;  ///< content of l3afd.tar.gz.sha256, "" = none
  bool require_checksum = false;
  TestFormat format = TestFormat::TarGz;
};

std::vector<BadPackage> bad_packages() {
  auto good = good_package("bad");
  return {
      {"missing package", {}, Errc::NotFound, "l3afd.tar.gz"},
      {"dotdot entry",
       {dir("l3afd/"), file("l3afd/l3afd", "b", 0755), file("l3afd/l3afd.cfg", "c"),
        file("../x", "escape")},
       Errc::Unavailable,
       "contains '..'"},
      {"dotdot inside",
       {dir("l3afd/"), file("l3afd/../../x", "escape")},
       Errc::Unavailable,
       "contains '..'"},
      {"symlink entry",
       {dir("l3afd/"), special("l3afd/l3afd", Type::Symlink, "/bin/true"),
        file("l3afd/l3afd.cfg", "c")},
       Errc::Unavailable,
       "symbolic link not allowed"},
      {"hard link entry",
       {dir("l3afd/"), file("l3afd/l3afd.cfg", "c"),
        special("l3afd/l3afd", Type::Hardlink, "l3afd/l3afd.cfg")},
       Errc::Unavailable,
       "hard link not allowed"},
      {"missing config",
       {dir("l3afd/"), file("l3afd/l3afd", "b", 0755)},
       Errc::Unavailable,
       "no file 'l3afd/l3afd.cfg'"},
      {"missing binary",
       {dir("l3afd/"), file("l3afd/l3afd.cfg", "c")},
       Errc::Unavailable,
       "no file 'l3afd/l3afd'"},
      {"no package directory",
       {file("l3afd.cfg", "c")},
       Errc::Unavailable,
       "no directory 'l3afd/'"},
      {"binary not executable",
       {dir("l3afd/"), file("l3afd/l3afd", "b", 0644), file("l3afd/l3afd.cfg", "c")},
       Errc::Unavailable,
       "'l3afd/l3afd' is not executable"},
      {"binary is a directory",
       {dir("l3afd/"), dir("l3afd/l3afd/"), file("l3afd/l3afd.cfg", "c")},
       Errc::Unavailable,
       "'l3afd/l3afd' is not a regular file"},
      {"config is a directory",
       {dir("l3afd/"), file("l3afd/l3afd", "b", 0755), dir("l3afd/l3afd.cfg/")},
       Errc::Unavailable,
       "'l3afd/l3afd.cfg' is not a regular file"},
      {"checksum mismatch", good, Errc::PackageIntegrity, "checksum mismatch",
       std::string(64, '0')},
      {"malformed checksum", good, Errc::PackageIntegrity, "malformed checksum", "not-a-digest"},
      {"required checksum missing", good, Errc::PackageIntegrity, "checksum required", "", true},
      {"not gzip", good, Errc::Unavailable, "not gzip-compressed", "", false, TestFormat::PlainTar},
      {"zip under the tar.gz name", good, Errc::Unavailable, "cannot read archive", "", false,
       TestFormat::Zip},
  };
}

// After every failure: the error names the URL or entry and the reason, no staging directory
// remains, an installed <basepath>/<version> is unchanged, and nothing is written outside.
TEST_F(StageRelease, EveryFailureLeavesNothingBehind) {
  for (const bool preinstalled : {false, true}) {
    for (const auto& c : bad_packages()) {
      SCOPED_TRACE(c.label + (preinstalled ? " (installed before)" : " (not installed)"));
      std::error_code ec;
      fs::remove_all(repo_, ec);
      fs::remove_all(base_, ec);
      fs::create_directories(repo_);
      fs::create_directories(base_);
      if (preinstalled) install(base_, "v2.1.0", "old");
      if (!c.entries.empty()) publish("v2.1.0", c.entries, c.format);
      if (!c.checksum.empty()) write(package_path("v2.1.0").string() + ".sha256", c.checksum);
      const auto before = snapshot(base_);
      const auto root_before = names(root_);
      limits_.require_checksum = c.require_checksum;

      auto st = stage_release(base_, "v2.1.0", artifacts_url(), limits_);
      ASSERT_FALSE(st.has_value());
      EXPECT_EQ(st.error().code, c.code) << st.error().to_string();
      EXPECT_NE(st.error().message.find(c.expect), std::string::npos) << st.error().message;
      EXPECT_NE(st.error().message.find(package_path("v2.1.0").string()), std::string::npos)
          << "names the package: " << st.error().message;
      EXPECT_EQ(snapshot(base_), before);
      expect_base_names(preinstalled ? std::vector<std::string>{"v2.1.0"}
                                     : std::vector<std::string>{});
      EXPECT_EQ(names(root_), root_before) << "nothing written beside basepath";
    }
  }
}

// --- remove_release ----------------------------------------------------------------------------

using RemoveRelease = LayoutFixture;

TEST_F(RemoveRelease, RemovesAStagedReleaseAndAcceptsAbsence) {
  install(base_, "v2.1.0", "staged");
  ASSERT_TRUE(remove_release(base_, "v2.1.0").has_value());
  EXPECT_FALSE(fs::exists(base_ / "v2.1.0"));
  EXPECT_TRUE(remove_release(base_, "v2.1.0").has_value());
  EXPECT_TRUE(fs::is_directory(base_));
}

TEST_F(RemoveRelease, RefusesTheRunningVersionAndBadNames) {
  install(base_, "v2.1.3", "running");
  link_latest(base_, "../v2.1.3/l3afd/l3afd");
  const auto before = snapshot(base_);
  auto st = remove_release(base_, "v2.1.3");
  ASSERT_FALSE(st.has_value());
  EXPECT_EQ(st.error().code, Errc::InvalidPayload);
  EXPECT_NE(st.error().message.find("running version"), std::string::npos);
  for (const char* v : {"", "..", "latest", "../l3afd", ".x"}) {
    EXPECT_FALSE(remove_release(base_, v).has_value()) << v;
  }
  EXPECT_EQ(snapshot(base_), before);
}

TEST_F(RemoveRelease, SymlinkedReleaseIsRemovedWithoutTouchingItsTarget) {
  install(root_ / "elsewhere", "v9.9.9", "kept");
  ASSERT_EQ(::symlink((root_ / "elsewhere" / "v9.9.9").c_str(), (base_ / "v9.9.9").c_str()), 0);
  ASSERT_TRUE(remove_release(base_, "v9.9.9").has_value());
  EXPECT_FALSE(fs::exists(fs::symlink_status(base_ / "v9.9.9")));
  EXPECT_EQ(read(root_ / "elsewhere" / "v9.9.9" / "l3afd" / "l3afd"), "installed kept");
}

}  // namespace
}  // namespace l3afd::restart::testing
