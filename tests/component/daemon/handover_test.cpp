// The graceful restart's wire between two processes (daemon/handover.h) and its state
// (daemon/handover_state.h), with real sockets, descriptors and processes.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "daemon/handover.h"
#include "daemon/handover_state.h"

namespace l3afd::daemon {
namespace {

namespace fs = std::filesystem;

TEST(HandoverState, CountersRoundTripAndUnknownMembersAreIgnored) {
  HandoverState s;
  s.from_version = "2.1.0";
  engine::CounterLabels l{"ratelimiting", "xdpingress", "eth0", "198.18.0.1"};
  s.counters.start[l] = 3;
  s.counters.stop[l] = 2;
  s.counters.update[l] = 7;
  s.counters.update_failed[l] = 1;
  s.counters.deploy_failed[engine::CounterLabels{"", "xdp", "eth1", ""}] = 4;
  s.counters.start_time[l] = 1764000000;
  const std::string text = encode_handover_state(s);
  auto back = decode_handover_state(text);
  ASSERT_TRUE(back) << back.error().to_string();
  EXPECT_EQ(back->from_version, "2.1.0");
  EXPECT_EQ(back->counters, s.counters);

  auto newer = decode_handover_state(R"({"format":1,"future":{"x":1},"counters":{"start":[
      {"ebpf_program":"a","direction":"ingress","interface_name":"e","ipv4_address":"","value":5,
       "extra":true}]}})");
  ASSERT_TRUE(newer) << newer.error().to_string();
  EXPECT_EQ(newer->counters.start.at(engine::CounterLabels{"a", "ingress", "e", ""}), 5u);
}

TEST(HandoverState, OtherFormatsAndBadTypesAreRefused) {
  auto r = decode_handover_state(R"({"format":2})");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::InvalidPayload);
  EXPECT_NE(r.error().message.find("format 2"), std::string::npos) << r.error().message;
  EXPECT_FALSE(decode_handover_state("{"));
  EXPECT_FALSE(decode_handover_state(R"({"format":1,"counters":{"start":{}}})"));
  EXPECT_FALSE(decode_handover_state(
      R"({"format":1,"counters":{"stop":[{"ebpf_program":"a","value":-1}]}})"));
  EXPECT_FALSE(decode_handover_state(R"({"format":1,"counters":{"stop":[{"value":"1"}]}})"));
}

TEST(HandoverState, EmptyArraysBecomeNullAsAfterL3afdsGobHandover) {
  model::BpfProgram p;
  p.name = "tm";
  p.map_args = std::vector<model::MapArg>{};
  p.monitor_maps = std::vector<model::MonitorMap>{};
  model::BpfProgram q;
  q.name = "rl";
  model::MapArg with_empty_args;
  with_empty_args.name = "m";
  with_empty_args.args = std::vector<model::KeyValue>{};
  q.map_args = std::vector<model::MapArg>{with_empty_args};
  q.monitor_maps = std::vector<model::MonitorMap>{model::MonitorMap{}};
  model::L3afBpfPrograms e;
  e.bpf_programs = model::BpfPrograms{};
  e.bpf_programs->tc_ingress = std::vector<model::BpfProgram>{p};
  e.bpf_programs->xdp_ingress = std::vector<model::BpfProgram>{q};
  std::vector<model::L3afBpfPrograms> entries{e};
  normalize_as_handed_over(entries);
  const auto& tm = entries[0].bpf_programs->tc_ingress->at(0);
  EXPECT_FALSE(tm.map_args.has_value());
  EXPECT_FALSE(tm.monitor_maps.has_value());
  const auto& rl = entries[0].bpf_programs->xdp_ingress->at(0);
  ASSERT_TRUE(rl.map_args.has_value());
  EXPECT_FALSE(rl.map_args->at(0).args.has_value());
  EXPECT_EQ(rl.monitor_maps->size(), 1u) << "non-empty arrays stay";
}

