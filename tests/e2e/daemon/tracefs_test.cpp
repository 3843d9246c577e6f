// tracefs (issue 9): an object whose companion is a classic tracepoint program (attached by
// name, which needs tracefs) loads through the daemon on a host where tracefs is not mounted:
// the daemon mounts it at start, and the tracepoint then counts exactly the events this test
// makes. The test's private mount namespace starts without tracefs (unmounted there if the
// host has it), so the test fails without the daemon's mount.
#include <bpf/bpf.h>
#include <sys/mount.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "core/unique_fd.h"
#include "e2e/daemon/daemon_fixture.h"

namespace l3afd::e2e {
namespace {

constexpr long kTracefsMagic = 0x74726163;
constexpr int kCalls = 25;

bool is_tracefs(const char* path) {
  struct statfs st {};
  return ::statfs(path, &st) == 0 && static_cast<long>(st.f_type) == kTracefsMagic;
}

class Tracefs : public DaemonFixture {};

TEST_F(Tracefs, DaemonMountsTracefsSoClassicTracepointCompanionsAttachAndCount) {
  // Only in this test binary's private mount namespace (tests/support/netns.h).
  while (is_tracefs("/sys/kernel/tracing"))
    ASSERT_EQ(::umount2("/sys/kernel/tracing", MNT_DETACH), 0);
  if (::access("/sys/kernel/debug/tracing", F_OK) == 0) {
    ASSERT_EQ(::umount2("/sys/kernel/debug", MNT_DETACH), 0) << "debugfs provides tracefs too";
  }
  ASSERT_FALSE(is_tracefs("/sys/kernel/tracing"));

  testing::VethPair a;
  ASSERT_EQ(a.error(), "");
  ASSERT_TRUE(start_daemon());
  EXPECT_TRUE(is_tracefs("/sys/kernel/tracing")) << daemon_log();

  model::BpfProgram p;
  p.name = "tp-counter";
  p.seq_id = 1;
  p.artifact = "l3af_tp_counter.tar.gz";
  p.version = "1.0";
  p.admin_status = "enabled";
  p.prog_type = "xdp";
  p.object_file = "xdp_tp_counter.bpf.o";
  p.entry_function_name = "xdp_tp_counter";
  p.map_args = std::vector<model::MapArg>{
      {"tp_counter_config", std::vector<model::KeyValue>{{0, static_cast<int64_t>(::getpid())}}}};
  auto r = add({entry(a.root_name(), p)});
  ASSERT_EQ(r.status, 200) << r.body << "\n" << daemon_log();

  const std::string pin = "/sys/fs/bpf/" + a.root_name() + "/tp-counter/1_0/tp_counter_events";
  UniqueFd events(bpf_obj_get(pin.c_str()));
  ASSERT_TRUE(events) << pin;
  for (int i = 0; i < kCalls; ++i) (void)::syscall(SYS_getppid);
  uint32_t zero = 0;
  uint64_t counted = 0;
  ASSERT_EQ(bpf_map_lookup_elem(events.get(), &zero, &counted), 0);
  EXPECT_EQ(counted, static_cast<uint64_t>(kCalls)) << "the tracepoint counts this process only";

  ASSERT_EQ(remove({names(a.root_name(), {"tp-counter"})}).status, 200);
}

}  // namespace
}  // namespace l3afd::e2e
