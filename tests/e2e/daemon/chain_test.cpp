// Chaining through the real daemon (bpf-chaining-enabled: true) with packets:
// - the API walkthrough of a chain (roots, order, ids, pins, refusals that change nothing);
// - the make-before-break proof: while UDP traffic flows between two namespaces, hundreds of
//   random chain changes (insert, remove, reorder, version upgrade, disable) go through the
//   API; every program has a per-CPU counter and the programs present during the whole run must
//   count exactly as many packets as the root ran (kernel BPF run statistics). The same test
//   with the original l3afd order of slot writes (chain-write-order: original-unsafe) is the
//   control and must see packets skip programs;
// - a SIGKILL + restart under traffic keeps the counters and never cuts the chain.
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <gtest/gtest.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <functional>
#include <random>
#include <sstream>
#include <thread>

#include "core/unique_fd.h"
#include "e2e/daemon/daemon_fixture.h"
#include "e2e/daemon/traffic.h"
#include "model/l3af_json.h"

namespace l3afd::e2e {
namespace {

using model::BpfProgram;
using Clock = std::chrono::steady_clock;

model::L3afBpfPrograms chain_entry(const std::string& ifc, std::vector<BpfProgram> progs) {
  auto e = DaemonFixture::entry(ifc);
  if (!e.bpf_programs) e.bpf_programs = model::BpfPrograms{};
  e.bpf_programs->xdp_ingress = std::move(progs);
  return e;
}

fs::path counter_pin(const std::string& ifc, char c, const std::string& version = "1.0") {
  std::string v = version;
  std::replace(v.begin(), v.end(), '.', '_');
  return fs::path("/sys/fs/bpf") / ifc / (std::string("chain-") + c) / v / "chain_packets";
}

/// The counters of chain-a and chain-c on `ifc` once they stopped moving (bounded: 5 s), i.e.
/// after the last frame of a traffic run has left the chain.
std::pair<std::optional<uint64_t>, std::optional<uint64_t>> settled_counters(
    const std::string& ifc) {
  std::optional<uint64_t> a, c;
  for (int attempt = 0; attempt < 50; ++attempt) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    auto a1 = percpu_counter(counter_pin(ifc, 'a'));
    auto c1 = percpu_counter(counter_pin(ifc, 'c'));
    if (a1 == a && c1 == c) break;
    a = a1;
    c = c1;
  }
  return {a, c};
}

/// run_cnt of a program (counted while BPF statistics are enabled); nullopt if it is gone.
std::optional<uint64_t> run_count(uint32_t prog_id) {
  UniqueFd fd(bpf_prog_get_fd_by_id(prog_id));
  if (!fd) return std::nullopt;
  bpf_prog_info info{};
  uint32_t len = sizeof(info);
  if (bpf_obj_get_info_by_fd(fd.get(), &info, &len) != 0) return std::nullopt;
  return info.run_cnt;
}

/// Keeps BPF run statistics enabled while alive (BPF_ENABLE_STATS; off again when closed).
class StatsEnabled {
 public:
  StatsEnabled() : fd_(bpf_enable_stats(BPF_STATS_RUN_TIME)) {}
  bool ok() const { return fd_.valid(); }

