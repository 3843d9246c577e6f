// Cgroups: the fallback when cgroup v2 is not usable at the root, the files a group gets (on a
// plain directory standing in for cgroupfs), a child joining its group before exec, and — on a
// host where cgroup v2 is usable (root, delegated memory controller) — the real thing.
#include "supervisor/cgroup.h"

#include <sys/statfs.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "component/supervisor/package_dir.h"
#include "supervisor/posix_runner.h"

namespace l3afd::supervisor {
namespace {

using testing::PackageDir;
using testing::read_file;

TEST(Cgroups, NotCgroup2IsAFallbackToRlimits) {
  PackageDir d("cgroup");
  auto c = Cgroups::probe({d.file("cg"), true});  // a tmp directory is not cgroupfs
  EXPECT_FALSE(c.available());
  EXPECT_NE(c.reason().find("cgroup v2"), std::string::npos) << c.reason();
  auto g = c.prepare("eth0/ingress/x", {});
  ASSERT_FALSE(g);
  EXPECT_EQ(g.error().code, Errc::Unavailable);
  auto none = Cgroups::probe({"", true});
  EXPECT_FALSE(none.available());
}

TEST(Cgroups, AMissingMemoryControllerIsAFallback) {
  PackageDir d("cgroup");
  std::filesystem::create_directories(d.file("cg"));
  std::ofstream(d.file("cg") / "cgroup.controllers") << "cpu io\n";
  auto c = Cgroups::probe({d.file("cg"), false});
  EXPECT_FALSE(c.available());
  EXPECT_NE(c.reason().find("memory"), std::string::npos);
}

TEST(Cgroups, AGroupGetsItsLimitsAndTheChildJoinsItBeforeExec) {
  PackageDir d("cgroup");
  const auto root = d.file("cg");
  std::filesystem::create_directories(root);
  std::ofstream(root / "cgroup.controllers") << "cpuset cpu io memory pids\n";
  std::ofstream(root / "cgroup.subtree_control");
  auto c = Cgroups::probe({root, false});
  ASSERT_TRUE(c.available()) << c.reason();
  EXPECT_EQ(read_file(root / "cgroup.subtree_control"), "+memory +pids");
  auto g = c.prepare("eth0/ingress/x", {256ull << 20, 64});
  ASSERT_TRUE(g) << g.error().to_string();
  EXPECT_EQ(g->parent_path(), root) << "one level below the root";
  EXPECT_EQ(read_file(*g / "memory.max"), "268435456");
  EXPECT_EQ(read_file(*g / "pids.max"), "64");
  auto again = c.prepare("eth0/ingress/x", {});
  ASSERT_TRUE(again);
  EXPECT_EQ(read_file(*g / "memory.max"), "max") << "an unset limit is max";

  std::ofstream(*g / "cgroup.procs");  // cgroupfs has it; the stand-in needs it made
  SpawnOptions o;
  o.cwd = d.pkg();
  o.cgroup = *g;
  auto child = spawn(CommandLine{d.fake(), {d.fake().string()}}, o);
  ASSERT_TRUE(child) << child.error().to_string();
  auto e = wait_exit(*child, std::chrono::seconds(30));
  ASSERT_TRUE(e && *e);
  EXPECT_EQ(**e, (Exit{false, 0}));
  EXPECT_EQ(read_file(*g / "cgroup.procs"), "0") << "the child wrote itself into the group";
}

TEST(Cgroups, RealCgroup2WhenUsable) {
  struct statfs fs {};
  if (::geteuid() != 0 || ::statfs("/sys/fs/cgroup", &fs) != 0 || fs.f_type != 0x63677270) {
    GTEST_SKIP() << "cgroup v2 not mounted at /sys/fs/cgroup or not root";
  }
  const std::filesystem::path root = "/sys/fs/cgroup/l3afd-test-" + std::to_string(::getpid());
  auto c = Cgroups::probe({root, true});
  if (!c.available()) GTEST_SKIP() << c.reason();
  auto g = c.prepare("eth0/ingress/x", {64ull << 20, 32});
  ASSERT_TRUE(g) << g.error().to_string();
  EXPECT_EQ(read_file(*g / "memory.max"), "67108864\n");
  c.remove("eth0/ingress/x");
  EXPECT_FALSE(std::filesystem::exists(*g));
  ::rmdir(root.c_str());
}

}  // namespace
}  // namespace l3afd::supervisor
