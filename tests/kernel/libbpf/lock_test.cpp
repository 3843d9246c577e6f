// lock_for_change() of the libbpf adapter: an exclusive flock() on the bpffs root (dir_lock.h).
// flock() locks belong to an open file description, so two adapters in one process contend
// exactly like two daemons would.
#include "kernel/libbpf/dir_lock.h"
#include "kernel/libbpf/libbpf_kernel.h"
#include "kernel_fixture.h"

namespace l3afd::kernel::libbpf {
namespace {

using std::chrono::milliseconds;

class LockTest : public KernelTest {
 protected:
  LibbpfKernelOptions locking(milliseconds timeout) const {
    LibbpfKernelOptions o;
    o.lock_dir = base_;
    o.lock_timeout = timeout;
    return o;
  }
};

TEST_F(LockTest, SecondLockTimesOutWhileTheFirstIsHeldAndSucceedsAfterRelease) {
  LibbpfKernel first_daemon(locking(milliseconds(100)));
  LibbpfKernel second_daemon(locking(milliseconds(100)));
  auto first = first_daemon.lock_for_change();
  ASSERT_TRUE(first) << first.error().to_string();
  EXPECT_TRUE(first->held());

  auto second = second_daemon.lock_for_change();
  ASSERT_FALSE(second);
  EXPECT_EQ(second.error().code, Errc::Timeout);
  EXPECT_NE(second.error().message.find("bpffs directory " + base_.string() +
                                        " is locked by another process"),
            std::string::npos)
      << second.error().message;
  // Not reentrant: the holder's own adapter waits like anybody else.
  auto again = first_daemon.lock_for_change();
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, Errc::Timeout);

  // A moved lock is still held; destroying the owner releases it.
  ChangeLock moved = std::move(*first);
  EXPECT_FALSE(first->held());
  EXPECT_TRUE(moved.held());
  auto probe = lock_directory(base_, milliseconds(0));
  ASSERT_FALSE(probe);
  EXPECT_EQ(probe.error().code, Errc::Timeout);
  moved = ChangeLock();
  auto third = second_daemon.lock_for_change();
  ASSERT_TRUE(third) << third.error().to_string();
  EXPECT_TRUE(third->held());
}

TEST_F(LockTest, EmptyLockDirectoryLocksNothing) {
  LibbpfKernelOptions o;
  o.lock_dir.clear();
  LibbpfKernel k(o);
  auto a = k.lock_for_change();
  ASSERT_TRUE(a) << a.error().to_string();
  auto b = k.lock_for_change();
  ASSERT_TRUE(b) << b.error().to_string();
  EXPECT_FALSE(a->held());
  EXPECT_FALSE(b->held());
  // Nothing was flocked on the base either.
  EXPECT_TRUE(lock_directory(base_, milliseconds(0)));
}

TEST_F(LockTest, MissingDirectoryIsIo) {
  auto r = lock_directory(base_ / "missing", milliseconds(0));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::Io);
  EXPECT_EQ(r.error().sys_errno, ENOENT);
}

}  // namespace
}  // namespace l3afd::kernel::libbpf
