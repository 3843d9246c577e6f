// The ratelimiting package in the local repository the build creates (bpf/CMakeLists.txt):
// <repo>/ratelimiting/<version>/<platform>/l3af_ratelimiting.tar.gz with the top directory
// l3af_ratelimiting/ holding the object, the README and the user binary (tools/companions), for
// versions latest and 1.0.
#include <gtest/gtest.h>

#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include "support/netns.h"

namespace {

namespace fs = std::filesystem;

std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);) out.push_back(l);
  return out;
}

TEST(RateLimitPackage, ArchiveHoldsTheObjectTheReadmeAndTheBinaryForEveryVersion) {
  for (const char* version : {"latest", "1.0"}) {
    SCOPED_TRACE(version);
    const fs::path archive = fs::path(L3AFD_BPF_REPO_DIR) / "ratelimiting" / version /
                             L3AFD_PLATFORM / "l3af_ratelimiting.tar.gz";
    ASSERT_TRUE(fs::is_regular_file(archive)) << archive;
    const auto names = l3afd::testing::run_command({"tar", "-tzf", archive.string()});
    ASSERT_EQ(names.exit_code, 0) << names.output;
    EXPECT_EQ(lines(names.output),
              (std::vector<std::string>{"l3af_ratelimiting/", "l3af_ratelimiting/README.md",
                                        "l3af_ratelimiting/ratelimiting",
                                        "l3af_ratelimiting/ratelimiting.bpf.o"}));
    // Owner 0, modes 0755 (directory and the binary) and 0644 (other files).
    const auto listing =
        l3afd::testing::run_command({"tar", "--numeric-owner", "-tvzf", archive.string()});
    ASSERT_EQ(listing.exit_code, 0) << listing.output;
    for (const auto& l : lines(listing.output)) {
      const bool binary = l.ends_with("/ratelimiting");
      EXPECT_EQ(l.substr(0, 14), l.back() == '/' ? "drwxr-xr-x 0/0"
                                 : binary        ? "-rwxr-xr-x 0/0"
                                                 : "-rw-r--r-- 0/0")
          << l;
    }
  }
}

TEST(RateLimitPackage, ReadmeIsTheSourceTreesRatelimitingMd) {
  const fs::path archive = fs::path(L3AFD_BPF_REPO_DIR) / "ratelimiting" / "1.0" / L3AFD_PLATFORM /
                           "l3af_ratelimiting.tar.gz";
  const auto readme = l3afd::testing::run_command(
      {"tar", "-xzOf", archive.string(), "l3af_ratelimiting/README.md"});
  ASSERT_EQ(readme.exit_code, 0) << readme.output;
  EXPECT_NE(readme.output.find("_xdp_ratelimiting"), std::string::npos);
  EXPECT_NE(readme.output.find("rl_window_map"), std::string::npos);
}

}  // namespace
