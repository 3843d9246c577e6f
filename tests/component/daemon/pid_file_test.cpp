#include "daemon/pid_file.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "daemon/app.h"

namespace fs = std::filesystem;
using l3afd::daemon::PidFile;

namespace {

fs::path temp_path(const std::string& name) {
  return fs::temp_directory_path() / ("l3afd-pid-" + std::to_string(::getpid()) + "-" + name);
}

std::string read(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(PidFile, WritesDecimalPidWithoutNewlineMode0640AndRemovesOnExit) {
  const auto p = temp_path("a");
  {
    auto pf = PidFile::acquire(p);
    ASSERT_TRUE(pf) << pf.error().to_string();
    EXPECT_EQ(read(p), std::to_string(::getpid()));
    EXPECT_EQ(fs::status(p).permissions() & fs::perms::all,
              fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read);
  }
  EXPECT_FALSE(fs::exists(p));
}

TEST(PidFile, SecondProcessIsRefusedWithoutTouchingTheFile) {
  const auto p = temp_path("b");
  auto pf = PidFile::acquire(p);
  ASSERT_TRUE(pf);
  const std::string before = read(p);
  pid_t child = ::fork();
  if (child == 0) {
    auto second = PidFile::acquire(p);
    bool refused =
        !second && second.error().code == l3afd::Errc::Conflict &&
        second.error().message.find("another l3afd (pid " + before + ")") != std::string::npos;
    if (second) second->remove();
    ::_exit(refused ? 0 : 1);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  EXPECT_EQ(read(p), before);
}

/// A fresh directory (mode 0700, ours) under the system temporary directory, removed at the end.
class PidFileSafety : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "l3afd-pidsafe-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override {
    std::error_code ec;
    fs::permissions(dir_, fs::perms::owner_all, ec);
    fs::remove_all(dir_, ec);
  }
  /// Expects acquire(p) to be refused with Io, the message naming `named` and `reason`.
  static void expect_refused(const fs::path& p, const std::string& named,
                             const std::string& reason) {
    auto pf = PidFile::acquire(p);
    ASSERT_FALSE(pf) << "accepted " << p;
    EXPECT_EQ(pf.error().code, l3afd::Errc::Io) << pf.error().to_string();
    EXPECT_NE(pf.error().message.find("pid file " + p.string()), std::string::npos)
        << pf.error().to_string();
    EXPECT_NE(pf.error().message.find(named), std::string::npos) << pf.error().to_string();
    EXPECT_NE(pf.error().message.find(reason), std::string::npos) << pf.error().to_string();
  }
  fs::path dir_;
};

TEST_F(PidFileSafety, SymlinkAtThePidPathIsRefusedAndItsTargetLeftUnchanged) {
  const fs::path victim = dir_ / "victim";
  std::ofstream(victim) << "precious";
  fs::permissions(victim, fs::perms::owner_read | fs::perms::owner_write);
  const fs::path p = dir_ / "l3afd.pid";
  fs::create_symlink(victim, p);
  expect_refused(p, "l3afd.pid", "symbolic link");
  EXPECT_EQ(read(victim), "precious");
  EXPECT_EQ(fs::status(victim).permissions() & fs::perms::all,
            fs::perms::owner_read | fs::perms::owner_write);
  EXPECT_TRUE(fs::is_symlink(fs::symlink_status(p)));
}

TEST_F(PidFileSafety, DanglingSymlinkIsRefusedWithoutCreatingItsTarget) {
  const fs::path p = dir_ / "l3afd.pid";
  fs::create_symlink(dir_ / "created-by-us", p);
  expect_refused(p, "l3afd.pid", "symbolic link");
  EXPECT_FALSE(fs::exists(dir_ / "created-by-us"));
}

TEST_F(PidFileSafety, HardLinkToAnotherFileIsRefusedAndThatFileUnchanged) {
  const fs::path victim = dir_ / "victim";
  std::ofstream(victim) << "precious";
  const fs::path p = dir_ / "l3afd.pid";
  fs::create_hard_link(victim, p);
  expect_refused(p, "l3afd.pid", "2 hard links");
  EXPECT_EQ(read(victim), "precious");
}

TEST_F(PidFileSafety, FifoAtThePidPathIsRefused) {
  const fs::path p = dir_ / "l3afd.pid";
  ASSERT_EQ(::mkfifo(p.c_str(), 0600), 0);
  expect_refused(p, "l3afd.pid", "not a regular file");
}

TEST_F(PidFileSafety, WorldOrGroupWritableDirectoryWithoutStickyBitIsRefused) {
  const fs::path d = dir_ / "run";
  fs::create_directory(d);
  const fs::path p = d / "l3afd.pid";
  for (const auto mode :
       {fs::perms::all, fs::perms::owner_all | fs::perms::group_all,
        fs::perms::owner_all | fs::perms::others_write | fs::perms::others_exec}) {
    fs::permissions(d, mode);
    expect_refused(p, "directory " + d.string(),
                   "writable by group or others without the sticky bit");
    EXPECT_FALSE(fs::exists(fs::symlink_status(p))) << "nothing created";
  }
  // The same directory with the sticky bit (like /tmp) is accepted.
  fs::permissions(d, fs::perms::all | fs::perms::sticky_bit);
  {
    auto pf = PidFile::acquire(p);
    ASSERT_TRUE(pf) << pf.error().to_string();
    EXPECT_EQ(read(p), std::to_string(::getpid()));
  }
  EXPECT_FALSE(fs::exists(p));
}

TEST_F(PidFileSafety, UnsafeAncestorDirectoryIsRefused) {
  const fs::path open_dir = dir_ / "open";
  fs::create_directories(open_dir / "private");
  fs::permissions(open_dir, fs::perms::all);
  const fs::path p = open_dir / "private" / "l3afd.pid";
  expect_refused(p, "directory " + open_dir.string(), "without the sticky bit");
  EXPECT_FALSE(fs::exists(p));
  // A missing directory is not created under an unsafe one.
  const fs::path q = open_dir / "new" / "l3afd.pid";
  expect_refused(q, "directory " + open_dir.string(), "without the sticky bit");
  EXPECT_FALSE(fs::exists(open_dir / "new"));
}

TEST_F(PidFileSafety, DirectoryOrFileOwnedByAnotherUserIsRefused) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to give files away";
  const fs::path d = dir_ / "theirs";
  fs::create_directory(d);
  ASSERT_EQ(::chown(d.c_str(), 65534, 65534), 0);
  expect_refused(d / "l3afd.pid", "directory " + d.string(), "owned by uid 65534");
  EXPECT_FALSE(fs::exists(d / "l3afd.pid"));

