// The exit watcher with real processes (the fake companion): an exit is reported once with its
// status and the process is reaped; a stop of a SIGTERM-ignoring process returns at once and the
// watcher's timer SIGKILLs it after the grace; output reaches the capped log, which rotates;
// a process that is not our child is still seen ending (status unknown).
#include "supervisor/exit_watcher.h"

#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <condition_variable>
#include <deque>
#include <mutex>

#include "component/supervisor/package_dir.h"
#include "supervisor/proc_identity.h"

namespace l3afd::supervisor {
namespace {

using namespace std::chrono_literals;
using testing::eventually;
using testing::PackageDir;
using testing::read_file;

/// Collects the watcher's reports.
class Exits {
 public:
  ExitWatcher::Callback callback() {
    return [this](const WatchedExit& e) {
      std::lock_guard lock(mu_);
      got_.push_back(e);
      cv_.notify_all();
    };
  }
  /// The next report, waiting at most 30 s (a bound against hangs).
  std::optional<WatchedExit> next() {
    std::unique_lock lock(mu_);
    if (!cv_.wait_for(lock, 30s, [&] { return !got_.empty(); })) return std::nullopt;
    auto e = got_.front();
    got_.pop_front();
    return e;
  }
  std::size_t pending() {
    std::lock_guard lock(mu_);
    return got_.size();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<WatchedExit> got_;
};

class Watcher : public ::testing::Test {
 protected:
  void SetUp() override {
    auto w = ExitWatcher::create(exits_.callback());
    ASSERT_TRUE(w) << w.error().to_string();
    watcher_ = std::move(*w);
  }
  Child start(std::vector<std::string> args, bool pipe = true) {
    std::vector<std::string> argv{pkg_.fake().string()};
    argv.insert(argv.end(), args.begin(), args.end());
    SpawnOptions o;
    o.cwd = pkg_.pkg();
    o.output_pipe = pipe;
    auto c = spawn(CommandLine{pkg_.fake(), argv}, o);
    EXPECT_TRUE(c) << c.error().to_string();
    return c ? std::move(*c) : Child{};
  }
  std::uint64_t watch(Child c, std::shared_ptr<CappedLog> log = nullptr) {
    auto t = watcher_->watch(c.pid, std::move(c.pidfd), std::move(c.output), std::move(log));
    EXPECT_TRUE(t);
    return t ? *t : 0;
  }
  PackageDir pkg_{"watcher"};
  Exits exits_;
  std::unique_ptr<ExitWatcher> watcher_;
};

TEST_F(Watcher, AnExitIsReportedOnceWithItsStatusAndReaped) {
  Child c = start({"--sleep-ms=100", "--code=7"});
  const int pid = c.pid;
  const auto token = watch(std::move(c));
  auto e = exits_.next();
  ASSERT_TRUE(e);
  EXPECT_EQ(e->token, token);
  EXPECT_EQ(e->pid, pid);
  ASSERT_TRUE(e->exit);
  EXPECT_EQ(*e->exit, (Exit{false, 7}));
  EXPECT_FALSE(e->stopped);
  EXPECT_TRUE(testing::gone(pid)) << "reaped by the watcher: no zombie";
  EXPECT_EQ(::waitpid(pid, nullptr, WNOHANG), -1);
  EXPECT_EQ(errno, ECHILD);
  EXPECT_FALSE(watcher_->alive(token));
  std::this_thread::sleep_for(50ms);  // room for a wrong second report
  EXPECT_EQ(exits_.pending(), 0u) << "reported once";
}

TEST_F(Watcher, ASignalIsReportedAsSuch) {
  Child c = start({"--sleep-ms=-1"});
  const int pid = c.pid;
  const auto token = watch(std::move(c));
  EXPECT_TRUE(watcher_->alive(token));
  ASSERT_EQ(::kill(pid, SIGSEGV), 0);  // the test started it
  auto e = exits_.next();
  ASSERT_TRUE(e && e->exit);
  EXPECT_TRUE(e->exit->signaled);
  EXPECT_EQ(e->exit->code, SIGSEGV);
}

TEST_F(Watcher, TerminateOfASigtermIgnoringProcessKillsItAfterTheGrace) {
  Child c =
      start({"--ignore-term=1", "--ready-file=" + pkg_.file("ready").string(), "--sleep-ms=-1"});
  const int pid = c.pid;
  ASSERT_TRUE(eventually([&] { return std::filesystem::exists(pkg_.file("ready")); }));
  const auto token = watch(std::move(c));
  ASSERT_TRUE(watcher_->terminate(token, 300ms));
  EXPECT_TRUE(watcher_->terminate(token, 300ms)) << "idempotent";
  auto e = exits_.next();
  ASSERT_TRUE(e && e->exit);
  EXPECT_TRUE(e->stopped);
  EXPECT_EQ(*e->exit, (Exit{true, SIGKILL})) << "SIGTERM was ignored; the timer killed it";
  EXPECT_TRUE(testing::gone(pid));
  auto again = watcher_->terminate(token, 300ms);
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, Errc::NotFound);
}

TEST_F(Watcher, TerminateOfAnObedientProcessEndsItWithSigterm) {
  const auto token = watch(start({"--sleep-ms=-1"}));
  ASSERT_TRUE(watcher_->terminate(token, 30s));
  auto e = exits_.next();
  ASSERT_TRUE(e && e->exit);
  EXPECT_TRUE(e->stopped);
  EXPECT_EQ(*e->exit, (Exit{true, SIGTERM}));
}

TEST_F(Watcher, OutputReachesTheLog) {
  auto log = std::make_shared<CappedLog>(pkg_.file("out.log"), kDefaultLogCap);
  watch(start({"--print-lines=3", "--say=bye"}), log);
  ASSERT_TRUE(exits_.next());
  EXPECT_EQ(read_file(pkg_.file("out.log")), "byeline 0\nline 1\nline 2\n");
}

TEST_F(Watcher, TheLogRotatesAtItsCap) {
  auto log = std::make_shared<CappedLog>(pkg_.file("out.log"), 1000);
  for (int i = 0; i < 3; ++i) {
    watch(start({"--print-bytes=600"}), log);
    ASSERT_TRUE(exits_.next());
  }
  const auto cur = read_file(pkg_.file("out.log"));
  const auto old = read_file(pkg_.file("out.log.1"));
  EXPECT_EQ(cur, std::string(600, 'x')) << "a new file was started at the cap";
  EXPECT_EQ(old, std::string(600, 'x')) << "the previous file, the oldest one replaced";
  EXPECT_LE(std::filesystem::file_size(pkg_.file("out.log")), 1000u);
}

TEST_F(Watcher, AProcessThatIsNotOurChildIsSeenEndingWithAnUnknownStatus) {
  // An intermediate process starts the fake and exits: the fake is reparented (as a companion
  // of a previous daemon run is), so waitid says ECHILD.
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  const std::string fake = pkg_.fake().string();
  const pid_t mid = ::fork();
  if (mid == 0) {
    const pid_t grandchild = ::fork();
    if (grandchild == 0) {
      char* const argv[] = {const_cast<char*>(fake.c_str()), const_cast<char*>("--sleep-ms=-1"),
                            nullptr};
      ::execv(fake.c_str(), argv);
      ::_exit(127);
    }
    (void)!::write(fds[1], &grandchild, sizeof grandchild);
    ::_exit(0);
  }
  pid_t orphan = -1;
  ASSERT_EQ(::read(fds[0], &orphan, sizeof orphan), static_cast<ssize_t>(sizeof orphan));
  ::close(fds[0]);
  ::close(fds[1]);
  ASSERT_EQ(::waitpid(mid, nullptr, 0), mid);
  auto st = proc_stat(orphan);
  ASSERT_TRUE(st);
  auto fd = open_if_same(orphan, st->start_time);
  ASSERT_TRUE(fd);
  auto t = watcher_->watch(orphan, std::move(*fd), UniqueFd(), nullptr);
  ASSERT_TRUE(t);
  ASSERT_TRUE(watcher_->terminate(*t, 30s));
  auto e = exits_.next();
  ASSERT_TRUE(e);
  EXPECT_EQ(e->pid, orphan);
  EXPECT_FALSE(e->exit) << "not our child: the status is unknown";
  EXPECT_TRUE(e->stopped);
}

TEST_F(Watcher, DestroyingTheWatcherLeavesRunningProcessesAndFinishesStops) {
  Child keep = start({"--sleep-ms=-1"});
  const int keep_pid = keep.pid;
  Child stopping =
      start({"--ignore-term=1", "--ready-file=" + pkg_.file("ready").string(), "--sleep-ms=-1"});
  const int stopping_pid = stopping.pid;
  ASSERT_TRUE(eventually([&] { return std::filesystem::exists(pkg_.file("ready")); }));
  watch(std::move(keep));
  const auto t = watch(std::move(stopping));
  ASSERT_TRUE(watcher_->terminate(t, std::chrono::hours(1)));
  EXPECT_TRUE(watcher_->alive(t)) << "terminate() returns without waiting for the grace";
  watcher_.reset();
  EXPECT_TRUE(testing::gone(stopping_pid)) << "the stop in progress was finished and reaped";
  EXPECT_FALSE(testing::gone(keep_pid)) << "a supervised process outlives the watcher";
  EXPECT_EQ(exits_.pending(), 0u);
  ::kill(keep_pid, SIGKILL);
  ::waitpid(keep_pid, nullptr, 0);
}

}  // namespace
}  // namespace l3afd::supervisor