 private:
  UniqueFd fd_;
};

class ChainE2e : public DaemonFixture {
 protected:
  bool start_chained(const std::string& order = "") {
    DaemonOptions o;
    o.chaining = true;
    o.chain_write_order = order;
    o.retire_grace_period = "200ms";
    return start_daemon(o);
  }
  std::vector<std::string> chain_names(const std::string& ifc) {
    std::vector<std::string> out;
    for (const auto& d : bpfs(ifc)) out.push_back(d.name);
    return out;
  }
};

using Names = std::vector<std::string>;

TEST_F(ChainE2e, ApiWalkthroughRootsOrderIdsPinsAndRefusals) {
  testing::VethPair v;
  ASSERT_EQ(v.error(), "");
  ASSERT_TRUE(start_chained());
  const std::string ifc = v.root_name();

  auto r = add({chain_entry(ifc, {chain_counter('c', 30), chain_counter('a', 10)})});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(chain_names(ifc), (Names{"xdp-root", "chain-a", "chain-c"}));
  r = add({chain_entry(ifc, {chain_counter('b', 20)})});
  ASSERT_EQ(r.status, 200) << r.body;

  // GET lists the chain in order; the debug listing adds the root first, every id is live,
  // each entry names its predecessor's array, and the root is the program attached.
  auto g = get(ifc);
  ASSERT_EQ(g.status, 200);
  auto body = model::decode_programs("[" + g.body + "]");
  ASSERT_TRUE(body.has_value()) << g.body;
  Names got;
  for (const auto& p : *(*body)[0].bpf_programs->xdp_ingress) got.push_back(p.name);
  EXPECT_EQ(got, (Names{"chain-a", "chain-b", "chain-c"}));
  auto dbg = bpfs(ifc);
  ASSERT_EQ(dbg.size(), 4u);
  EXPECT_EQ(dbg[0].name, "xdp-root");
  EXPECT_EQ(attached_programs(ifc).xdp, dbg[0].prog_id);
  EXPECT_EQ(dbg[0].map_name_path, "/sys/fs/bpf/" + ifc + "/xdp-root/latest/xdp_root_array");
  for (std::size_t i = 0; i < dbg.size(); ++i) {
    EXPECT_TRUE(prog_alive(dbg[i].prog_id)) << dbg[i].name;
    EXPECT_NE(dbg[i].prog_map_id, 0u) << dbg[i].name;
    EXPECT_TRUE(fs::exists(dbg[i].map_name_path)) << dbg[i].map_name_path;
    if (i > 0) {
      EXPECT_EQ(dbg[i].prev_map_name_path, dbg[i - 1].map_name_path);
      EXPECT_EQ(dbg[i].prev_prog_map_id, dbg[i - 1].prog_map_id);
    }
  }

  // Packets go through every program.
  ASSERT_EQ(v.send_udp_from_peer(20), 20);
  for (char c : {'a', 'b', 'c'}) {
    EXPECT_GE(percpu_counter(counter_pin(ifc, c)).value_or(0), 20u) << c;
  }

  // Refusals change nothing: a program without map_name in the middle, a chain over 33.
  const auto before = kernel_snapshot({ifc});
  const auto state_before = state_bytes();
  auto nomap = chain_counter('d', 15);
  nomap.map_name.clear();
  r = add({chain_entry(ifc, {nomap})});
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_NE(r.body.find("\"field\":\"/0/bpf_programs/xdp_ingress/0/map_name\""), std::string::npos)
      << r.body;
  std::vector<BpfProgram> many;
  for (int i = 0; i < 34; ++i) {
    auto p = chain_counter('a', i + 1);
    p.name = "chain-x" + std::to_string(i);
    many.push_back(p);
  }
  r = update({chain_entry(ifc, many)});
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_NE(r.body.find("33"), std::string::npos) << r.body;
  EXPECT_EQ(kernel_snapshot({ifc}), before) << kernel_snapshot({ifc}).describe();
  EXPECT_EQ(state_bytes(), state_before);

  // Remove the last, then the first; then everything: the root goes with the last program.
  r = remove({names(ifc, {"chain-c"})});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(chain_names(ifc), (Names{"xdp-root", "chain-a", "chain-b"}));
  r = remove({names(ifc, {"chain-a"})});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(chain_names(ifc), (Names{"xdp-root", "chain-b"}));
  const uint64_t b_before = percpu_counter(counter_pin(ifc, 'b')).value_or(0);
  ASSERT_EQ(v.send_udp_from_peer(10), 10);
  EXPECT_GE(percpu_counter(counter_pin(ifc, 'b')).value_or(0), b_before + 10);
  const uint32_t root_id = bpfs(ifc)[0].prog_id;
  r = remove({names(ifc, {"chain-b"})});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_TRUE(bpfs(ifc).empty());
  EXPECT_EQ(attached_programs(ifc).xdp, 0u);
  EXPECT_TRUE(prog_gone_eventually(root_id));
  EXPECT_TRUE(eventually([&] { return !fs::exists("/sys/fs/bpf/" + ifc + "/xdp-root"); }));
}

TEST_F(ChainE2e, UpgradeCarriesStateAndSameVersionChangesKeepIt) {
  testing::VethPair v;
  ASSERT_EQ(v.error(), "");
  ASSERT_TRUE(start_chained());
  const std::string ifc = v.root_name();
  auto r = add({chain_entry(ifc, {chain_counter('a', 1), chain_counter('b', 2)})});
  ASSERT_EQ(r.status, 200) << r.body;
  ASSERT_EQ(v.send_udp_from_peer(30), 30);
  const uint64_t b1 = percpu_counter(counter_pin(ifc, 'b')).value_or(0);
  ASSERT_GE(b1, 30u);

  // Reorder (same version): b is rebuilt as a fresh instance on the same pinned maps.
  r = update({chain_entry(ifc, {chain_counter('b', 1), chain_counter('a', 2)})});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(chain_names(ifc), (Names{"xdp-root", "chain-b", "chain-a"}));
  EXPECT_GE(percpu_counter(counter_pin(ifc, 'b')).value_or(0), b1);

  // Upgrade 1.0 -> latest: new map directory, state copied before the switch.
  r = update({chain_entry(ifc, {chain_counter('b', 1, "latest"), chain_counter('a', 2)})});
  ASSERT_EQ(r.status, 200) << r.body;
  const uint64_t carried = percpu_counter(counter_pin(ifc, 'b', "latest")).value_or(0);
  EXPECT_GE(carried, b1) << "the counter of 1.0 was carried over";
  ASSERT_EQ(v.send_udp_from_peer(10), 10);
  EXPECT_GE(percpu_counter(counter_pin(ifc, 'b', "latest")).value_or(0), carried + 10);
  EXPECT_TRUE(eventually([&] { return !fs::exists(counter_pin(ifc, 'b')); }))
      << "1.0 is released after the grace period";
}

/// A TCX ingress program of "another owner": tc_counter loaded by the test itself (nothing
/// pinned) and appended behind whatever is attached. Detached and closed in the destructor.
class ForeignTcx {
 public:
  explicit ForeignTcx(const std::string& ifc) {
    obj_ = bpf_object__open_file(L3AFD_BPF_OBJECT_DIR "/tc_counter.bpf.o", nullptr);
    if (obj_ == nullptr) return;
    bpf_map* m = nullptr;
    bpf_object__for_each_map(m, obj_) {
      (void)bpf_map__set_pin_path(m, nullptr);
    }
    bpf_program* p = bpf_object__find_program_by_name(obj_, "tc_counter");
    if (p == nullptr || bpf_object__load(obj_) != 0) return;
    counter_ = bpf_object__find_map_by_name(obj_, "tc_counter_packets");
    // BPF_TCX_INGRESS (46); the uapi headers of libbpf 1.1 predate it.
    link_.reset(bpf_link_create(bpf_program__fd(p), if_nametoindex(ifc.c_str()),
                                static_cast<bpf_attach_type>(46), nullptr));
  }
  ~ForeignTcx() {
    link_.reset();
    if (obj_ != nullptr) bpf_object__close(obj_);
  }
  ForeignTcx(const ForeignTcx&) = delete;
  ForeignTcx& operator=(const ForeignTcx&) = delete;
  bool ok() const { return link_.valid() && counter_ != nullptr; }
  uint64_t packets() const {
    uint64_t v = 0;
    const uint32_t key = 0;
    (void)bpf_map_lookup_elem(bpf_map__fd(counter_), &key, &v);
    return v;
  }

