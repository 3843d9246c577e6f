// §10: graceful restart and adoption (issue 11). One daemon with chaining on and five chain
// programs (chain-a … chain-e) on xdp_ingress of each of 20 interfaces: 100 programs behind 20
// roots. Measured, side by side:
//   restart_graceful_ms    PUT /l3af/configs/v1/restart → 200: the new process has adopted the
//                          100 programs and serves (the old one then exits);
//   restart_pidfile_ms     PUT → the PID file names the new process (what L3AF's e2e suite
//                          watches, within 5 s);
//   adopt_cold_start_ms    SIGKILL + start of the same binary → GET answers 200: a cold start
//                          adopting the same 100 programs from their pins;
//   restart_packets_lost   frames sent on the peer of the first interface during a graceful
//                          restart minus frames counted by its first chain program (must be 0);
//   restart_packets_skipped  frames counted by the first program minus those counted by the
//                          last (must be 0: no frame left the chain early).
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <optional>
#include <thread>

#include "measure.h"
#include "payloads.h"
#include "support/packet.h"

namespace l3afd::bench {

namespace {

using Clock = std::chrono::steady_clock;
constexpr const char* kLetters = "abcde";

double ms_since(Clock::time_point t) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t).count();
}

/// Key 0 of the per-CPU chain_packets map of chain-<c> on `iface`, summed; nullopt if unreadable.
std::optional<std::uint64_t> chain_count(const std::filesystem::path& bpffs,
                                         const std::string& iface, char c) {
  const auto pin = bpffs / iface / (std::string("chain-") + c) / "1_0" / "chain_packets";
  const int fd = bpf_obj_get(pin.c_str());
  if (fd < 0) return std::nullopt;
  static const int cpus = libbpf_num_possible_cpus();
  std::vector<std::uint64_t> v(static_cast<std::size_t>(cpus > 0 ? cpus : 1));
  const std::uint32_t key = 0;
  const int rc = bpf_map_lookup_elem(fd, &key, v.data());
  ::close(fd);
  if (rc != 0) return std::nullopt;
  std::uint64_t sum = 0;
  for (auto x : v) sum += x;
  return sum;
}

/// The kernel ids of every chain program's pinned entry program, in interface and chain order
/// (0 for a pin that cannot be read): equal before and after a restart = nothing was reloaded.
std::vector<std::uint32_t> program_ids(const std::filesystem::path& bpffs,
                                       const std::vector<std::string>& names) {
  std::vector<std::uint32_t> ids;
  for (const auto& n : names) {
    for (const char* c = kLetters; *c != '\0'; ++c) {
      const auto pin =
          bpffs / "progs" / n / (std::string("chain-") + *c) / "1_0" / "xdp_chain_counter_xdp";
      const int fd = bpf_obj_get(pin.c_str());
      bpf_prog_info info{};
      std::uint32_t len = sizeof info;
      ids.push_back(fd >= 0 && bpf_obj_get_info_by_fd(fd, &info, &len) == 0 ? info.id : 0);
      if (fd >= 0) ::close(fd);
    }
  }
  return ids;
}

/// Sends raw frames on `iface` (AF_PACKET) in paced bursts until stopped or a bound (count and
/// time) is reached.
class Sender {
 public:
  explicit Sender(const std::string& iface) {
    fd_ = ::socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
    sockaddr_ll ll{};
    ll.sll_family = AF_PACKET;
    ll.sll_ifindex = static_cast<int>(::if_nametoindex(iface.c_str()));
    if (fd_ < 0 || ll.sll_ifindex == 0 ||
        ::bind(fd_, reinterpret_cast<sockaddr*>(&ll), sizeof ll) != 0) {
      error_ = "packet socket on " + iface + ": " + std::strerror(errno);
      return;
    }
    frame_ = testing::PacketBuilder()
                 .eth()
                 .ipv4("198.18.10.2", "198.18.10.1")
                 .udp(40000, 9997)
                 .payload(std::string("l3afd-bench-restart"))
                 .build();
    thread_ = std::thread([this] {
      const auto end = Clock::now() + std::chrono::seconds(120);
      while (!stop_ && Clock::now() < end && sent_ < 5'000'000) {
        for (int i = 0; i < 16; ++i) {
          if (::send(fd_, frame_.data(), frame_.size(), 0) > 0) ++sent_;
        }
        std::this_thread::sleep_for(std::chrono::microseconds(200));
      }
    });
  }
  ~Sender() {
    stop();
    if (fd_ >= 0) ::close(fd_);
  }
  Sender(const Sender&) = delete;
  Sender& operator=(const Sender&) = delete;
  void stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  const std::string& error() const { return error_; }
  std::uint64_t sent() const { return sent_; }

 private:
  int fd_ = -1;
  std::string error_;
  std::vector<std::uint8_t> frame_;
  std::atomic<bool> stop_{false};
  std::atomic<std::uint64_t> sent_{0};
  std::thread thread_;
};

