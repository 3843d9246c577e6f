// StatsSwitch with an injected opener (pipes: a hold is the write end, closed <=> the read end
// sees POLLHUP) and a sysctl file of the test's own: who holds statistics on, the api hold's
// deadline and its expiry by the timer thread, release, and the lifetime hold.
#include "kernel/stats_switch.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <fstream>
#include <functional>
#include <thread>
#include <vector>

namespace l3afd::kernel {
namespace {

using namespace std::chrono_literals;

class StatsSwitchTest : public ::testing::Test {
 protected:
  void SetUp() override {
    sysctl_ = std::filesystem::temp_directory_path() /
              ("l3afd-stats-switch-" + std::to_string(::getpid()) + "-" +
               ::testing::UnitTest::GetInstance()->current_test_info()->name());
    write_sysctl("0");
  }
  void TearDown() override { std::filesystem::remove(sysctl_); }

  void write_sysctl(const char* v) { std::ofstream(sysctl_) << v << "\n"; }

  /// An opener whose holds are pipe write ends; the read ends stay with the test.
  StatsSwitch::Opener opener() {
    return [this]() -> Result<UniqueFd> {
      ++opens_;
      if (refuse_) return fail(Errc::Kernel, "enable stats", EPERM);
      int p[2];
      if (::pipe2(p, O_CLOEXEC) != 0) return fail(Errc::Io, "pipe", errno);
      readers_.emplace_back(p[0]);
      return UniqueFd(p[1]);
    };
  }
  /// Holds given out and not closed yet.
  int open_holds() const {
    int n = 0;
    for (const auto& r : readers_) {
      pollfd pfd{r.get(), 0, 0};
      if (::poll(&pfd, 1, 0) == 0) ++n;  // no POLLHUP: the write end is open
    }
    return n;
  }
  /// Polls `pred` every 10 ms; generous bound so a broken test ends (no timing is asserted).
  static bool eventually(const std::function<bool()>& pred) {
    for (int i = 0; i < 1000; ++i) {
      if (pred()) return true;
      std::this_thread::sleep_for(10ms);
    }
    return pred();
  }

  std::filesystem::path sysctl_;
  std::vector<UniqueFd> readers_;
  int opens_ = 0;
  bool refuse_ = false;
};

TEST_F(StatsSwitchTest, OffUntilSomethingHoldsThem) {
  StatsSwitch s(opener(), sysctl_);
  EXPECT_EQ(s.state(), StatsState{});
  EXPECT_FALSE(s.bpf_stats_on());
  EXPECT_EQ(opens_, 0);
}

TEST_F(StatsSwitchTest, SysctlIsReadOnEveryQueryAndNeverWritten) {
  StatsSwitch s(opener(), sysctl_);
  write_sysctl("1");
  EXPECT_EQ(s.state(), (StatsState{true, StatsSource::Sysctl, std::nullopt}));
  EXPECT_TRUE(s.bpf_stats_on());
  write_sysctl("0");
  EXPECT_FALSE(s.bpf_stats_on());
  std::filesystem::remove(sysctl_);
  EXPECT_FALSE(s.bpf_stats_on()) << "an absent sysctl file means off";
  EXPECT_EQ(opens_, 0);
}

TEST_F(StatsSwitchTest, LifetimeHoldLastsUntilDestruction) {
  {
    StatsSwitch s(opener(), sysctl_);
    ASSERT_TRUE(s.hold_for_lifetime());
    ASSERT_TRUE(s.hold_for_lifetime()) << "idempotent";
    EXPECT_EQ(opens_, 1);
    EXPECT_EQ(s.state(), (StatsState{true, StatsSource::Config, std::nullopt}));
    EXPECT_EQ(s.release_timed().source, StatsSource::Config) << "release leaves config alone";
    EXPECT_EQ(open_holds(), 1);
  }
  EXPECT_EQ(open_holds(), 0);
}

TEST_F(StatsSwitchTest, TimedHoldReportsItsDeadlineAndIsGivenBackByTheTimer) {
  StatsSwitch s(opener(), sysctl_);
  const auto before = std::chrono::system_clock::now();
  auto st = s.hold_for(200ms);
  ASSERT_TRUE(st) << st.error().to_string();
  EXPECT_TRUE(st->enabled);
  EXPECT_EQ(st->source, StatsSource::Api);
  ASSERT_TRUE(st->until.has_value());
  EXPECT_GE(*st->until, before + 200ms);
  EXPECT_EQ(open_holds(), 1);
  // Nobody queries: the timer thread alone closes the hold.
  EXPECT_TRUE(eventually([&] { return open_holds() == 0; }));
  EXPECT_EQ(s.state(), StatsState{});
}

TEST_F(StatsSwitchTest, SecondTimedHoldMovesTheDeadlineAndKeepsOneFd) {
  StatsSwitch s(opener(), sysctl_);
  ASSERT_TRUE(s.hold_for(1h));
  auto st = s.hold_for(2h);
  ASSERT_TRUE(st);
  EXPECT_EQ(opens_, 1);
  EXPECT_EQ(open_holds(), 1);
  EXPECT_GT(*st->until, std::chrono::system_clock::now() + 1h + 30min);
  // A shorter one replaces the longer one too, and the timer follows it.
  ASSERT_TRUE(s.hold_for(50ms));
  EXPECT_TRUE(eventually([&] { return open_holds() == 0; }));
}

TEST_F(StatsSwitchTest, ReleaseGivesTheTimedHoldBackAtOnce) {
  StatsSwitch s(opener(), sysctl_);
  ASSERT_TRUE(s.hold_for(1h));
  write_sysctl("1");
  EXPECT_EQ(s.release_timed(), (StatsState{true, StatsSource::Sysctl, std::nullopt}));
  EXPECT_EQ(open_holds(), 0);
  EXPECT_EQ(s.release_timed().source, StatsSource::Sysctl) << "a second release is a no-op";
}

TEST_F(StatsSwitchTest, ConfigWinsOverApiWhichWinsOverSysctl) {
  StatsSwitch s(opener(), sysctl_);
  write_sysctl("1");
  ASSERT_TRUE(s.hold_for(1h));
  EXPECT_EQ(s.state().source, StatsSource::Api);
  ASSERT_TRUE(s.hold_for_lifetime());
  EXPECT_EQ(s.state(), (StatsState{true, StatsSource::Config, std::nullopt}));
  EXPECT_EQ(open_holds(), 2);
}

TEST_F(StatsSwitchTest, RefusedOpenChangesNothing) {
  StatsSwitch s(opener(), sysctl_);
  refuse_ = true;
  auto st = s.hold_for(1h);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code, Errc::Kernel);
  EXPECT_EQ(st.error().sys_errno, EPERM);
  auto life = s.hold_for_lifetime();
  ASSERT_FALSE(life);
  EXPECT_EQ(s.state(), StatsState{});
}

TEST_F(StatsSwitchTest, SourceNames) {
  EXPECT_STREQ(stats_source_name(StatsSource::Config), "config");
  EXPECT_STREQ(stats_source_name(StatsSource::Api), "api");
  EXPECT_STREQ(stats_source_name(StatsSource::Sysctl), "sysctl");
}

}  // namespace
}  // namespace l3afd::kernel
