// Process behaviour: single instance, clean stop on SIGTERM, restore from the store, and a
// SIGKILL that leaves pinned programs and maps running for the next start to adopt.
#include <bpf/bpf.h>
#include <signal.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "e2e/daemon/daemon_fixture.h"
#include "model/l3af_json.h"

namespace l3afd::e2e {
namespace {

constexpr int kPackets = 20;

class Process : public DaemonFixture {};

TEST_F(Process, SecondDaemonWithSamePidFileExitsAndFirstKeepsServing) {
  ASSERT_TRUE(start_daemon());
  const fs::path log2 = dir_.path() / "second.log";
  DaemonProcess second;
  ASSERT_EQ(second.spawn(config_, log2), "");
  const int rc = second.wait_exit(30000);
  EXPECT_NE(rc, -1) << "the second daemon did not exit";
  EXPECT_NE(rc, 0);
  std::ifstream in(log2);
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string text = ss.str();
  EXPECT_NE(text.find("another l3afd"), std::string::npos) << text;
  EXPECT_EQ(get_all().status, 200);
  EXPECT_TRUE(fs::exists(pid_file_));
  EXPECT_TRUE(daemon_.running());
}

TEST_F(Process, SigtermRemovesEverythingKeepsStoreAndRestartRestores) {
  testing::VethPair a;
  testing::VethPair b;
  ASSERT_EQ(a.error(), "");
  ASSERT_EQ(b.error(), "");
  ASSERT_TRUE(start_daemon());
  auto r =
      add({entry(a.root_name(), xdp_counter()), entry(b.root_name(), std::nullopt, tc_counter())});
  ASSERT_EQ(r.status, 200) << r.body;
  const auto get_before = get_all().body;
  const auto store_before = state_bytes();
  std::vector<uint32_t> ids;
  for (const auto& i : {a.root_name(), b.root_name()}) {
    for (const auto& d : bpfs(i)) ids.push_back(d.prog_id);
  }
  ASSERT_EQ(ids.size(), 2u);
  EXPECT_TRUE(fs::exists(pid_file_));

  EXPECT_EQ(stop_daemon(), 0) << daemon_log();
  for (auto id : ids) EXPECT_TRUE(prog_gone_eventually(id)) << id;
  EXPECT_EQ(bpffs_files(), std::vector<std::string>{});
  EXPECT_FALSE(fs::exists(pid_file_));
  EXPECT_EQ(state_bytes(), store_before);
  EXPECT_EQ(attached_programs(a.root_name()), AttachedPrograms{});
  EXPECT_EQ(attached_programs(b.root_name()), AttachedPrograms{});

  ASSERT_TRUE(restart_daemon());
  EXPECT_EQ(get_all().body, get_before);
  const auto xdp = bpfs(a.root_name());
  ASSERT_EQ(xdp.size(), 1u);
  EXPECT_TRUE(prog_alive(xdp[0].prog_id));
  EXPECT_EQ(attached_programs(a.root_name()).xdp, xdp[0].prog_id);
  const auto tc = bpfs(b.root_name());
  ASSERT_EQ(tc.size(), 1u);
  EXPECT_EQ(attached_programs(b.root_name()).tcx_ingress, std::vector<uint32_t>{tc[0].prog_id});
  // After a clean stop the maps were removed too: counting starts again from zero.
  const auto fresh = monitor_value(a.root_name(), "xdp_counter_packets_0_scalar");
  ASSERT_TRUE(fresh.has_value()) << metrics();
  EXPECT_EQ(a.send_udp_from_peer(kPackets), kPackets);
  EXPECT_GE(monitor_value(a.root_name(), "xdp_counter_packets_0_scalar").value_or(0),
            *fresh + kPackets);
  EXPECT_EQ(state_bytes(), store_before);
}

TEST_F(Process, SigkillKeepsProgramsAttachedAndRestartKeepsCounters) {
  testing::VethPair a;
  ASSERT_EQ(a.error(), "");
  ASSERT_TRUE(start_daemon());
  const std::string ifc = a.root_name();
  auto r = add({entry(ifc, xdp_counter())});
  ASSERT_EQ(r.status, 200) << r.body;
  const auto get_before = get_all().body;
  EXPECT_EQ(a.send_udp_from_peer(kPackets), kPackets);
  const auto counted = monitor_value(ifc, "xdp_counter_packets_0_scalar");
  ASSERT_TRUE(counted.has_value());
  ASSERT_GE(*counted, static_cast<uint64_t>(kPackets));
  const auto old = bpfs(ifc);
  ASSERT_EQ(old.size(), 1u);

  kill_daemon();
  // The pinned link keeps the program attached without the daemon.
  EXPECT_EQ(attached_programs(ifc).xdp, old[0].prog_id);
  EXPECT_TRUE(fs::exists(pid_file_)) << "a killed daemon cannot remove its pid file";

  ASSERT_TRUE(restart_daemon());
  EXPECT_EQ(get_all().body, get_before);
  const auto now = bpfs(ifc);
  ASSERT_EQ(now.size(), 1u);
  EXPECT_TRUE(prog_alive(now[0].prog_id));
  EXPECT_EQ(attached_programs(ifc).xdp, now[0].prog_id);
  const auto after_restart = monitor_value(ifc, "xdp_counter_packets_0_scalar");
  ASSERT_TRUE(after_restart.has_value()) << metrics();
  EXPECT_GE(*after_restart, *counted) << "the pinned counter was reset by the restart";
  EXPECT_EQ(a.send_udp_from_peer(kPackets), kPackets);
  EXPECT_GE(monitor_value(ifc, "xdp_counter_packets_0_scalar").value_or(0), *counted + kPackets);
  if (now[0].prog_id != old[0].prog_id) {
    EXPECT_TRUE(prog_gone_eventually(old[0].prog_id));
  }
}

/// Pins a fresh one-entry array map at `path` (creating directories), as another tool would.
bool pin_foreign_map(const fs::path& path) {
  fs::create_directories(path.parent_path());
  const int fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "foreign", 4, 4, 1, nullptr);
  if (fd < 0) return false;
  const bool pinned = bpf_obj_pin(fd, path.c_str()) == 0;
  ::close(fd);
  return pinned;
}

// Issue 8: the start-up sweep removes only what this daemon recorded as its own. Pins another
// l3afd instance (or tool) left in the same trees — even under the same interface — survive
// a crash and restart of ours; our own program is restored as before.
TEST_F(Process, RestartNeverRemovesPinsItDidNotRecordAsItsOwn) {
  testing::VethPair a;
  ASSERT_EQ(a.error(), "");
  ASSERT_TRUE(start_daemon());
  const std::string ifc = a.root_name();
  ASSERT_EQ(add({entry(ifc, xdp_counter())}).status, 200);
  const fs::path b("/sys/fs/bpf");
  const std::vector<fs::path> foreign{b / "progs" / ifc / "other" / "1_0" / "other_xdp",
                                      b / "links" / "eth-other" / "other" / "1_0" / "other_xdp",
                                      b / ifc / "other" / "1_0" / "state"};
  for (const auto& f : foreign) ASSERT_TRUE(pin_foreign_map(f)) << f;

  kill_daemon();
  ASSERT_TRUE(restart_daemon());
  for (const auto& f : foreign) EXPECT_TRUE(fs::exists(f)) << "foreign pin removed: " << f;
  ASSERT_EQ(bpfs(ifc).size(), 1u);
  EXPECT_EQ(attached_programs(ifc).xdp, bpfs(ifc)[0].prog_id);
  EXPECT_NE(daemon_log().find("residue sweep: 1 recorded"), std::string::npos) << "the sweep ran";

  for (const auto& f : foreign) {  // TearDown checks that nothing is left pinned
    fs::remove(f);
    for (auto d = f.parent_path(); d != b && fs::is_empty(d); d = d.parent_path()) fs::remove(d);
  }
}

}  // namespace
}  // namespace l3afd::e2e