 private:
  bpf_object* obj_ = nullptr;
  bpf_map* counter_ = nullptr;
  UniqueFd link_;
};

TEST_F(ChainE2e, TcChainBehindATcxRootLetsOtherOwnersProgramsRun) {
  testing::VethPair v;
  ASSERT_EQ(v.error(), "");
  ASSERT_TRUE(start_chained());
  const std::string ifc = v.root_name();
  auto r = add({entry(ifc, std::nullopt, tc_counter())});
  ASSERT_EQ(r.status, 200) << r.body;
  auto dbg = bpfs(ifc);
  ASSERT_EQ(chain_names(ifc), (Names{"tc-root", "tc-counter"}));
  const auto att = attached_programs(ifc);
  ASSERT_EQ(att.tcx_ingress.size(), 1u) << "only the root is attached to the hook";
  EXPECT_EQ(att.tcx_ingress[0], bpfs(ifc)[0].prog_id);
  EXPECT_TRUE(
      fs::exists("/sys/fs/bpf/tc/globals/" + ifc + "/tc-root/latest/tc_ingress_root_array"));

  ForeignTcx foreign(ifc);
  ASSERT_TRUE(foreign.ok()) << "cannot load/attach the foreign TCX program: " << errno;
  ASSERT_EQ(attached_programs(ifc).tcx_ingress.size(), 2u);
  const uint64_t before = foreign.packets();
  ASSERT_EQ(v.send_udp_from_peer(20), 20);
  EXPECT_GE(monitor_value(ifc, "tc_counter_packets_0_scalar").value_or(0), 20u)
      << "the chained program saw the packets";
  EXPECT_GE(foreign.packets(), before + 20)
      << "our chain ends with TCX_NEXT, so the next owner's program still runs";
}

struct ChurnCase {
  const char* name;
  const char* order;  ///< chain-write-order
  int changes;
  bool expect_exact;  ///< make-before-break: exact counts; control: skips must be seen
};

class ChainChurn : public ChainE2e, public ::testing::WithParamInterface<ChurnCase> {};

TEST_P(ChainChurn, RandomChangesUnderTraffic) {
  const ChurnCase& cc = GetParam();
  testing::VethPair v;
  ASSERT_EQ(v.error(), "");
  StatsEnabled stats;
  ASSERT_TRUE(stats.ok()) << "BPF_ENABLE_STATS: " << errno;
  ASSERT_TRUE(start_chained(cc.order));
  const std::string ifc = v.root_name();

  // chain-a and chain-f stay for the whole run (their seq_ids move, so they are rebuilt and
  // reordered); b..e come and go, change position and version.
  std::mt19937 rng(20261201);
  auto desired = [&](bool initial) {
    std::vector<BpfProgram> out;
    std::vector<int64_t> seqs{10, 20, 30, 40, 50, 60, 70, 80};
    std::shuffle(seqs.begin(), seqs.end(), rng);
    std::size_t next = 0;
    out.push_back(chain_counter('a', seqs[next++]));
    out.push_back(chain_counter('f', seqs[next++]));
    for (char c : {'b', 'c', 'd', 'e'}) {
      if (!initial && rng() % 2 == 0) continue;
      out.push_back(chain_counter(c, seqs[next++], rng() % 3 == 0 ? "latest" : "1.0"));
    }
    if (!initial && rng() % 5 == 0 && out.size() > 2) out.back().admin_status = "disabled";
    // The last program of the chain needs no map_name; everyone has one here anyway.
    return out;
  };
  auto r = update({chain_entry(ifc, desired(true))});
  ASSERT_EQ(r.status, 200) << r.body;
  const uint32_t root_id = attached_programs(ifc).xdp;
  ASSERT_NE(root_id, 0u);

  Traffic traffic(v);
  ASSERT_TRUE(traffic.ok());
  int applied = 0;
  const auto deadline = Clock::now() + std::chrono::seconds(200);
  for (int i = 0; i < cc.changes && Clock::now() < deadline; ++i) {
    auto want = desired(false);
    r = update({chain_entry(ifc, want)});
    ASSERT_EQ(r.status, 200) << "change " << i << ": " << r.body;
    ++applied;
    if (i % 50 == 0) {
      // The chain read back from the kernel matches the request, and the root never changed.
      std::vector<BpfProgram> enabled;
      for (const auto& p : want) {
        if (p.admin_status == "enabled") enabled.push_back(p);
      }
      std::sort(enabled.begin(), enabled.end(),
                [](const BpfProgram& x, const BpfProgram& y) { return x.seq_id < y.seq_id; });
      Names expect{"xdp-root"};
      for (const auto& p : enabled) expect.push_back(p.name);
      auto dbg = bpfs(ifc);
      EXPECT_EQ(chain_names(ifc), expect) << "change " << i;
      for (const auto& d : dbg) EXPECT_TRUE(prog_alive(d.prog_id)) << d.name;
      EXPECT_EQ(attached_programs(ifc).xdp, root_id);
    }
  }
  traffic.stop();
  EXPECT_EQ(applied, cc.changes) << "bounded by time: the machine was too slow";
  EXPECT_GT(traffic.sent(), 1000u);

  // Read when quiet: root run count and the two permanent counters, stable over two reads.
  std::optional<uint64_t> root, a, f;
  for (int attempt = 0; attempt < 50; ++attempt) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    auto r1 = run_count(root_id);
    auto a1 = percpu_counter(counter_pin(ifc, 'a'));
    auto f1 = percpu_counter(counter_pin(ifc, 'f'));
    if (r1 == root && a1 == a && f1 == f) break;
    root = r1;
    a = a1;
    f = f1;
  }
  ASSERT_TRUE(root && a && f);
  RecordProperty("packets_root", std::to_string(*root));
  std::printf("[ churn %s ] changes=%d sent=%llu root=%llu chain-a=%llu chain-f=%llu\n", cc.name,
              applied, static_cast<unsigned long long>(traffic.sent()),
              static_cast<unsigned long long>(*root), static_cast<unsigned long long>(*a),
              static_cast<unsigned long long>(*f));
  EXPECT_GT(*root, 1000u);
  if (cc.expect_exact) {
    EXPECT_EQ(*a, *root) << "chain-a skipped " << (*root - std::min(*root, *a)) << " packets";
    EXPECT_EQ(*f, *root) << "chain-f skipped " << (*root - std::min(*root, *f)) << " packets";
  } else {
    EXPECT_LT(std::min(*a, *f), *root)
        << "control: the original order of operations must make packets skip programs";
  }
}

