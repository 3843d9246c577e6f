#include "daemon/pid_file.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

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
    bool refused = !second && second.error().code == l3afd::Errc::Conflict &&
                   second.error().message.find("another l3afd (pid " + before + ")") != std::string::npos;
    if (second) second->remove();
    ::_exit(refused ? 0 : 1);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  EXPECT_EQ(read(p), before);
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
