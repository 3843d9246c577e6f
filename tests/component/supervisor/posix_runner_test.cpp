// The posix runner with real processes (coreutils and sh as stand-ins for companion binaries;
// the daemon itself never runs a shell): exact argv, a cleared environment, the working
// directory, no inherited fds, rlimits in place before the program runs, exec failures reported
// as errors, exits reaped, and a SIGTERM-ignoring process killed after the grace period.
#include "supervisor/posix_runner.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <sstream>
#include <thread>

namespace l3afd::supervisor {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;

class Runner : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("l3afd-runner-" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string log() const {
    std::ifstream in(dir_ / "out.log");
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }
  SpawnOptions opts() const { return SpawnOptions{dir_, {}, dir_ / "out.log", {}, {}}; }
  /// A copy of the system tool `name` inside the test's package directory (companions must lie
  /// inside their package).
  std::string tool(const std::string& name) const {
    const fs::path to = dir_ / "bin" / name;
    if (!fs::exists(to)) {
      fs::create_directories(to.parent_path());
      fs::copy_file(fs::path("/bin") / name, to);
    }
    return to.string();
  }
  static CommandLine cmd(std::vector<std::string> argv) {
    return CommandLine{argv.front(), std::move(argv)};
  }
  /// Runs to completion (bounded) and returns how it exited.
  static Exit finish(const Child& c) {
    auto e = wait_exit(c, milliseconds(30000));
    EXPECT_TRUE(e && e->has_value());
    return e && *e ? **e : Exit{true, -1};
  }
  fs::path dir_;
};

TEST_F(Runner, ArgvEnvironmentAndDirectoryReachTheProcessExactly) {
  auto c = spawn(cmd({tool("printf"), "%s|", "--iface=eth0", "two words", "$HOME;`x`"}), opts());
  ASSERT_TRUE(c) << c.error().to_string();
  EXPECT_EQ(finish(*c), (Exit{false, 0}));
  EXPECT_EQ(log(), "--iface=eth0|two words|$HOME;`x`|") << "no shell: nothing expanded or split";

  auto o = opts();
  o.env = {"ONLY=this"};
  auto e = spawn(cmd({tool("env")}), o);
  ASSERT_TRUE(e);
  finish(*e);
  auto p = spawn(cmd({tool("pwd")}), opts());
  ASSERT_TRUE(p);
  finish(*p);
  EXPECT_EQ(log(), "--iface=eth0|two words|$HOME;`x`|ONLY=this\n" + dir_.string() + "\n")
      << "the environment is exactly what was given; the directory is the package's";
}

TEST_F(Runner, NoFileDescriptorIsInherited) {
  const int leaked = ::open("/dev/null", O_RDONLY);  // not close-on-exec, on purpose
  ASSERT_GE(leaked, 0);
  auto c = spawn(cmd({tool("ls"), "-1", "/proc/self/fd"}), opts());
  ::close(leaked);
  ASSERT_TRUE(c);
  finish(*c);
  EXPECT_EQ(log(), "0\n1\n2\n3\n") << "stdin, stdout, stderr and ls's own directory fd only";
}

TEST_F(Runner, LimitsAreInPlaceBeforeTheProgramRuns) {
  auto o = opts();
  o.memory_bytes = 512ull << 20;
  o.cpu_seconds = 7;
  auto c = spawn(cmd({tool("sleep"), "30"}), o);
  ASSERT_TRUE(c);
  std::ifstream in("/proc/" + std::to_string(c->pid) + "/limits");
  std::stringstream limits;
  limits << in.rdbuf();
  EXPECT_NE(limits.str().find("Max address space         536870912            536870912"),
            std::string::npos)
      << limits.str();
  EXPECT_NE(limits.str().find("Max cpu time              7                    7"),
            std::string::npos)
      << limits.str();
  auto s = stop(*c, milliseconds(5000));
  ASSERT_TRUE(s);
  EXPECT_EQ(*s, (Exit{true, SIGTERM}));
}

TEST_F(Runner, WhatCannotBeExecutedIsAnErrorNotAnExit) {
  const fs::path text = dir_ / "not-executable";
  std::ofstream(text) << "hello";
  auto a = spawn(cmd({text.string()}), opts());
  ASSERT_FALSE(a);
  EXPECT_EQ(a.error().code, Errc::InvalidPayload);
  auto b = spawn(cmd({(dir_ / "missing").string()}), opts());
  ASSERT_FALSE(b);
  EXPECT_EQ(b.error().code, Errc::NotFound);
  fs::permissions(text, fs::perms::owner_exec, fs::perm_options::add);  // +x, not a program
  auto c = spawn(cmd({text.string()}), opts());
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().sys_errno, ENOEXEC) << c.error().to_string();
  EXPECT_EQ(::waitpid(-1, nullptr, WNOHANG), -1) << "the failed child was reaped";
  EXPECT_EQ(errno, ECHILD);
}