INSTANTIATE_TEST_SUITE_P(Orders, ChainChurn,
                         ::testing::Values(ChurnCase{"make_before_break", "", 500, true},
                                           ChurnCase{"original_order_control", "original-unsafe",
                                                     100, false}),
                         [](const auto& tp) { return std::string(tp.param.name); });

/// Kill -9 and restart under traffic; `tamper` runs while the daemon is dead. Returns the
/// program ids listed before the kill and after the restart (root first).
class ChainRestart : public ChainE2e {
 protected:
  void kill_and_restart(const std::function<void(const std::string&)>& tamper,
                        std::vector<uint32_t>& before, std::vector<uint32_t>& after) {
    testing::VethPair v;
    ASSERT_EQ(v.error(), "");
    ASSERT_TRUE(start_chained());
    const std::string ifc = v.root_name();
    auto r = add(
        {chain_entry(ifc, {chain_counter('a', 1), chain_counter('b', 2), chain_counter('c', 3)})});
    ASSERT_EQ(r.status, 200) << r.body;
    ASSERT_EQ(v.send_udp_from_peer(50), 50);
    const uint64_t a_before = percpu_counter(counter_pin(ifc, 'a')).value_or(0);
    ASSERT_GE(a_before, 50u);
    for (const auto& d : bpfs(ifc)) before.push_back(d.prog_id);

    Traffic traffic(v);
    ASSERT_TRUE(traffic.ok());
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    kill_daemon();
    ASSERT_NE(attached_programs(ifc).xdp, 0u) << "the pinned root link outlives the daemon";
    tamper(ifc);
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    ASSERT_TRUE(restart_daemon());
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    traffic.stop();

    EXPECT_EQ(chain_names(ifc), (Names{"xdp-root", "chain-a", "chain-b", "chain-c"}));
    const auto [a, c] = settled_counters(ifc);
    ASSERT_TRUE(a && c);
    EXPECT_GT(*a, a_before + 100) << "counters continue across the restart (maps pinned by name)";
    EXPECT_EQ(*c, *a) << "no packet skipped the end of the chain during kill and restart";
    for (const auto& d : bpfs(ifc)) {
      EXPECT_TRUE(prog_alive(d.prog_id)) << d.name;
      after.push_back(d.prog_id);
    }
  }
};

