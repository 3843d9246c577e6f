// Every kind of archive a package must not be accepted as: the fetch fails with a message
// naming the problem, nothing is written outside the cache, and nothing is left in the cache.
#include <fstream>

#include "component/artifact/fixture.h"

namespace l3afd::artifact::testing {
namespace {

using Type = TestEntry::Type;

struct BadCase {
  std::string label;
  TestFormat format;
  std::vector<TestEntry> entries;
  std::string expect;  ///< substring of the error message
  uint64_t max_entries = 10000;
  uint64_t max_bytes = 1ull << 30;
};

std::vector<BadCase> bad_cases(const fs::path& outside) {
  const std::string abs = (outside / "abs-escape").string();
  std::vector<BadCase> cases = {
      {"absolute", TestFormat::TarGz, {dir("l3af_x/"), file(abs, "pwned")}, "absolute path"},
      {"dotdot",
       TestFormat::TarGz,
       {dir("l3af_x/"), file("l3af_x/../../../../../../outside/rel-escape", "p")},
       "contains '..'"},
      {"dotdot_prefix", TestFormat::TarGz, {file("../outside/rel-escape", "p")}, "contains '..'"},
      {"symlink",
       TestFormat::TarGz,
       {dir("l3af_x/"), special("l3af_x/link", Type::Symlink, outside.string())},
       "symbolic link not allowed"},
      {"hardlink",
       TestFormat::TarGz,
       {dir("l3af_x/"), file("l3af_x/a", "x"), special("l3af_x/b", Type::Hardlink, "l3af_x/a")},
       "hard link not allowed"},
      {"chardev",
       TestFormat::TarGz,
       {dir("l3af_x/"), special("l3af_x/null", Type::CharDevice)},
       "character device not allowed"},
      {"blockdev",
       TestFormat::TarGz,
       {dir("l3af_x/"), special("l3af_x/sda", Type::BlockDevice)},
       "block device not allowed"},
      {"fifo",
       TestFormat::TarGz,
       {dir("l3af_x/"), special("l3af_x/pipe", Type::Fifo)},
       "fifo not allowed"},
      {"too_many_entries",
       TestFormat::TarGz,
       {dir("l3af_x/"), file("l3af_x/1", "1"), file("l3af_x/2", "2"), file("l3af_x/3", "3")},
       "more than 3 entries",
       3},
      {"too_many_bytes",
       TestFormat::TarGz,
       {dir("l3af_x/"), file("l3af_x/a", std::string(60, 'a')),
        file("l3af_x/b", std::string(60, 'b'))},
       "exceeds the limit of 100 bytes",
       10000,
       100},
      {"missing_top_dir",
       TestFormat::TarGz,
       {dir("other/"), file("other/a", "x")},
       "top-level directory 'l3af_x/'"},
      {"top_is_a_file", TestFormat::TarGz, {file("l3af_x", "x")}, "top-level directory 'l3af_x/'"},
      {"file_then_child",
       TestFormat::TarGz,
       {file("l3af_x/a", "x"), file("l3af_x/a/b", "y")},
       "not a directory"},
      {"not_gzip", TestFormat::PlainTar, {file("l3af_x/a", "x")}, "not gzip-compressed"},
      {"zip_absolute", TestFormat::Zip, {file(abs, "pwned")}, "absolute path"},
      {"zip_dotdot",
       TestFormat::Zip,
       {file("l3af_x/../../../../../../outside/rel-escape", "p")},
       "contains '..'"},
      {"zip_symlink",
       TestFormat::Zip,
       {special("l3af_x/link", Type::Symlink, "/etc/passwd")},
       "symbolic link not allowed"},
      {"zip_missing_top_dir", TestFormat::Zip, {file("other/a", "x")}, "top-level directory"},
  };
  return cases;
}

class MaliciousArchive : public ArtifactFixture, public ::testing::WithParamInterface<std::size_t> {
 protected:
  /// Fetches `artifact` whose repository file was already written, and checks the outcome.
  void expect_rejected(const ArtifactRef& r, const std::string& expect) {
    RepositorySource src(options_);
    auto got = src.fetch(r);
    ASSERT_FALSE(got.has_value()) << "accepted";
    EXPECT_NE(got.error().message.find(expect), std::string::npos) << got.error().to_string();
    EXPECT_TRUE(list(cache_).empty()) << "left behind: " << list(cache_ / r.name).size();
    EXPECT_TRUE(list(root_ / "outside").empty()) << "something escaped the cache";
  }
};

TEST_P(MaliciousArchive, IsRejectedWithNothingLeftBehind) {
  const fs::path outside = root_ / "outside";
  fs::create_directories(outside);
  const auto cases = bad_cases(outside);
  ASSERT_LT(GetParam(), cases.size());
  const BadCase& c = cases[GetParam()];
  SCOPED_TRACE(c.label);
  options_.max_entries = c.max_entries;
  options_.max_extracted_bytes = c.max_bytes;
  const bool zip = c.format == TestFormat::Zip;
  auto r = ref("bad_" + c.label, "1.0", zip ? "l3af_x.zip" : "l3af_x.tar.gz");
  publish(r, c.format, c.entries);
  expect_rejected(r, c.expect);
}

INSTANTIATE_TEST_SUITE_P(Cases, MaliciousArchive, ::testing::Range<std::size_t>(0, 18),
                         [](const ::testing::TestParamInfo<std::size_t>& param_info) {
                           return bad_cases("/nonexistent")[param_info.param].label;
                         });

using CorruptArchive = MaliciousArchive;

TEST_F(CorruptArchive, CorruptedGzipIsRejected) {
  fs::create_directories(root_ / "outside");
  auto r = ref("corrupt", "1", "l3af_x.tar.gz");
  std::string big;
  for (int i = 0; i < 20000; ++i) big += std::to_string(i * 7919) + ",";
  publish(r, TestFormat::TarGz, {dir("l3af_x/"), file("l3af_x/a", big)});
  std::string bytes = read(repo_file(r));
  ASSERT_GT(bytes.size(), 200u);
  for (std::size_t i = 40; i < bytes.size() - 20; i += 7) bytes[i] = static_cast<char>(~bytes[i]);
  write(repo_file(r), bytes);
  RepositorySource src(options_);
  auto got = src.fetch(r);
  ASSERT_FALSE(got.has_value());
  EXPECT_EQ(got.error().code, Errc::Unavailable) << got.error().to_string();
  EXPECT_TRUE(list(cache_).empty());
}

TEST_F(CorruptArchive, TruncatedGzipIsRejected) {
  fs::create_directories(root_ / "outside");
  auto r = ref("truncated", "1", "l3af_x.tar.gz");
  std::string big;
  for (int i = 0; i < 20000; ++i) big += std::to_string(i * 104729) + ";";
  publish(r, TestFormat::TarGz, {dir("l3af_x/"), file("l3af_x/a", big)});
  std::string bytes = read(repo_file(r));
  write(repo_file(r), bytes.substr(0, bytes.size() / 2));
  expect_rejected(r, "");
}

TEST_F(CorruptArchive, GarbageIsRejected) {
  fs::create_directories(root_ / "outside");
  auto r = ref("garbage", "1", "l3af_x.zip");
  write(repo_file(r), std::string(1000, 'G'));
  expect_rejected(r, "cannot read archive");
}

}  // namespace
}  // namespace l3afd::artifact::testing