TEST_F(Runner, ALinkLeadingOutOfThePackageIsRefused) {
  const fs::path pkg = dir_ / "pkg";
  fs::create_directories(pkg / "bin");
  fs::create_symlink("/bin/true", pkg / "bin" / "escape");  // as an archive could carry
  fs::create_symlink("../real", pkg / "bin" / "inside");
  fs::copy_file("/bin/true", pkg / "real");
  auto o = opts();
  o.cwd = pkg;
  auto bad = spawn(cmd({(pkg / "bin" / "escape").string()}), o);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, Errc::InvalidPayload);
  EXPECT_NE(bad.error().message.find("outside the package"), std::string::npos);
  auto good = spawn(cmd({(pkg / "bin" / "inside").string()}), o);
  ASSERT_TRUE(good) << good.error().to_string() << ": a link inside the package is fine";
  EXPECT_EQ(finish(*good), (Exit{false, 0}));
}

TEST_F(Runner, ExitCodesAreReportedAndARunningProcessIsNotWaitedFor) {
  auto c = spawn(cmd({tool("sh"), "-c", "exit 3"}), opts());
  ASSERT_TRUE(c);
  EXPECT_EQ(finish(*c), (Exit{false, 3}));
  auto s = spawn(cmd({tool("sleep"), "30"}), opts());
  ASSERT_TRUE(s);
  auto w = wait_exit(*s, milliseconds(50));
  ASSERT_TRUE(w);
  EXPECT_FALSE(w->has_value()) << "still running";
  ASSERT_TRUE(stop(*s, milliseconds(5000)));
}

TEST_F(Runner, AProcessIgnoringSigtermIsKilledAfterTheGraceAndReaped) {
  auto c = spawn(cmd({tool("sh"), "-c", "trap '' TERM; echo ready; exec sleep 30"}), opts());
  ASSERT_TRUE(c);
  // Bounded wait for the trap to be in place (the script prints after setting it).
  for (int i = 0; i < 300 && log().find("ready") == std::string::npos; ++i) {
    std::this_thread::sleep_for(milliseconds(10));
  }
  ASSERT_NE(log().find("ready"), std::string::npos);
  auto s = stop(*c, milliseconds(200));
  ASSERT_TRUE(s) << s.error().to_string();
  EXPECT_EQ(*s, (Exit{true, SIGKILL}));
  EXPECT_EQ(::kill(c->pid, 0), -1) << "gone and reaped: no zombie left";
  EXPECT_EQ(errno, ESRCH);
}

TEST_F(Runner, SignalsBlockedInTheDaemonAreNotBlockedInTheChild) {
  // The daemon blocks its stop signals in every thread; the mask would survive execve.
  sigset_t term, old;
  sigemptyset(&term);
  sigaddset(&term, SIGTERM);
  ASSERT_EQ(::pthread_sigmask(SIG_BLOCK, &term, &old), 0);
  auto c = spawn(cmd({tool("sleep"), "30"}), opts());
  ::pthread_sigmask(SIG_SETMASK, &old, nullptr);
  ASSERT_TRUE(c);
  auto s = stop(*c, milliseconds(30000));
  ASSERT_TRUE(s);
  EXPECT_EQ(*s, (Exit{true, SIGTERM})) << "SIGTERM reached it (not the SIGKILL after the grace)";
}

}  // namespace
}  // namespace l3afd::supervisor