// Graceful restart (issue 11, docs/compatibility.md §16) under traffic: the chain keeps every
// packet (end of chain = start of chain), the new process adopts the same kernel programs, the
// counters continue in the same pinned maps, and /metrics continues from the old values.
TEST_F(ChainRestart, GracefulRestartUnderTrafficKeepsEveryPacketAndReloadsNothing) {
  testing::VethPair v;
  ASSERT_EQ(v.error(), "");
  ASSERT_TRUE(start_chained());
  const std::string ifc = v.root_name();
  auto r = add(
      {chain_entry(ifc, {chain_counter('a', 1), chain_counter('b', 2), chain_counter('c', 3)})});
  ASSERT_EQ(r.status, 200) << r.body;
  std::vector<uint32_t> before;
  for (const auto& d : bpfs(ifc)) before.push_back(d.prog_id);
  const std::string get_before = get(ifc).body;
  const auto start_count = [this] {
    std::string out;
    std::istringstream in(metrics());
    for (std::string line; std::getline(in, line);) {
      if (line.starts_with("l3afd_BPFStartCount{")) out += line + "\n";
    }
    return out;
  };
  const std::string starts_before = start_count();
  ASSERT_NE(starts_before, "");

  Traffic traffic(v);
  ASSERT_TRUE(traffic.ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  const uint64_t a_before = percpu_counter(counter_pin(ifc, 'a')).value_or(0);
  pid_t new_pid = 0;
  r = graceful_restart(std::string("v") + L3AFD_VERSION, &new_pid);
  ASSERT_EQ(r.status, 200) << r.body;
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  traffic.stop();

  const auto [a, c] = settled_counters(ifc);
  ASSERT_TRUE(a && c);
  EXPECT_GT(*a, a_before + 100) << "the chain ran through the restart";
  EXPECT_EQ(*c, *a) << "no packet skipped the end of the chain during the graceful restart";
  std::vector<uint32_t> after;
  for (const auto& d : bpfs(ifc)) after.push_back(d.prog_id);
  EXPECT_EQ(after, before) << "the same kernel programs: adopted, not reloaded";
  EXPECT_EQ(get(ifc).body, get_before);
  EXPECT_EQ(start_count(), starts_before) << "BPFStartCount continues from the old process";
  // Writes work on the new process.
  r = update({chain_entry(ifc, {chain_counter('a', 1), chain_counter('c', 3)})});
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(chain_names(ifc), (Names{"xdp-root", "chain-a", "chain-c"}));
}

// Start after a reboot (issue 11): nothing of the daemon is left in the kernel — the daemon is
// gone, bpffs is empty (a fresh instance mounted over it), so the links and programs are gone
// too. The start redeploys exactly what the state file says, and every packet then runs the
// whole chain.
TEST_F(ChainRestart, StartAfterARebootRedeploysTheStoredChain) {
  testing::VethPair v;
  ASSERT_EQ(v.error(), "");
  ASSERT_TRUE(start_chained());
  const std::string ifc = v.root_name();
  auto r = add(
      {chain_entry(ifc, {chain_counter('a', 1), chain_counter('b', 2), chain_counter('c', 3)})});
  ASSERT_EQ(r.status, 200) << r.body;
  const std::string get_before = get(ifc).body;
  const std::string store_before = state_bytes();

  kill_daemon();
  ASSERT_EQ(::umount2("/sys/fs/bpf", MNT_DETACH), 0) << errno;
  ASSERT_EQ(::mount("bpffs", "/sys/fs/bpf", "bpf", 0, "mode=0700"), 0) << errno;
  EXPECT_TRUE(eventually([&] { return attached_programs(ifc).xdp == 0u; }))
      << "the chain left the kernel with its pins";
  ASSERT_FALSE(fs::exists(counter_pin(ifc, 'a')));

  ASSERT_TRUE(restart_daemon());
  EXPECT_EQ(get(ifc).body, get_before);
  EXPECT_EQ(state_bytes(), store_before);
  EXPECT_EQ(chain_names(ifc), (Names{"xdp-root", "chain-a", "chain-b", "chain-c"}));
  EXPECT_EQ(attached_programs(ifc).xdp, bpfs(ifc).at(0).prog_id);
  ASSERT_EQ(v.send_udp_from_peer(50), 50);
  std::optional<uint64_t> a, c;
  EXPECT_TRUE(eventually([&] {
    a = percpu_counter(counter_pin(ifc, 'a'));
    c = percpu_counter(counter_pin(ifc, 'c'));
    return a && c && *a >= 50u && *c == *a;
  })) << (a ? *a : 0)
      << " " << (c ? *c : 0);
}

TEST_F(ChainRestart, KillAndRestartAdoptsTheLiveChainWithoutReloading) {
  std::vector<uint32_t> before, after;
  kill_and_restart([](const std::string&) {}, before, after);
  EXPECT_EQ(after, before) << "the same kernel programs: adopted, not reloaded";
  EXPECT_NE(daemon_log().find("adopted as it runs"), std::string::npos);
}

TEST_F(ChainRestart, InconsistentPinsAreRebuiltAndSwitchedInWithoutACut) {
  std::vector<uint32_t> before, after;
  kill_and_restart(
      [](const std::string& ifc) {
        // Someone removed chain-b's program pin while the daemon was down.
        fs::remove(fs::path("/sys/fs/bpf/progs") / ifc / "chain-b" / "1_0" /
                   "xdp_chain_counter_xdp");
      },
      before, after);
  ASSERT_EQ(after.size(), before.size());
  for (std::size_t i = 0; i < after.size(); ++i) EXPECT_NE(after[i], before[i]) << i;
  EXPECT_NE(daemon_log().find("not adopted"), std::string::npos);
}

}  // namespace
}  // namespace l3afd::e2e