  const fs::path p = dir_ / "l3afd.pid";
  std::ofstream(p) << "12345";
  ASSERT_EQ(::chown(p.c_str(), 65534, 65534), 0);
  expect_refused(p, "l3afd.pid", "owned by uid 65534");
  EXPECT_EQ(read(p), "12345");
}

TEST_F(PidFileSafety, DaemonExitsNonZeroBeforeTouchingAnythingWhenThePidPathIsASymlink) {
  const fs::path victim = dir_ / "victim";
  std::ofstream(victim) << "precious";
  const fs::path p = dir_ / "l3afd.pid";
  fs::create_symlink(victim, p);
  const fs::path cfg = dir_ / "l3afd.cfg";
  std::ofstream(cfg) << "[l3afd]\npid-file: " << p.string() << "\nbpf-dir: "
                     << (dir_ / "bpf").string()
                     // A start that gets past the PID file (the defect) stops right after it,
                     // at the kernel gate: no bpffs mount, no listener, no hang.
                     << "\nkernel-major-version: 999\nkernel-minor-version: 0"
                     << "\nbpf-chaining-enabled: false\nBpfMapDefaultPath: "
                     << (dir_ / "bpffs").string()
                     << "\n[ebpf-repo]\nurl: file:///nonexistent\n[l3af-config-store]\nfilename: "
                     << (dir_ / "store" / "store.json").string() << "\n[mtls]\nenabled: false\n";
  ::testing::internal::CaptureStderr();
  EXPECT_EQ(l3afd::daemon::run(cfg), 1);
  const std::string err = ::testing::internal::GetCapturedStderr();
  EXPECT_NE(err.find("pid file " + p.string() + ": is a symbolic link"), std::string::npos) << err;
  EXPECT_EQ(err.find("kernel is older"), std::string::npos) << "got past the PID file: " << err;
  EXPECT_EQ(read(victim), "precious");
  EXPECT_TRUE(fs::is_symlink(fs::symlink_status(p)));
  for (const char* untouched : {"bpf", "bpffs", "store"}) {
    EXPECT_FALSE(fs::exists(dir_ / untouched)) << untouched << " was created";
  }
}

TEST(KernelGate, ParsesLeadingDigits) {
  const auto p = temp_path("version");
  auto write = [&](const std::string& s) { std::ofstream(p) << s; };
  write("Linux version 6.8-rc1 (x@y) #1 SMP");
  EXPECT_TRUE(*l3afd::daemon::kernel_at_least(6, 8, p));
  EXPECT_FALSE(*l3afd::daemon::kernel_at_least(6, 9, p));
  write("Linux version 5.15.0-91-generic (x@y)");
  EXPECT_TRUE(*l3afd::daemon::kernel_at_least(5, 15, p));
  EXPECT_FALSE(*l3afd::daemon::kernel_at_least(6, 0, p));
  write("Linux version garbage");
  EXPECT_FALSE(l3afd::daemon::kernel_at_least(5, 15, p));
  fs::remove(p);
}

}  // namespace