/// No IPv6 on the bench's interfaces: router solicitations and the like would be counted by
/// the chains next to the frames the bench sends.
void disable_ipv6(const std::string& iface) {
  std::ofstream("/proc/sys/net/ipv6/conf/" + iface + "/disable_ipv6") << "1";
}

}  // namespace

std::string measure_restart(const BenchEnv& env, Daemon& d, const BenchSizes& sizes, Table& out,
                            const std::filesystem::path& bpffs, const std::string& version) {
  const auto& names = env.ifaces->names();
  d.set_host_name(env.host);
  std::unique_ptr<test::HttpConnection> conn;
  std::vector<ChainLink> links;
  for (int i = 0; kLetters[i] != '\0'; ++i) links.push_back({kLetters[i], 10 * (i + 1)});
  for (const auto& n : names) {
    disable_ipv6(n);
    if (auto e =
            post_ok(conn, d.api_port(), "/l3af/configs/v1/add", chain_payload(env.host, n, links));
        !e.empty()) {
      return "deploy the chain on " + n + ": " + e;
    }
  }
  conn.reset();
  const std::string& traffic_iface = names[0];  // frames sent on its veth peer, names[1]
  const auto ids = program_ids(bpffs, names);
  for (auto id : ids) {
    if (id == 0) return "a chain program's pin cannot be read under " + bpffs.string();
  }
  std::vector<double> graceful, pidfile, cold, lost, skipped;
  for (int rep = 0; rep < sizes.restart_reps; ++rep) {
    if (interrupted()) return "interrupted";
    const auto a0 = chain_count(bpffs, traffic_iface, 'a');
    const auto e0 = chain_count(bpffs, traffic_iface, 'e');
    if (!a0 || !e0) return "cannot read chain_packets of " + traffic_iface;
    Sender sender(names[1]);
    if (!sender.error().empty()) return sender.error();
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    const pid_t old_pid = d.pid();
    const auto t0 = Clock::now();
    std::atomic<double> pid_ms{-1};
    std::thread watch([&] {
      const auto end = Clock::now() + std::chrono::seconds(30);
      while (Clock::now() < end) {
        std::ifstream in(d.work_dir() / "l3afd.pid");
        long v = 0;
        if (in >> v && v > 0 && v != old_pid) {
          pid_ms = ms_since(t0);
          return;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
      }
    });
    const std::string err = d.graceful_restart(version);
    const double took = ms_since(t0);
    watch.join();
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    sender.stop();
    if (!err.empty()) return "graceful restart: " + err;
    if (program_ids(bpffs, names) != ids) return "a graceful restart reloaded programs";
    graceful.push_back(took);
    pidfile.push_back(pid_ms.load());
    // Counters settle once the last frames have left the chain.
    std::optional<std::uint64_t> a1, e1;
    for (int i = 0; i < 50; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      auto a = chain_count(bpffs, traffic_iface, 'a');
      auto e = chain_count(bpffs, traffic_iface, 'e');
      if (a == a1 && e == e1) break;
      a1 = a;
      e1 = e;
    }
    if (!a1 || !e1) return "cannot read chain_packets of " + traffic_iface + " after the restart";
    const auto counted = static_cast<double>(*a1 - *a0);
    lost.push_back(static_cast<double>(sender.sent()) - counted);
    skipped.push_back(counted - static_cast<double>(*e1 - *e0));
  }
  for (int rep = 0; rep < sizes.adopt_reps; ++rep) {
    if (interrupted()) return "interrupted";
    const auto t0 = Clock::now();
    if (auto e = d.kill_and_start(); !e.empty()) return "kill and start: " + e;
    cold.push_back(ms_since(t0));
    if (program_ids(bpffs, names) != ids) return "a cold start reloaded programs";
  }
  out.rows.push_back(make_row("restart_graceful_ms", "ms", graceful, Better::Lower));
  out.rows.push_back(make_row("restart_pidfile_ms", "ms", pidfile, Better::Lower));
  out.rows.push_back(make_row("adopt_cold_start_ms", "ms", cold, Better::Lower));
  out.rows.push_back(make_row("restart_packets_lost", "packets", lost, Better::Lower));
  out.rows.push_back(make_row("restart_packets_skipped", "packets", skipped, Better::Lower));
  out.notes.push_back(
      std::to_string(names.size()) + " interfaces x " + std::to_string(links.size()) +
      " chained programs (chain-a..e) = " + std::to_string(names.size() * links.size()) +
      " programs behind " + std::to_string(names.size()) +
      " roots; every restart adopts all of them (checked: the same 100 program ids).");
  out.notes.push_back(
      "packets: paced UDP frames (bursts of 16 every 200 us) on the peer of " + traffic_iface +
      " from 200 ms before the PUT to 300 ms after the 200; lost = sent - counted by chain-a, "
      "skipped = chain-a - chain-e. Both must be 0.");
  for (double v : lost) {
    if (v != 0) return "restart_packets_lost is " + std::to_string(v) + ", not 0";
  }
  for (double v : skipped) {
    if (v != 0) return "restart_packets_skipped is " + std::to_string(v) + ", not 0";
  }
  return {};
}

}  // namespace l3afd::bench