TEST(Handover, StateAndNamedDescriptorsCrossASocketPair) {
  int sv[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
  UniqueFd a(sv[0]), b(sv[1]);
  const fs::path file = fs::temp_directory_path() / ("handover-" + std::to_string(::getpid()));
  std::ofstream(file) << "x";
  UniqueFd f1(::open(file.c_str(), O_RDONLY | O_CLOEXEC));
  UniqueFd f2(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  ASSERT_TRUE(f1 && f2);
  // Larger than a socket buffer: the sender must not need the receiver to be done first.
  const std::string state(3 << 20, 's');
  std::thread sender([&] {
    EXPECT_TRUE(send_handover(a.get(), state, {{"api", f1.get()}, {"pid", f2.get()}},
                              std::chrono::seconds(30)));
  });
  auto got = receive_handover(b.get(), std::chrono::seconds(30));
  sender.join();
  ASSERT_TRUE(got) << got.error().to_string();
  EXPECT_EQ(got->state.size(), state.size());
  EXPECT_EQ(got->state, state);
  ASSERT_EQ(got->fds.size(), 2u);
  EXPECT_EQ(got->fds[0].first, "api");
  EXPECT_EQ(got->fds[1].first, "pid");
  struct stat want {
  }, have{};
  ASSERT_EQ(::fstat(f1.get(), &want), 0);
  ASSERT_EQ(::fstat(got->fds[0].second.get(), &have), 0);
  EXPECT_EQ(want.st_ino, have.st_ino);
  EXPECT_NE(got->fds[0].second.get(), f1.get()) << "the receiver has its own descriptor";
  EXPECT_EQ(::fcntl(got->fds[0].second.get(), F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
  fs::remove(file);

  // A verdict line.
  ASSERT_TRUE(send_verdict(b.get(), false, "no\nnewlines"));
  char buf[64] = {};
  const ssize_t n = ::read(a.get(), buf, sizeof buf - 1);
  EXPECT_EQ(std::string(buf, n > 0 ? static_cast<std::size_t>(n) : 0), "failed: no newlines\n");
}

TEST(Handover, GarbageIsRefusedAndASilentPeerTimesOut) {
  int sv[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
  UniqueFd a(sv[0]), b(sv[1]);
  auto silent = receive_handover(b.get(), std::chrono::milliseconds(100));
  ASSERT_FALSE(silent);
  EXPECT_EQ(silent.error().code, Errc::Timeout);
  const std::string junk(40, 'j');
  ASSERT_EQ(::write(a.get(), junk.data(), junk.size()), static_cast<ssize_t>(junk.size()));
  auto bad = receive_handover(b.get(), std::chrono::seconds(5));
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, Errc::InvalidPayload);
}

TEST(Handover, ASuccessorThatExitsOrSaysFailedIsReportedWithItsReason) {
  // /bin/false ignores the handover and exits 1.
  auto s = spawn_successor("/bin/false", "/nonexistent.cfg");
  ASSERT_TRUE(s) << s.error().to_string();
  auto st = wait_ready(*s, std::chrono::seconds(30));
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code, Errc::RestartFailed);
  EXPECT_NE(st.error().message.find("exited with status 1"), std::string::npos)
      << st.error().message;
  kill_successor(*s);

  // A process that never answers: Timeout, then killed and reaped by pid.
  const fs::path script = fs::temp_directory_path() / ("slow-" + std::to_string(::getpid()));
  std::ofstream(script) << "#!/bin/sh\nexec sleep 60\n";
  fs::permissions(script, fs::perms::owner_all);
  auto slow = spawn_successor(script, "/x.cfg");
  ASSERT_TRUE(slow) << slow.error().to_string();
  const pid_t pid = slow->pid;
  st = wait_ready(*slow, std::chrono::milliseconds(200));
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code, Errc::Timeout);
  kill_successor(*slow);
  EXPECT_NE(::kill(pid, 0), 0) << "killed and reaped";
  fs::remove(script);

  // A missing binary is an error at once.
  auto missing = spawn_successor("/nonexistent/l3afd", "/x.cfg");
  EXPECT_FALSE(missing);
}

}  // namespace
}  // namespace l3afd::daemon
