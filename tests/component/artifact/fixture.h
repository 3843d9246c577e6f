// Test support: a temporary file:// package repository and cache directory.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>

#include <cstdio>
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "artifact/artifact.h"
#include "component/artifact/archive_builder.h"

namespace l3afd::artifact::testing {

namespace fs = std::filesystem;

inline constexpr const char* kPlatform = "bookworm";

class ArtifactFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "l3afd-artifact-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    root_ = tmpl;
    repo_ = root_ / "repo";
    cache_ = root_ / "cache";
    fs::create_directories(repo_);
    options_.cache_root = cache_;
    options_.platform = kPlatform;
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(root_, ec);
  }

  std::string repo_url() const { return "file://" + repo_.string(); }
  ArtifactRef ref(const std::string& name, const std::string& version,
                  const std::string& artifact) const {
    return ArtifactRef{repo_url(), name, version, artifact};
  }
  /// Where the repository keeps `r`'s archive.
  fs::path repo_file(const ArtifactRef& r) const {
    return repo_ / r.name / r.version / kPlatform / r.artifact;
  }
  /// Writes an archive for `r` into the repository.
  void publish(const ArtifactRef& r, TestFormat format, const std::vector<TestEntry>& entries) {
    fs::create_directories(repo_file(r).parent_path());
    ASSERT_EQ(write_archive(repo_file(r), format, entries), "");
  }
  static std::string read(const fs::path& p) {
    std::string out;
    FILE* f = std::fopen(p.c_str(), "rb");
    EXPECT_NE(f, nullptr) << p;
    if (f == nullptr) return out;
    char buf[4096];
    std::size_t n = 0;
    while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) out.append(buf, n);
    std::fclose(f);
    return out;
  }
  static void write(const fs::path& p, const std::string& content) {
    fs::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary) << content;
  }
  /// Names directly inside `dir` (empty when `dir` is absent).
  static std::vector<std::string> list(const fs::path& dir) {
    std::vector<std::string> out;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(dir, ec)) out.push_back(e.path().filename());
    std::sort(out.begin(), out.end());  // directory order is not stable
    return out;
  }

  fs::path root_;
  fs::path repo_;
  fs::path cache_;
  FetchOptions options_;
};

}  // namespace l3afd::artifact::testing
