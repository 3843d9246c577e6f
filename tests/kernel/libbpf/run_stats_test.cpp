// program_run_stats() and open_run_time_stats() of the libbpf adapter against the real kernel:
// with a stats hold, N runs of a loaded program (one BPF_PROG_TEST_RUN with repeat N) add
// exactly N to run_count and some time to run_time_ns; without any hold they add nothing. The
// switch is machine-global and other processes may hold it: the "off" expectation is chosen
// from what /proc shows before and after the runs (tests/support/bpf_stats.h), never skipped.
#include <bpf/bpf.h>
#include <linux/bpf.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <vector>

#include "kernel/libbpf/libbpf_kernel.h"
#include "kernel/libbpf/stats_fd.h"
#include "kernel_fixture.h"
#include "support/bpf_stats.h"

namespace l3afd::kernel::libbpf {
namespace {

constexpr uint32_t kRuns = 1000;

class RunStatsTest : public KernelTest {
 protected:
  void SetUp() override {
    KernelTest::SetUp();
    auto loaded = kernel_->load(xdp_spec("k"));
    ASSERT_TRUE(loaded) << loaded.error().to_string();
    prog_ = UniqueFd(bpf_prog_get_fd_by_id(loaded->prog_id));
    ASSERT_TRUE(prog_) << errno;
  }
  /// One BPF_PROG_TEST_RUN of a 64-byte frame, `repeat` runs.
  void test_run(uint32_t repeat) {
    std::vector<uint8_t> frame(64, 0);
    frame[12] = 0x08;  // EtherType IPv4; the rest does not matter to the count
    bpf_test_run_opts opts{};
    opts.sz = sizeof opts;
    opts.data_in = frame.data();
    opts.data_size_in = static_cast<uint32_t>(frame.size());
    opts.repeat = static_cast<int>(repeat);
    ASSERT_EQ(bpf_prog_test_run_opts(prog_.get(), &opts), 0) << errno;
  }
  RunStats stats() {
    auto s = kernel_->program_run_stats("k");
    EXPECT_TRUE(s) << (s ? "" : s.error().to_string());
    return s ? *s : RunStats{};
  }

  UniqueFd prog_;
};

TEST_F(RunStatsTest, WithAHoldEveryRunIsCountedAndTimed) {
  auto hold = open_run_time_stats();
  ASSERT_TRUE(hold) << hold.error().to_string();
  EXPECT_EQ(testing::bpf_stats_fds(::getpid()), 1);
  const RunStats before = stats();
  test_run(kRuns);
  const RunStats after = stats();
  EXPECT_EQ(after.run_count, before.run_count + kRuns);
  EXPECT_GT(after.run_time_ns, before.run_time_ns);
  hold->reset();
  EXPECT_EQ(testing::bpf_stats_fds(::getpid()), 0) << "closing the fd gives the hold back";
}

TEST_F(RunStatsTest, WithoutAnyHoldNothingIsCounted) {
  {
    auto hold = open_run_time_stats();  // counted once, so there is something not to change
    ASSERT_TRUE(hold) << hold.error().to_string();
    test_run(1);
  }
  ASSERT_EQ(testing::bpf_stats_fds(::getpid()), 0);
  const bool on_before = testing::bpf_stats_on_anywhere();
  const RunStats before = stats();
  ASSERT_GE(before.run_count, 1u);
  test_run(kRuns);
  const RunStats after = stats();
  const bool on_after = testing::bpf_stats_on_anywhere();
  if (!on_before && !on_after) {
    // Off machine-wide throughout (no sysctl, no visible holder): not one run counted.
    EXPECT_EQ(after, before);
  } else if (on_before && on_after) {
    // Someone else kept them on throughout: counted like with our own hold.
    EXPECT_EQ(after.run_count, before.run_count + kRuns);
  } else {
    // Switched by someone else meanwhile: some of the runs may be counted.
    EXPECT_GE(after.run_count, before.run_count);
    EXPECT_LE(after.run_count, before.run_count + kRuns);
  }
  RecordProperty("stats_on_elsewhere", (on_before ? 1 : 0) + (on_after ? 2 : 0));
}

TEST_F(RunStatsTest, UnknownKeyIsNotFound) {
  auto s = kernel_->program_run_stats("nope");
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code, Errc::NotFound);
}

// A probe key has no entry program: its statistics are the sum over its probe programs (here
// a tracepoint on getppid, which every process's getppid runs, and a uprobe).
TEST_F(RunStatsTest, ProbeKeySumsItsPrograms) {
  const ProbeSpec s{"p", kObjectDir / "probe_counter.bpf.o", base_ / "probe-counter" / "1_0",
                    base_ / "links" / "probes" / "probe-counter" / "1_0"};
  auto loaded = kernel_->load_probes(s);
  ASSERT_TRUE(loaded) << loaded.error().to_string();
  ASSERT_EQ(loaded->probes.size(), 2u);
  auto hold = open_run_time_stats();
  ASSERT_TRUE(hold) << hold.error().to_string();
  auto before = kernel_->program_run_stats("p");
  ASSERT_TRUE(before) << before.error().to_string();
  constexpr int kCalls = 7;
  for (int i = 0; i < kCalls; ++i) (void)::syscall(SYS_getppid);
  auto after = kernel_->program_run_stats("p");
  ASSERT_TRUE(after) << after.error().to_string();
  EXPECT_GE(after->run_count, before->run_count + kCalls);
  EXPECT_GT(after->run_time_ns, before->run_time_ns);
  // The sum is over both programs: each one's count is at most the sum.
  uint64_t sum = 0;
  for (const auto& p : loaded->probes) {
    UniqueFd fd(bpf_prog_get_fd_by_id(p.prog_id));
    ASSERT_TRUE(fd) << errno;
    bpf_prog_info info{};
    uint32_t len = sizeof info;
    ASSERT_EQ(bpf_obj_get_info_by_fd(fd.get(), &info, &len), 0) << errno;
    sum += info.run_cnt;
  }
  auto again = kernel_->program_run_stats("p");
  ASSERT_TRUE(again);
  EXPECT_GE(again->run_count, sum) << "read after the per-program sum, so at least as large";
}

}  // namespace
}  // namespace l3afd::kernel::libbpf
