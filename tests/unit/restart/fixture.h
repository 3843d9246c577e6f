// Test support: a temporary <basepath> and a file:// directory of daemon release packages
// (`<repo>/<version>/l3afd.tar.gz`), plus helpers that capture a tree to prove it unchanged.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "component/artifact/archive_builder.h"

namespace l3afd::restart::testing {

namespace fs = std::filesystem;
using artifact::testing::dir;
using artifact::testing::file;
using artifact::testing::special;
using artifact::testing::TestEntry;
using artifact::testing::TestFormat;

/// The entries of a well-formed daemon package; `marker` tells packages apart.
inline std::vector<TestEntry> good_package(const std::string& marker) {
  return {dir("l3afd/"), file("l3afd/l3afd", "#!bin " + marker + "\n", 0755),
          file("l3afd/l3afd.cfg", "[l3afd]\n# " + marker + "\n", 0644)};
}

class LayoutFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "l3afd-restart-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    root_ = tmpl;
    repo_ = root_ / "repo";
    base_ = root_ / "l3afd";
    fs::create_directories(repo_);
    fs::create_directories(base_);
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(root_, ec);
  }

  std::string artifacts_url() const { return "file://" + repo_.string(); }
  fs::path package_path(const std::string& version) const {
    return repo_ / version / "l3afd.tar.gz";
  }
  void publish(const std::string& version, const std::vector<TestEntry>& entries,
               TestFormat format = TestFormat::TarGz) {
    fs::create_directories(package_path(version).parent_path());
    ASSERT_EQ(artifact::testing::write_archive(package_path(version), format, entries), "");
  }
  /// Makes `<base>/latest/l3afd` a link to `target` (the running version's binary).
  void link_latest(const fs::path& base, const std::string& target) {
    fs::create_directories(base / "latest");
    ASSERT_EQ(::symlink(target.c_str(), (base / "latest" / "l3afd").c_str()), 0);
  }
  /// An installed release tree `<base>/<version>` with the given marker in its files.
  static void install(const fs::path& base, const std::string& version, const std::string& marker) {
    write(base / version / "l3afd" / "l3afd", "installed " + marker);
    fs::permissions(base / version / "l3afd" / "l3afd", fs::perms(0755));
    write(base / version / "l3afd" / "l3afd.cfg", "cfg " + marker);
  }

  static void write(const fs::path& p, const std::string& content) {
    fs::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary) << content;
  }
  static std::string read(const fs::path& p) {
    std::string out;
    FILE* f = std::fopen(p.c_str(), "rb");
    if (f == nullptr) return "<missing>";
    char buf[4096];
    std::size_t n = 0;
    while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) out.append(buf, n);
    std::fclose(f);
    return out;
  }
  static std::string readlink_of(const fs::path& p) {
    std::error_code ec;
    auto t = fs::read_symlink(p, ec);
    return ec ? "<no link>" : t.string();
  }
  /// Every entry below `top` (names relative to it) with its type, mode and content or link
  /// target: equal snapshots mean an unchanged tree.
  static std::map<std::string, std::string> snapshot(const fs::path& top) {
    std::map<std::string, std::string> out;
    std::error_code ec;
    for (auto it = fs::recursive_directory_iterator(top, ec);
         !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
      const fs::path p = it->path();
      struct stat st {};
      if (::lstat(p.c_str(), &st) != 0) continue;
      std::string v = std::to_string(st.st_mode) + ":";
      if (S_ISREG(st.st_mode)) v += read(p);
      if (S_ISLNK(st.st_mode)) v += readlink_of(p);
      out[p.lexically_relative(top).string()] = v;
    }
    return out;
  }
  /// Names directly inside `d`, sorted.
  static std::vector<std::string> names(const fs::path& d) {
    std::vector<std::string> out;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(d, ec)) out.push_back(e.path().filename());
    std::sort(out.begin(), out.end());
    return out;
  }

  fs::path root_;
  fs::path repo_;
  fs::path base_;
};

}  // namespace l3afd::restart::testing
