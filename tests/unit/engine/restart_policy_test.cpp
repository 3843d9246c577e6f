// RestartPolicy: backoff, give-up and reset after a healthy period, on a simulated clock.
#include "engine/restart_policy.h"

#include <gtest/gtest.h>

namespace l3afd::engine {
namespace {

using std::chrono::milliseconds;
using T = RestartPolicy::Clock::time_point;

TEST(RestartPolicy, DoublesTheDelayUpToTheCapThenGivesUp) {
  RestartPolicy p({.max_restarts = 5,
                   .first_delay = milliseconds(500),
                   .max_delay = milliseconds(3000),
                   .healthy_after = milliseconds(60000)});
  T now{};
  p.started(now);
  std::vector<milliseconds> delays;
  for (int i = 0; i < 5; ++i) {
    now += milliseconds(100);  // crashes right after each start
    auto d = p.on_exit(now);
    ASSERT_TRUE(d.has_value()) << i;
    delays.push_back(*d);
    p.started(now + *d);
  }
  EXPECT_EQ(delays,
            (std::vector<milliseconds>{milliseconds(500), milliseconds(1000), milliseconds(2000),
                                       milliseconds(3000), milliseconds(3000)}));
  EXPECT_EQ(p.restarts(), 5);
  EXPECT_FALSE(p.given_up());
  EXPECT_FALSE(p.on_exit(now + milliseconds(200)).has_value()) << "the sixth crash in a row";
  EXPECT_TRUE(p.given_up());
  EXPECT_FALSE(p.on_exit(now + milliseconds(300)).has_value()) << "given up stays given up";
}

TEST(RestartPolicy, AHealthyPeriodResetsTheConsecutiveCountButNotTheTotal) {
  RestartPolicy p({.max_restarts = 2,
                   .first_delay = milliseconds(100),
                   .max_delay = milliseconds(1000),
                   .healthy_after = milliseconds(60000)});
  T now{};
  p.started(now);
  ASSERT_EQ(p.on_exit(now + milliseconds(10)), milliseconds(100));
  p.started(now + milliseconds(110));
  ASSERT_EQ(p.on_exit(now + milliseconds(120)), milliseconds(200));
  p.started(now + milliseconds(320));
  // Ran for a minute: the next crash starts the backoff again instead of giving up.
  const T later = now + milliseconds(320) + milliseconds(60000);
  ASSERT_EQ(p.on_exit(later), milliseconds(100));
  EXPECT_EQ(p.restarts(), 3);
  EXPECT_FALSE(p.given_up());
}

TEST(RestartPolicy, SettleResetsTheShownCountOnlyAfterTheHealthyPeriod) {
  RestartPolicy p({.max_restarts = 3,
                   .first_delay = milliseconds(100),
                   .max_delay = milliseconds(1000),
                   .healthy_after = milliseconds(5000)});
  T now{};
  p.started(now);
  ASSERT_TRUE(p.on_exit(now + milliseconds(10)).has_value());
  p.started(now + milliseconds(110));
  EXPECT_EQ(p.consecutive(), 1);
  ASSERT_EQ(p.settles_at(), now + milliseconds(5110));
  EXPECT_FALSE(p.settle(now + milliseconds(5109))) << "not healthy long enough yet";
  EXPECT_EQ(p.consecutive(), 1);
  EXPECT_TRUE(p.settle(now + milliseconds(5110)));
  EXPECT_EQ(p.consecutive(), 0);
  EXPECT_EQ(p.restarts(), 1) << "the total is kept";
  EXPECT_FALSE(p.settles_at().has_value()) << "nothing left to reset";
}

TEST(RestartPolicy, ZeroRestartsMeansNever) {
  RestartPolicy p({.max_restarts = 0});
  p.started(T{});
  EXPECT_FALSE(p.on_exit(T{} + milliseconds(1)).has_value());
  EXPECT_TRUE(p.given_up());
  EXPECT_EQ(p.restarts(), 0);
}

}  // namespace
}  // namespace l3afd::engine
