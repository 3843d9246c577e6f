// Crash consistency: a client streams add/update/delete requests over two interfaces while the
// daemon is SIGKILLed at a random point. After a restart the store must hold either the last
// acknowledged state or that of the in-flight request, GET must equal the store, and the
// kernel must run exactly what the store says: nothing extra attached, no stray pins.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <random>
#include <set>
#include <thread>
#include <tuple>

#include "e2e/daemon/daemon_fixture.h"
#include "model/l3af_json.h"

namespace l3afd::e2e {
namespace {

constexpr int kRequests = 40;
constexpr int kCycle = 6;

class CrashConsistency : public DaemonFixture, public ::testing::WithParamInterface<unsigned> {
 protected:
  void SetUp() override {
    ASSERT_EQ(a_.error(), "");
    ASSERT_EQ(b_.error(), "");
    ASSERT_TRUE(start_daemon());
  }

  const std::string& ia() const { return a_.root_name(); }
  const std::string& ib() const { return b_.root_name(); }

  /// Request i of the stream (the cycle below starts and ends with an empty table).
  test::HttpResult send(int i) const {
    switch (i % kCycle) {
      case 0: return update({entry(ia(), xdp_counter("1.0"))});
      case 1: return add({entry(ib(), std::nullopt, tc_counter())});
      case 2:
        return update(
            {entry(ia(), xdp_counter("latest")), entry(ib(), std::nullopt, tc_counter())});
      case 3: return remove({names(ia(), {"xdp-counter"})});
      case 4: return remove({names(ib(), {}, {"tc-counter"})});
      default: return update({});
    }
  }

  /// The table after the first `n` requests, sorted by interface name.
  std::vector<model::L3afBpfPrograms> expected(int n) const {
    std::vector<model::L3afBpfPrograms> s;
    const std::string ip = "198.18.200.1";
    switch (n == 0 ? -1 : (n - 1) % kCycle) {
      case -1: break;
      case 0: s = {view(ia(), ip, xdp_counter("1.0"))}; break;
      case 1:
        s = {view(ia(), ip, xdp_counter("1.0")), view(ib(), ip, std::nullopt, tc_counter())};
        break;
      case 2:
        s = {view(ia(), ip, xdp_counter("latest")), view(ib(), ip, std::nullopt, tc_counter())};
        break;
      case 3: s = {view(ia(), ip), view(ib(), ip, std::nullopt, tc_counter())}; break;
      case 4: s = {view(ia(), ip), view(ib(), ip)}; break;
      default: break;
    }
    std::sort(s.begin(), s.end(), [](const auto& x, const auto& y) { return x.iface < y.iface; });
    return s;
  }

  testing::VethPair a_;
  testing::VethPair b_;
};

/// (iface, name, version dir) of every program in a table.
std::set<std::tuple<std::string, std::string, std::string>> programs_of(
    const std::vector<model::L3afBpfPrograms>& t) {
  std::set<std::tuple<std::string, std::string, std::string>> out;
  for (const auto& e : t) {
    if (!e.bpf_programs) continue;
    for (const auto* l :
         {&e.bpf_programs->xdp_ingress, &e.bpf_programs->tc_ingress, &e.bpf_programs->tc_egress}) {
      if (!*l) continue;
      for (const auto& p : **l) {
        std::string v = p.version;
        std::replace(v.begin(), v.end(), '.', '_');
        out.emplace(e.iface, p.name, v);
      }
    }
  }
  return out;
}

TEST_P(CrashConsistency, KillDuringRequestStreamThenRestartIsConsistent) {
  std::mt19937 rng(GetParam());
  const int kill_after = std::uniform_int_distribution<int>(2, kRequests - 4)(rng);
  const int delay_ms = std::uniform_int_distribution<int>(0, 150)(rng);
  SCOPED_TRACE("seed " + std::to_string(GetParam()) + ": kill after " + std::to_string(kill_after) +
               " acknowledged requests + " + std::to_string(delay_ms) + " ms");

  std::atomic<int> acked{0};
  std::atomic<int> refused{0};
  std::string refusal;
  std::thread client([&] {
    for (int i = 0; i < kRequests; ++i) {
      auto r = send(i);
      if (r.status == 0) return;  // the daemon is gone
      if (r.status != 200) {
        refusal = "request " + std::to_string(i) + ": " + std::to_string(r.status) + " " + r.body;
        refused = 1;
        return;
      }
      acked = i + 1;
    }
  });
  for (int i = 0;
       i < 1200 && acked.load() < kill_after && refused.load() == 0 && acked.load() < kRequests;
       ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms));
  kill_daemon();
  client.join();
  ASSERT_EQ(refused.load(), 0) << refusal;
  const int n = acked.load();
  ASSERT_GE(n, 1);

  const std::string bytes = state_bytes();
  auto stored = model::decode_programs(bytes);
  ASSERT_TRUE(stored.has_value()) << bytes;
  const bool is_acked = *stored == expected(n);
  const bool is_in_flight = n < kRequests && *stored == expected(n + 1);
  EXPECT_TRUE(is_acked || is_in_flight)
      << "after " << n << " acknowledged requests the store holds:\n"
      << bytes << "\nexpected:\n"
      << model::encode_store(expected(n)) << "\nor:\n"
      << model::encode_store(expected(n + 1));

  ASSERT_TRUE(restart_daemon());
  EXPECT_EQ(get_all().body, model::encode(*stored));

  // The kernel runs exactly what the store says.
  const auto wanted = programs_of(*stored);
  std::size_t listed = 0;
  for (const auto& ifc : {ia(), ib()}) {
    const auto dbg = bpfs(ifc);
    listed += dbg.size();
    AttachedPrograms want;
    for (const auto& d : dbg) {
      EXPECT_TRUE(prog_alive(d.prog_id)) << d.name;
      if (d.direction_hint == "xdp")
        want.xdp = d.prog_id;
      else
        want.tcx_ingress.push_back(d.prog_id);
    }
    const auto att = attached_programs(ifc);
    EXPECT_EQ(att.xdp, want.xdp) << ifc << ": XDP program attached that the state does not hold";
    EXPECT_EQ(att.tcx_ingress, want.tcx_ingress) << ifc << ": TCX ingress differs from the state";
    EXPECT_TRUE(att.tcx_egress.empty()) << ifc;
    EXPECT_TRUE(att.classic_ingress.empty() && att.classic_egress.empty()) << ifc;
  }
  EXPECT_EQ(listed, wanted.size());
  for (const auto& f : bpffs_files()) {
    const fs::path rel = fs::path(f).lexically_relative("/sys/fs/bpf");
    std::vector<std::string> c(rel.begin(), rel.end());
    std::size_t at = 0;
    if (!c.empty() && (c[0] == "progs" || c[0] == "links")) at = 1;
    if (c.size() > 1 && c[0] == "tc" && c[1] == "globals") at = 2;
    ASSERT_GE(c.size(), at + 4) << "unexpected pin " << f;
    EXPECT_TRUE(wanted.count({c[at], c[at + 1], c[at + 2]}) == 1)
        << "pin of a program that is not in the state: " << f;
  }
}

INSTANTIATE_TEST_SUITE_P(Seeds, CrashConsistency, ::testing::Values(1u, 2u, 3u, 4u, 5u, 6u));

}  // namespace
}  // namespace l3afd::e2e
