// Our ratelimiting and connection-limit packages through the real daemon, both in one XDP chain
// on a veth, with real traffic from another namespace:
// - connection-limit admits exactly the configured number of concurrent connections, drops
//   further SYNs, and admits new ones after old ones close (its tracker is a companion program
//   the daemon attached);
// - ratelimiting never admits more than the configured rate per window, with two senders on two
//   CPUs, over several windows; the admitted count of every window is read from rl_window_map;
// - map_args changes through the API take effect on the running programs (same program ids).
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <fcntl.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <map>
#include <thread>

#include "core/unique_fd.h"
#include "e2e/daemon/daemon_fixture.h"
#include "e2e/daemon/traffic.h"
#include "support/packet.h"

namespace l3afd::e2e {
namespace {

using model::BpfProgram;
using Clock = std::chrono::steady_clock;

constexpr uint16_t kRlPort = 18443;  // limited by ratelimiting
constexpr uint16_t kClPort = 18080;  // limited by connection-limit

BpfProgram ratelimiting(int64_t rate) {
  BpfProgram p;
  p.name = "ratelimiting";
  p.seq_id = 1;
  p.artifact = "l3af_ratelimiting.tar.gz";
  p.map_name = "xdp_rl_ingress_next_prog";
  p.version = "1.0";
  p.admin_status = "enabled";
  p.prog_type = "xdp";
  p.object_file = "ratelimiting.bpf.o";
  p.entry_function_name = "_xdp_ratelimiting";
  p.map_args =
      std::vector<model::MapArg>{{"rl_ports_map", std::vector<model::KeyValue>{{kRlPort, 1}}},
                                 {"rl_config_map", std::vector<model::KeyValue>{{0, rate}}}};
  p.monitor_maps = std::vector<model::MonitorMap>{{"rl_recv_count_map", 0, "scalar"},
                                                  {"rl_drop_count_map", 0, "scalar"}};
  return p;
}

BpfProgram connection_limit(int64_t max) {
  BpfProgram p;
  p.name = "connection-limit";
  p.seq_id = 2;
  p.artifact = "l3af_connection_limit.tar.gz";
  p.map_name = "xdp_cl_ingress_next_prog";
  p.version = "1.0";
  p.admin_status = "enabled";
  p.prog_type = "xdp";
  p.object_file = "connection_limit.bpf.o";
  p.entry_function_name = "_xdp_limit_conn";
  p.map_args =
      std::vector<model::MapArg>{{"cl_tcp_conns", std::vector<model::KeyValue>{{kClPort, 1}}},
                                 {"cl_max_conn", std::vector<model::KeyValue>{{0, max}}}};
  p.monitor_maps = std::vector<model::MonitorMap>{{"cl_conn_count", 0, "scalar"},
                                                  {"cl_drop_count_map", 0, "scalar"}};
  return p;
}

model::L3afBpfPrograms chain(const std::string& ifc, int64_t rate, int64_t max) {
  auto e = DaemonFixture::entry(ifc);
  if (!e.bpf_programs) e.bpf_programs = model::BpfPrograms{};
  e.bpf_programs->xdp_ingress = std::vector<BpfProgram>{ratelimiting(rate), connection_limit(max)};
  return e;
}

sockaddr_in addr_of(const std::string& ip, uint16_t port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  ::inet_pton(AF_INET, ip.c_str(), &a.sin_addr);
  return a;
}

class Packages : public DaemonFixture {
 protected:
  bool start_chained() {
    DaemonOptions o;
    o.chaining = true;
    return start_daemon(o);
  }
  uint64_t metric(const std::string& ifc, const std::string& label) {
    return monitor_value(ifc, label).value_or(0);
  }
};

TEST_F(Packages, ConnectionLimitAdmitsExactlyTheMaximumAndAgainAfterCloses) {
  testing::VethPair v;
  ASSERT_EQ(v.error(), "");
  ASSERT_TRUE(start_chained());
  const std::string ifc = v.root_name();
  UniqueFd listener(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  const int one = 1;
  (void)::setsockopt(listener.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  sockaddr_in la = addr_of(v.root_addr(), kClPort);
  ASSERT_EQ(::bind(listener.get(), reinterpret_cast<sockaddr*>(&la), sizeof(la)), 0);
  ASSERT_EQ(::listen(listener.get(), 64), 0);
  // A connection that exists before the package is deployed is counted too (seeding).
  UniqueFd early;
  ASSERT_TRUE(try_connect(v, kClPort, early, 3000));

  constexpr int kMax = 3;
  auto r = add({chain(ifc, 1000, kMax)});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_TRUE(eventually([&] { return metric(ifc, "cl_conn_count_0_scalar") == 1; }))
      << "the pre-existing connection was seeded";

  std::vector<UniqueFd> conns;
  for (int i = 1; i < kMax; ++i) {
    UniqueFd c;
    ASSERT_TRUE(try_connect(v, kClPort, c, 3000)) << "connection " << i << " of " << kMax;
    conns.push_back(std::move(c));
  }
  ASSERT_TRUE(eventually([&] { return metric(ifc, "cl_conn_count_0_scalar") == kMax; }));
  // At the maximum: the next SYN is dropped by XDP (the drop counter proves it was XDP).
  const uint64_t drops = metric(ifc, "cl_drop_count_map_0_scalar");
  UniqueFd over;
  EXPECT_FALSE(try_connect(v, kClPort, over, 1500))
      << "a connection beyond the maximum was admitted";
  EXPECT_GT(metric(ifc, "cl_drop_count_map_0_scalar"), drops);
  EXPECT_EQ(metric(ifc, "cl_conn_count_0_scalar"), static_cast<uint64_t>(kMax));

  // Close one (the seeded one): exactly one new connection is admitted again.
  early.reset();
  ASSERT_TRUE(eventually([&] { return metric(ifc, "cl_conn_count_0_scalar") == kMax - 1; }));
  UniqueFd again;
  EXPECT_TRUE(try_connect(v, kClPort, again, 3000)) << "a slot freed by a close is usable again";
  EXPECT_TRUE(eventually([&] { return metric(ifc, "cl_conn_count_0_scalar") == kMax; }));

  // map_args through the API, applied to the running program (same program id): a higher
  // maximum admits one more connection at once.
  const uint32_t cl_id = bpfs(ifc)[2].prog_id;
  r = update({chain(ifc, 1000, kMax + 1)});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(bpfs(ifc)[2].prog_id, cl_id) << "changed in place, not reloaded";
  UniqueFd extra;
  EXPECT_TRUE(try_connect(v, kClPort, extra, 3000)) << "the raised maximum admits one more";
  EXPECT_TRUE(eventually([&] { return metric(ifc, "cl_conn_count_0_scalar") == kMax + 1; }));

  conns.clear();
  again.reset();
  extra.reset();
  EXPECT_TRUE(eventually([&] { return metric(ifc, "cl_conn_count_0_scalar") == 0; }));
}

/// Accepted SYNs per window, read from the pinned rl_window_map (window start ns -> count).
std::map<uint64_t, uint64_t> windows(const std::string& ifc) {
  std::map<uint64_t, uint64_t> out;
  UniqueFd fd(bpf_obj_get(("/sys/fs/bpf/" + ifc + "/ratelimiting/1_0/rl_window_map").c_str()));
  if (!fd) return out;
  uint64_t key = 0;
  uint64_t next = 0;
  const void* prev = nullptr;
  for (int i = 0; i < 2000 && bpf_map_get_next_key(fd.get(), prev, &next) == 0; ++i) {
    key = next;
    prev = &key;
    uint64_t value = 0;
    if (bpf_map_lookup_elem(fd.get(), &key, &value) == 0) out[key] = value;
  }
  return out;
}

/// MAC address of `ifc` in this process's network namespace (sysfs may show another one).
std::string mac_of(const std::string& ifc) {
  UniqueFd s(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  ifreq ifr{};
  std::snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifc.c_str());
  if (!s || ::ioctl(s.get(), SIOCGIFHWADDR, &ifr) != 0) return "02:00:00:00:00:02";
  char buf[18];
  const auto* m = reinterpret_cast<const unsigned char*>(ifr.ifr_hwaddr.sa_data);
  std::snprintf(buf, sizeof(buf), "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4],
                m[5]);
  return buf;
}

/// Sends raw TCP SYN frames to the root side's `port` from the peer namespace on the CPU
/// `cpu`, until `stop` or `max` frames.
void syn_sender(const testing::VethPair& v, const std::string& dst, int cpu, uint16_t port,
                const std::atomic<bool>& stop, std::atomic<uint64_t>& sent, uint64_t max) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  (void)sched_setaffinity(0, sizeof(set), &set);
  UniqueFd s(v.peer_ns().socket_in(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_ALL)));
  if (!s) return;
  ifreq ifr{};
  std::snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", v.peer_name().c_str());
  if (::ioctl(s.get(), SIOCGIFINDEX, &ifr) != 0) return;  // resolved in the peer namespace
  sockaddr_ll to{};
  to.sll_family = AF_PACKET;
  to.sll_ifindex = ifr.ifr_ifindex;
  to.sll_halen = ETH_ALEN;
  for (uint64_t i = 0; !stop && i < max; ++i) {
    const auto frame = testing::PacketBuilder()
                           .eth("02:00:00:00:00:99", dst)
                           .ipv4(v.peer_addr(), v.root_addr())
                           .tcp(static_cast<uint16_t>(20000 + (i % 20000) + cpu), port)
                           .build();
    if (::sendto(s.get(), frame.data(), frame.size(), 0, reinterpret_cast<sockaddr*>(&to),
                 sizeof(to)) > 0) {
      ++sent;
    }
    if (i % 32 == 31) std::this_thread::sleep_for(std::chrono::microseconds(300));
  }
}

TEST_F(Packages, RateLimitingNeverAdmitsMoreThanTheRatePerWindowWithTwoSenders) {
  if (std::thread::hardware_concurrency() < 2) GTEST_SKIP() << "needs two CPUs";
  testing::VethPair v;
  ASSERT_EQ(v.error(), "");
  ASSERT_TRUE(start_chained());
  const std::string ifc = v.root_name();
  constexpr int64_t kRate = 50;
  auto r = add({chain(ifc, kRate, 1000)});
  ASSERT_EQ(r.status, 200) << r.body;
  const uint32_t rl_id = bpfs(ifc)[1].prog_id;

  std::atomic<bool> stop{false};
  std::atomic<uint64_t> sent{0};
  const std::string mac = mac_of(ifc);
  std::thread a(syn_sender, std::cref(v), std::cref(mac), 0, kRlPort, std::cref(stop),
                std::ref(sent), 400000);
  std::thread b(syn_sender, std::cref(v), std::cref(mac), 1, kRlPort, std::cref(stop),
                std::ref(sent), 400000);
  // About 3.5 windows of load; the bound below holds whatever the duration.
  std::this_thread::sleep_for(std::chrono::milliseconds(3500));
  stop = true;
  a.join();
  b.join();

  const auto w = windows(ifc);
  const uint64_t recv = metric(ifc, "rl_recv_count_map_0_scalar");
  const uint64_t drop = metric(ifc, "rl_drop_count_map_0_scalar");
  uint64_t accepted = 0;
  for (const auto& [start, n] : w) {
    EXPECT_LE(n, static_cast<uint64_t>(kRate)) << "window " << start;
    accepted += n;
  }
  std::printf("[ ratelimiting ] sent=%llu recv=%llu drop=%llu windows=%zu accepted=%llu\n",
              static_cast<unsigned long long>(sent.load()), static_cast<unsigned long long>(recv),
              static_cast<unsigned long long>(drop), w.size(),
              static_cast<unsigned long long>(accepted));
  EXPECT_GE(w.size(), 3u) << "the load spanned several windows";
  EXPECT_GT(drop, 0u) << "the senders exceeded the rate";
  EXPECT_EQ(accepted, recv - drop) << "every admitted SYN is in exactly one window";
  EXPECT_GT(sent.load(), recv / 2) << "the SYNs were sent through the veth";

  // map_args through the API take effect on the running program: rate 0 blocks every SYN.
  r = update({chain(ifc, 0, 1000)});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(bpfs(ifc)[1].prog_id, rl_id) << "changed in place, not reloaded";
  const uint64_t drop_before = metric(ifc, "rl_drop_count_map_0_scalar");
  std::atomic<bool> never{false};
  std::atomic<uint64_t> sent2{0};
  syn_sender(v, mac, 0, kRlPort, never, sent2, 20);
  EXPECT_TRUE(eventually([&] {
    return metric(ifc, "rl_drop_count_map_0_scalar") >= drop_before + sent2.load();
  })) << "with rate 0 every SYN to a listed port is dropped";

  // The port list too: SYNs to a port not listed pass uncounted; once listed, they are limited.
  constexpr uint16_t kOther = 18444;
  const uint64_t recv_before = metric(ifc, "rl_recv_count_map_0_scalar");
  std::atomic<uint64_t> sent3{0};
  syn_sender(v, mac, 0, kOther, never, sent3, 20);
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  EXPECT_EQ(metric(ifc, "rl_recv_count_map_0_scalar"), recv_before) << "port not listed yet";
  auto listed = chain(ifc, 0, 1000);
  (*listed.bpf_programs->xdp_ingress)[0].map_args->front().args->push_back({kOther, 1});
  r = update({listed});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(bpfs(ifc)[1].prog_id, rl_id);
  const uint64_t drop_mid = metric(ifc, "rl_drop_count_map_0_scalar");
  std::atomic<uint64_t> sent4{0};
  syn_sender(v, mac, 0, kOther, never, sent4, 20);
  EXPECT_TRUE(eventually([&] {
    return metric(ifc, "rl_drop_count_map_0_scalar") >= drop_mid + sent4.load();
  })) << "the newly listed port is limited";
}

}  // namespace
}  // namespace l3afd::e2e
