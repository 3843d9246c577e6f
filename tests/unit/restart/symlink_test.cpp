// read_link, replace_symlink, remove_symlink on real files in a temporary directory.
#include "restart/symlink.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace l3afd::restart {
namespace {

namespace fs = std::filesystem;

class Symlinks : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "l3afd-symlink-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  std::vector<std::string> names() const {
    std::vector<std::string> out;
    for (const auto& e : fs::directory_iterator(dir_)) out.push_back(e.path().filename());
    std::sort(out.begin(), out.end());
    return out;
  }
  fs::path dir_;
};

TEST_F(Symlinks, ReadReturnsTheStoredTargetOrNothing) {
  EXPECT_EQ(*read_link(dir_ / "absent"), std::nullopt);
  ASSERT_EQ(::symlink("../a//b/./c", (dir_ / "rel").c_str()), 0);
  EXPECT_EQ(*read_link(dir_ / "rel"), "../a//b/./c") << "byte for byte, not normalised";
  const std::string long_target(3000, 'x');
  ASSERT_EQ(::symlink(long_target.c_str(), (dir_ / "long").c_str()), 0);
  EXPECT_EQ(*read_link(dir_ / "long"), long_target);
}

TEST_F(Symlinks, ReadRefusesOtherFileTypes) {
  std::ofstream(dir_ / "file") << "x";
  auto got = read_link(dir_ / "file");
  ASSERT_FALSE(got.has_value());
  EXPECT_EQ(got.error().code, Errc::Io);
  EXPECT_NE(got.error().message.find((dir_ / "file").string()), std::string::npos);
  EXPECT_FALSE(read_link(dir_ / "file" / "below").has_value()) << "ENOTDIR is not absence";
}

TEST_F(Symlinks, ReplaceCreatesOrSwapsAndLeavesNoTemporary) {
  ASSERT_TRUE(replace_symlink(dir_ / "l", "/first").has_value());
  EXPECT_EQ(*read_link(dir_ / "l"), "/first");
  ASSERT_TRUE(replace_symlink(dir_ / "l", "second/target").has_value());
  EXPECT_EQ(*read_link(dir_ / "l"), "second/target");
  EXPECT_EQ(names(), std::vector<std::string>{"l"});
}

TEST_F(Symlinks, ReplaceOverADirectoryFailsAndCleansUp) {
  fs::create_directory(dir_ / "d");
  auto st = replace_symlink(dir_ / "d", "/x");
  ASSERT_FALSE(st.has_value());
  EXPECT_EQ(st.error().code, Errc::Io);
  EXPECT_NE(st.error().message.find((dir_ / "d").string()), std::string::npos);
  EXPECT_TRUE(fs::is_directory(fs::symlink_status(dir_ / "d")));
  EXPECT_EQ(names(), std::vector<std::string>{"d"}) << "the temporary link is removed";
}

TEST_F(Symlinks, RemoveDeletesOnlyLinks) {
  EXPECT_TRUE(remove_symlink(dir_ / "absent").has_value());
  ASSERT_EQ(::symlink("/nowhere", (dir_ / "l").c_str()), 0);
  ASSERT_TRUE(remove_symlink(dir_ / "l").has_value());
  std::ofstream(dir_ / "file") << "x";
  auto st = remove_symlink(dir_ / "file");
  ASSERT_FALSE(st.has_value());
  EXPECT_EQ(st.error().code, Errc::Io);
  EXPECT_EQ(names(), std::vector<std::string>{"file"});
}

}  // namespace
}  // namespace l3afd::restart
