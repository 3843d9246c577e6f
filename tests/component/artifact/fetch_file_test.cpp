// RepositorySource with a file:// repository: extraction, modes, cache, "latest", remove,
// reference validation and checksums.
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>

#include "component/artifact/fixture.h"

namespace l3afd::artifact::testing {
namespace {

using Type = TestEntry::Type;

mode_t perm_of(const fs::path& p) {
  struct stat st {};
  EXPECT_EQ(::lstat(p.c_str(), &st), 0) << p;
  return st.st_mode & 07777;
}

std::vector<TestEntry> good_entries(const std::string& top, const std::string& marker) {
  return {dir("./" + top + "/"), file("./" + top + "/prog.bpf.o", "ELF-" + marker),
          file("./" + top + "/run.sh", "#!/bin/sh\necho " + marker + "\n", 0755),
          file("./" + top + "/suid", "s", 04755),
          file("./" + top + "/sub/deep/conf.txt", "deep-" + marker, 0600)};
}

using FetchFile = ArtifactFixture;

TEST_F(FetchFile, TarGzPackageExtractsWithModes) {
  auto r = ref("ratelimiting", "1.0.0", "l3af_ratelimiting.tar.gz");
  publish(r, TestFormat::TarGz, good_entries("l3af_ratelimiting", "a"));
  RepositorySource src(options_);
  auto got = src.fetch(r);
  ASSERT_TRUE(got.has_value()) << got.error().to_string();
  const fs::path pkg = cache_ / "ratelimiting" / "1.0.0" / "l3af_ratelimiting";
  EXPECT_EQ(got->package_dir, pkg);
  EXPECT_FALSE(got->from_cache);
  EXPECT_EQ(read(pkg / "prog.bpf.o"), "ELF-a");
  EXPECT_EQ(read(pkg / "sub/deep/conf.txt"), "deep-a");
  EXPECT_EQ(perm_of(pkg / "prog.bpf.o"), 0644u);
  EXPECT_EQ(perm_of(pkg / "run.sh"), 0755u);
  EXPECT_EQ(::access((pkg / "run.sh").c_str(), X_OK), 0);
  EXPECT_EQ(perm_of(pkg / "suid"), 0755u) << "setuid must be dropped";
  EXPECT_EQ(perm_of(pkg / "sub/deep/conf.txt"), 0600u);
  EXPECT_EQ(perm_of(pkg / "sub"), 0755u) << "missing parents are created 0755";
  // Only the package directory remains: no staging directory, no downloaded archive.
  EXPECT_EQ(list(cache_ / "ratelimiting" / "1.0.0"), std::vector<std::string>({".source-l3af_ratelimiting", "l3af_ratelimiting"}))
      << "the package and the record of its source";
}

TEST_F(FetchFile, ZipPackageExtractsWithModes) {
  auto r = ref("zipped", "2.0", "l3af_zipped.zip");
  publish(r, TestFormat::Zip, good_entries("l3af_zipped", "z"));
  auto got = RepositorySource(options_).fetch(r);
  ASSERT_TRUE(got.has_value()) << got.error().to_string();
  EXPECT_EQ(read(got->package_dir / "prog.bpf.o"), "ELF-z");
  EXPECT_EQ(read(got->package_dir / "sub/deep/conf.txt"), "deep-z");
  EXPECT_EQ(perm_of(got->package_dir / "run.sh"), 0755u);
  EXPECT_EQ(::access((got->package_dir / "run.sh").c_str(), X_OK), 0);
}

TEST_F(FetchFile, DotSlashRootEntryIsSkippedAndDirectoryModesKept) {
  // `tar -C dir .` writes "./" first; the Original rejects it, we skip it.
  auto r = ref("dotroot", "1", "l3af_dotroot.tar.gz");
  publish(r, TestFormat::TarGz,
          {dir("./", 0700), dir("./l3af_dotroot/", 0750), file("./l3af_dotroot/a", "x")});
  auto got = RepositorySource(options_).fetch(r);
  ASSERT_TRUE(got.has_value()) << got.error().to_string();
  EXPECT_EQ(read(got->package_dir / "a"), "x");
  EXPECT_EQ(perm_of(got->package_dir), 0750u);
}

TEST_F(FetchFile, ExtraTopLevelEntriesAreNotInstalled) {
  auto r = ref("extra", "1", "l3af_extra.tar.gz");
  publish(r, TestFormat::TarGz, {file("README", "r"), file("l3af_extra/a", "x")});
  auto got = RepositorySource(options_).fetch(r);
  ASSERT_TRUE(got.has_value()) << got.error().to_string();
  EXPECT_EQ(list(cache_ / "extra" / "1"), std::vector<std::string>({".source-l3af_extra", "l3af_extra"}))
      << "the package and the record of its source";
}

TEST_F(FetchFile, CacheHitAvoidsDownload) {
  auto r = ref("cached", "1.2.0", "l3af_cached.tar.gz");
  publish(r, TestFormat::TarGz, good_entries("l3af_cached", "one"));
  RepositorySource src(options_);
  auto first = src.fetch(r);
  ASSERT_TRUE(first.has_value()) << first.error().to_string();
  fs::remove(repo_file(r));
  auto second = src.fetch(r);
  ASSERT_TRUE(second.has_value()) << second.error().to_string();
  EXPECT_TRUE(second->from_cache);
  EXPECT_EQ(second->package_dir, first->package_dir);
  EXPECT_EQ(read(second->package_dir / "prog.bpf.o"), "ELF-one");
}

TEST_F(FetchFile, LatestIsRefetchedAndSwappedIn) {
  auto r = ref("fresh", "latest", "l3af_fresh.tar.gz");
  publish(r, TestFormat::TarGz,
          {file("l3af_fresh/prog.bpf.o", "v1"), file("l3af_fresh/only_in_v1", "x")});
  RepositorySource src(options_);
  auto first = src.fetch(r);
  ASSERT_TRUE(first.has_value()) << first.error().to_string();
  EXPECT_EQ(read(first->package_dir / "prog.bpf.o"), "v1");

  publish(r, TestFormat::TarGz, {file("l3af_fresh/prog.bpf.o", "v2")});
  auto second = src.fetch(r);
  ASSERT_TRUE(second.has_value()) << second.error().to_string();
  EXPECT_FALSE(second->from_cache);
  EXPECT_EQ(second->package_dir, first->package_dir);
  EXPECT_EQ(read(second->package_dir / "prog.bpf.o"), "v2");
  EXPECT_FALSE(fs::exists(second->package_dir / "only_in_v1"));
  EXPECT_EQ(list(cache_ / "fresh" / "latest"), std::vector<std::string>({".source-l3af_fresh", "l3af_fresh"}))
      << "the package and the record of its source";
}

TEST_F(FetchFile, FailedLatestRefetchKeepsThePreviousTree) {
  auto r = ref("keep", "latest", "l3af_keep.tar.gz");
  publish(r, TestFormat::TarGz, {file("l3af_keep/prog.bpf.o", "v1")});
  RepositorySource src(options_);
  ASSERT_TRUE(src.fetch(r).has_value());
  publish(r, TestFormat::TarGz, {file("l3af_keep/../evil", "v2")});
  auto bad = src.fetch(r);
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(read(cache_ / "keep/latest/l3af_keep/prog.bpf.o"), "v1");
  EXPECT_EQ(list(cache_ / "keep" / "latest"), std::vector<std::string>({".source-l3af_keep", "l3af_keep"}))
      << "the package and the record of its source";
}

TEST_F(FetchFile, MissingArtifactIsNotFoundAndNamesTheUrl) {
  auto r = ref("absent", "1", "l3af_absent.tar.gz");
  auto got = RepositorySource(options_).fetch(r);
  ASSERT_FALSE(got.has_value());
  EXPECT_EQ(got.error().code, Errc::NotFound);
  EXPECT_NE(got.error().message.find(repo_file(r).string()), std::string::npos)
      << got.error().message;
  EXPECT_EQ(got.error().sys_errno, ENOENT);
  EXPECT_TRUE(list(cache_).empty()) << "nothing left in the cache";
}

TEST_F(FetchFile, UnknownSchemeIsInvalidPayload) {
  ArtifactRef r{"ftp://example/repo", "p", "1", "l3af_p.tar.gz"};
  auto got = RepositorySource(options_).fetch(r);
  ASSERT_FALSE(got.has_value());
  EXPECT_EQ(got.error().code, Errc::InvalidPayload);
  EXPECT_NE(got.error().message.find("unknown url scheme"), std::string::npos);
  EXPECT_NE(got.error().message.find("ftp://example/repo/p/1/bookworm/l3af_p.tar.gz"),
            std::string::npos);
}

TEST_F(FetchFile, UnsafeReferenceIsRejectedBeforeTouchingTheFileSystem) {
  RepositorySource src(options_);
  const std::vector<ArtifactRef> bad = {ref("..", "1", "l3af_x.tar.gz"),
                                        ref("a/b", "1", "l3af_x.tar.gz"),
                                        ref("x", "../../etc", "l3af_x.tar.gz"),
                                        ref("x", "", "l3af_x.tar.gz"),
                                        ref("x", "1", ""),
                                        ref("x", "1", "../l3af_x.tar.gz"),
                                        ref(std::string("a\0b", 3), "1", "l3af_x.tar.gz"),
                                        ref("x", "1", "l3af_x.tar.bz2")};
  for (const auto& r : bad) {
    auto got = src.fetch(r);
    ASSERT_FALSE(got.has_value()) << r.name << "/" << r.version << "/" << r.artifact;
    EXPECT_EQ(got.error().code, Errc::InvalidPayload) << got.error().message;
    const bool unsafe_dir = !validate_component("name", r.name).has_value() ||
                            !validate_component("version", r.version).has_value();
    if (unsafe_dir) {
      EXPECT_EQ(src.remove(r).error().code, Errc::InvalidPayload);
    }
  }
  EXPECT_FALSE(fs::exists(cache_)) << "the cache root was not even created";
}

TEST_F(FetchFile, WrongSuffixNamesUnknownFormat) {
  auto got = RepositorySource(options_).fetch(ref("x", "1", "l3af_x.tgz"));
  ASSERT_FALSE(got.has_value());
  EXPECT_NE(got.error().message.find("unknown artifact format"), std::string::npos);
}

TEST_F(FetchFile, SymlinkedNameDirectoryIsRefused) {
  const fs::path outside = root_ / "outside";
  fs::create_directories(outside);
  fs::create_directories(cache_);
  fs::create_directory_symlink(outside, cache_ / "sneaky");
  auto r = ref("sneaky", "1", "l3af_sneaky.tar.gz");
  publish(r, TestFormat::TarGz, {file("l3af_sneaky/a", "x")});
  RepositorySource src(options_);
  auto got = src.fetch(r);
  ASSERT_FALSE(got.has_value());
  EXPECT_EQ(got.error().code, Errc::Io);
  EXPECT_TRUE(list(outside).empty());
  EXPECT_FALSE(src.remove(r).has_value()) << "remove must not descend through the symlink";
  EXPECT_TRUE(fs::exists(outside));
}

TEST_F(FetchFile, LocalFileAboveDownloadCapIsRejected) {
  options_.max_download_bytes = 64;
  auto r = ref("big", "1", "l3af_big.tar.gz");
  publish(r, TestFormat::TarGz, {file("l3af_big/a", std::string(4096, 'x'))});
  auto got = RepositorySource(options_).fetch(r);
  ASSERT_FALSE(got.has_value());
  EXPECT_NE(got.error().message.find("size limit of 64 bytes"), std::string::npos)
      << got.error().message;
  EXPECT_TRUE(list(cache_).empty());
}

TEST_F(FetchFile, ChecksumMatchAndMismatch) {
  auto r = ref("summed", "1", "l3af_summed.tar.gz");
  publish(r, TestFormat::TarGz, {file("l3af_summed/a", "x")});
  const fs::path sum = repo_file(r).string() + ".sha256";
  const std::string cmd = "sha256sum '" + repo_file(r).string() + "' > '" + sum.string() + "'";
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  RepositorySource src(options_);
  auto good = src.fetch(r);
  ASSERT_TRUE(good.has_value()) << good.error().to_string();
  ASSERT_TRUE(src.remove(r).has_value());

  write(sum, std::string(64, '0') + "  l3af_summed.tar.gz\n");
  auto bad = src.fetch(r);
  ASSERT_FALSE(bad.has_value());
  EXPECT_NE(bad.error().message.find("checksum mismatch"), std::string::npos)
      << bad.error().message;
  EXPECT_TRUE(list(cache_).empty());

  write(sum, "not a digest\n");
  auto malformed = src.fetch(r);
  ASSERT_FALSE(malformed.has_value());
  EXPECT_NE(malformed.error().message.find("malformed checksum"), std::string::npos);
}

TEST_F(FetchFile, RequiredChecksumMustExist) {
  options_.require_checksum = true;
  auto r = ref("unsummed", "1", "l3af_unsummed.tar.gz");
  publish(r, TestFormat::TarGz, {file("l3af_unsummed/a", "x")});
  auto got = RepositorySource(options_).fetch(r);
  ASSERT_FALSE(got.has_value());
  EXPECT_NE(got.error().message.find("checksum required"), std::string::npos);
  EXPECT_TRUE(list(cache_).empty());
}

TEST_F(FetchFile, RemoveDeletesVersionAndEmptyName) {
  auto v1 = ref("rm", "1", "l3af_rm.tar.gz");
  auto v2 = ref("rm", "2", "l3af_rm.tar.gz");
  publish(v1, TestFormat::TarGz, {file("l3af_rm/a", "1")});
  publish(v2, TestFormat::TarGz, {file("l3af_rm/a", "2")});
  RepositorySource src(options_);
  ASSERT_TRUE(src.fetch(v1).has_value());
  ASSERT_TRUE(src.fetch(v2).has_value());
  ASSERT_TRUE(src.remove(v1).has_value());
  EXPECT_EQ(list(cache_ / "rm"), std::vector<std::string>{"2"});
  ASSERT_TRUE(src.remove(v2).has_value());
  EXPECT_FALSE(fs::exists(cache_ / "rm"));
  EXPECT_TRUE(src.remove(v2).has_value()) << "removing an absent package succeeds";
  auto bad = src.remove(ref("..", "1", "x.tar.gz"));
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().code, Errc::InvalidPayload);
}

}  // namespace
}  // namespace l3afd::artifact::testing

namespace l3afd::artifact::testing {
namespace {

TEST_F(FetchFile, CachedPackageIsNotReusedForAnotherRepository) {
  auto r = ref("origin", "1.0", "l3af_origin.tar.gz");
  publish(r, TestFormat::TarGz, good_entries("l3af_origin", "one"));
  RepositorySource src(options_);
  ASSERT_TRUE(src.fetch(r).has_value());

  ArtifactRef elsewhere = r;
  elsewhere.repo_url = "file:///nonexistent-l3afd-test-repo";
  auto other = src.fetch(elsewhere);
  ASSERT_FALSE(other.has_value()) << "a package of another repository must not be substituted";
  EXPECT_EQ(other.error().code, Errc::NotFound);

  auto again = src.fetch(r);  // the original source still hits its cache entry
  ASSERT_TRUE(again.has_value()) << again.error().to_string();
  EXPECT_TRUE(again->from_cache);
  EXPECT_EQ(read(again->package_dir / "prog.bpf.o"), "ELF-one");
}

}  // namespace
}  // namespace l3afd::artifact::testing
