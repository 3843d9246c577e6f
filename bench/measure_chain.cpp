#include "measure_chain.h"

#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/if_ether.h>
#include <linux/if_link.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netpacket/packet.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <map>
#include <memory>
#include <optional>
#include <thread>
#include <vector>

#include "daemon.h"
#include "support/netns.h"
#include "test_run.h"

namespace l3afd::bench {

namespace {

using Clock = std::chrono::steady_clock;

/// Chain lengths of the test-run table, and the subset also run under veth traffic.
constexpr std::array<int, 5> kChainLengths = {1, 2, 4, 8, 16};
constexpr std::array<int, 2> kTrafficLengths = {4, 16};
/// Longest chain built; equals BENCH_MAX_REPEAT of bpf/bench_chain_work.bpf.c (the inline
/// program's loop bound). 16 programs + the root stay well under the kernel's 33 tail calls.
constexpr int kMaxChain = 16;
constexpr std::uint16_t kUdpPort = 45999;
constexpr std::size_t kFrameSize = 64;
using Frame = std::array<std::uint8_t, kFrameSize>;

/// Repeat of the calibration run of each test-run configuration and the clamp of the repeat
/// derived from it (so that a sample takes about ChainSizes::sample_ms).
constexpr std::uint32_t kCalibrationRepeat = 20000;
constexpr std::uint32_t kMinRepeat = 10000;
constexpr std::uint32_t kMaxRepeat = 100000000;
/// Unrecorded sending before each veth run (lets NAPI and caches settle after an attach) and
/// the wait after it before the counters are read (frames still in the veth ring).
constexpr auto kTrafficWarmup = std::chrono::milliseconds(100);
constexpr auto kTrafficDrain = std::chrono::milliseconds(30);
/// Upper bound on frames sent per second of a veth run (far above what 2 cores can send).
constexpr std::uint64_t kMaxFramesPerSecond = 20000000;

std::string errno_text(const std::string& what, int err) {
  return what + ": " + std::strerror(err);
}

struct ObjectClose {
  void operator()(bpf_object* o) const { bpf_object__close(o); }
};
using ObjectPtr = std::unique_ptr<bpf_object, ObjectClose>;

/// A file descriptor closed by the destructor.
class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

/// One loaded program. The object owns every fd below and closes them with it.
struct Loaded {
  ObjectPtr obj;
  int prog = -1;
  int next = -1;    ///< the program's slot-0 PROG_ARRAY
  int counts = -1;  ///< bench_counts (PERCPU_ARRAY); -1 for xdp_root, which has none
};

/// Opens `file` and loads only its program `prog_name`. No map is pinned: xdp_root's array is
/// LIBBPF_PIN_BY_NAME, and pinning would make every load share it. `repeat` > 0 sets
/// bench_repeat, which is the whole 4-byte .rodata of bench_chain_work.bpf.o (its contract).
/// `counts_map` may be null.
std::optional<Loaded> load(const std::filesystem::path& file, const char* prog_name,
                           const char* next_map, const char* counts_map, std::uint32_t repeat,
                           std::string& error) {
  const std::string what = file.filename().string() + " (" + prog_name + ")";
  Loaded l;
  l.obj.reset(bpf_object__open_file(file.c_str(), nullptr));
  if (!l.obj) {
    error = errno_text("open " + file.string(), errno);
    return std::nullopt;
  }
  bpf_program* wanted = nullptr;
  bpf_program* p = nullptr;
  bpf_object__for_each_program(p, l.obj.get()) {
    const bool is_wanted = std::strcmp(bpf_program__name(p), prog_name) == 0;
    if (is_wanted) wanted = p;
    bpf_program__set_autoload(p, is_wanted);
  }
  if (wanted == nullptr) {
    error = what + ": no such program";
    return std::nullopt;
  }
  bool rodata_set = false;
  bpf_map* m = nullptr;
  bpf_object__for_each_map(m, l.obj.get()) {
    const std::string_view name = bpf_map__name(m);
    if (!bpf_map__is_internal(m)) {
      (void)bpf_map__set_pin_path(m, nullptr);
    } else if (repeat > 0 && name.ends_with(".rodata")) {
      if (bpf_map__set_initial_value(m, &repeat, sizeof repeat) != 0) {
        error = what + ": .rodata is not the single __u32 bench_repeat";
        return std::nullopt;
      }
      rodata_set = true;
    }
  }
  if (repeat > 0 && !rodata_set) {
    error = what + ": no .rodata to set bench_repeat in";
    return std::nullopt;
  }
  if (const int rc = bpf_object__load(l.obj.get()); rc != 0) {
    error = errno_text("load " + what, -rc);
    return std::nullopt;
  }
  l.prog = bpf_program__fd(wanted);
  l.next = bpf_object__find_map_fd_by_name(l.obj.get(), next_map);
  if (counts_map != nullptr) l.counts = bpf_object__find_map_fd_by_name(l.obj.get(), counts_map);
  if (l.prog < 0 || l.next < 0 || (counts_map != nullptr && l.counts < 0)) {
    error = what + ": program or map missing after load";
    return std::nullopt;
  }
  return l;
}

/// Every program the bench uses, loaded once. `elems[i]` is chain position i + 1.
struct Programs {
  Loaded root;
  std::vector<Loaded> elems;
  std::map<int, Loaded> inline_n;  ///< by repeat
  Loaded single;
};

std::string load_all(const std::filesystem::path& dir, Programs& p) {
  std::string err;
  const auto work = dir / "bench_chain_work.bpf.o";
  auto one = [&](const std::filesystem::path& f, const char* prog, const char* next,
                 const char* counts, std::uint32_t repeat, Loaded& into) {
    auto l = load(f, prog, next, counts, repeat, err);
    if (l) into = std::move(*l);
    return l.has_value();
  };
  if (!one(dir / "xdp_root.bpf.o", "xdp_root", "xdp_root_array", nullptr, 0, p.root)) return err;
  p.elems.resize(kMaxChain);
  for (auto& e : p.elems) {
    if (!one(work, "bench_chain_work", "bench_next", "bench_counts", 0, e)) return err;
  }
  if (!one(work, "bench_chain_work", "bench_next", "bench_counts", 0, p.single)) return err;
  for (int n : kChainLengths) {
    if (!one(work, "bench_inline_work", "bench_next", "bench_counts", static_cast<std::uint32_t>(n),
             p.inline_n[n])) {
      return err;
    }
  }
  return {};
}

std::string set_slot(int array, int prog) {
  const std::uint32_t key = 0;
  const auto value = static_cast<std::uint32_t>(prog);
  if (const int rc = bpf_map_update_elem(array, &key, &value, BPF_ANY); rc != 0) {
    return errno_text("prog array update", -rc);
  }
  return {};
}

std::string clear_slot(int array) {
  const std::uint32_t key = 0;
  if (const int rc = bpf_map_delete_elem(array, &key); rc != 0 && rc != -ENOENT) {
    return errno_text("prog array delete", -rc);
  }
  return {};
}

/// Links root -> elems[0] -> … -> elems[n-1] and empties the last slot, so the chain ends there.
std::string wire_chain(const Programs& p, int n) {
  if (auto e = set_slot(p.root.next, p.elems[0].prog); !e.empty()) return e;
  for (int i = 0; i + 1 < n; ++i) {
    const auto k = static_cast<std::size_t>(i);
    if (auto e = set_slot(p.elems[k].next, p.elems[k + 1].prog); !e.empty()) return e;
  }
  return clear_slot(p.elems[static_cast<std::size_t>(n - 1)].next);
}

/// bench_counts summed over all possible CPUs (layout: struct bench_count of the BPF source).
struct Counts {
  std::uint64_t packets = 0;
  std::uint64_t ipv4_udp = 0;
};

std::optional<Counts> read_counts(int map) {
  static const int cpus = libbpf_num_possible_cpus();
  if (cpus <= 0) return std::nullopt;
  std::vector<Counts> per_cpu(static_cast<std::size_t>(cpus));
  const std::uint32_t key = 0;
  if (bpf_map_lookup_elem(map, &key, per_cpu.data()) != 0) return std::nullopt;
  Counts sum;
  for (const auto& c : per_cpu) {
    sum.packets += c.packets;
    sum.ipv4_udp += c.ipv4_udp;
  }
  return sum;
}

/// A 64-byte Ethernet + IPv4 (DF, TTL 64, valid header checksum) + UDP (checksum 0, allowed in
/// IPv4) frame with a 22-byte payload. Addresses in network byte order.
Frame make_frame(const std::uint8_t (&dst_mac)[6], const std::uint8_t (&src_mac)[6], in_addr src,
                 in_addr dst) {
  Frame f{};
  std::memcpy(&f[0], dst_mac, 6);
  std::memcpy(&f[6], src_mac, 6);
  f[12] = 0x08;  // ETH_P_IP
  f[13] = 0x00;
  std::uint8_t* ip = &f[14];
  const std::uint16_t ip_len = kFrameSize - 14;
  ip[0] = 0x45;
  ip[2] = static_cast<std::uint8_t>(ip_len >> 8);
  ip[3] = static_cast<std::uint8_t>(ip_len & 0xff);
  ip[6] = 0x40;  // DF
  ip[8] = 64;
  ip[9] = IPPROTO_UDP;
  std::memcpy(&ip[12], &src.s_addr, 4);
  std::memcpy(&ip[16], &dst.s_addr, 4);
  std::uint32_t sum = 0;
  for (int i = 0; i < 20; i += 2) sum += static_cast<std::uint32_t>(ip[i] << 8 | ip[i + 1]);
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  const auto csum = static_cast<std::uint16_t>(~sum);
  ip[10] = static_cast<std::uint8_t>(csum >> 8);
  ip[11] = static_cast<std::uint8_t>(csum & 0xff);
  std::uint8_t* udp = ip + 20;
  const std::uint16_t udp_len = ip_len - 20;
  for (int i : {0, 2}) {
    udp[i] = static_cast<std::uint8_t>(kUdpPort >> 8);
    udp[i + 1] = static_cast<std::uint8_t>(kUdpPort & 0xff);
  }
  udp[4] = static_cast<std::uint8_t>(udp_len >> 8);
  udp[5] = static_cast<std::uint8_t>(udp_len & 0xff);
  const char payload[] = "l3afd chain bench";
  std::memcpy(udp + 8, payload, sizeof payload);
  return f;
}

enum class Kind { Single, Chain, Inline };

/// One test-run configuration: what runs (`prog`), after which wiring, and the counter of the
/// program that runs last, which must count every frame (`per_frame` times for the inline one).
struct Config {
  std::string metric;
  Kind kind = Kind::Single;
  int n = 1;
  int prog = -1;
  int last_counts = -1;
  std::uint32_t repeat = 0;  ///< set by calibration
  std::vector<double> ns;
  std::vector<double> kernel_ns;
};

/// Runs `c` once with `repeat` and checks that the last program saw every frame as IPv4/UDP.
std::optional<TestRun> sample(const Programs& p, const Config& c, const Frame& frame,
                              std::uint32_t repeat, std::string& error) {
  if (c.kind == Kind::Chain) {
    if (error = wire_chain(p, c.n); !error.empty()) return std::nullopt;
  }
  const auto before = read_counts(c.last_counts);
  auto r = xdp_test_run(c.prog, frame, repeat, error);
  const auto after = read_counts(c.last_counts);
  if (!r) {
    error = c.metric + ": " + error;
    return std::nullopt;
  }
  const std::uint64_t expected =
      static_cast<std::uint64_t>(repeat) * (c.kind == Kind::Inline ? c.n : 1);
  if (!before || !after || after->packets - before->packets != expected ||
      after->ipv4_udp - before->ipv4_udp != expected) {
    error = c.metric + ": the last program did not count every frame as IPv4/UDP (expected " +
            std::to_string(expected) + ")";
    return std::nullopt;
  }
  return r;
}

std::string fmt(double v, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

/// Least-squares slope of y over x (same length, at least two distinct x).
double slope(const std::vector<double>& x, const std::vector<double>& y) {
  double mx = 0, my = 0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    mx += x[i];
    my += y[i];
  }
  mx /= static_cast<double>(x.size());
  my /= static_cast<double>(x.size());
  double sxy = 0, sxx = 0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    sxy += (x[i] - mx) * (y[i] - my);
    sxx += (x[i] - mx) * (x[i] - mx);
  }
  return sxy / sxx;
}

std::string measure_testrun(const Programs& p, const ChainSizes& sizes, Table& out) {
  // The test-run frame needs no real addresses: nothing leaves the kernel.
  const std::uint8_t dst_mac[6] = {0x02, 0, 0, 0, 0, 2};
  const std::uint8_t src_mac[6] = {0x02, 0, 0, 0, 0, 1};
  in_addr src{}, dst{};
  ::inet_pton(AF_INET, "198.18.99.2", &src);
  ::inet_pton(AF_INET, "198.18.99.1", &dst);
  const Frame frame = make_frame(dst_mac, src_mac, src, dst);

  std::vector<Config> configs;
  auto add = [&](std::string metric, Kind kind, int n, const Loaded& prog, const Loaded& last) {
    Config c;
    c.metric = std::move(metric);
    c.kind = kind;
    c.n = n;
    c.prog = prog.prog;
    c.last_counts = last.counts;
    configs.push_back(std::move(c));
  };
  add("single_testrun", Kind::Single, 1, p.single, p.single);
  for (int n : kChainLengths) {
    const auto& in = p.inline_n.at(n);
    add("chain_testrun_n" + std::to_string(n), Kind::Chain, n, p.root,
        p.elems[static_cast<std::size_t>(n - 1)]);
    add("inline_testrun_n" + std::to_string(n), Kind::Inline, n, in, in);
  }
  std::string err;
  for (auto& c : configs) {
    auto r = sample(p, c, frame, kCalibrationRepeat, err);
    if (!r) return err;
    const double want = sizes.sample_ms * 1e6 / std::max(r->ns_per_pkt, 0.1);
    c.repeat = static_cast<std::uint32_t>(
        std::clamp(want, static_cast<double>(kMinRepeat), static_cast<double>(kMaxRepeat)));
  }
  // Round-robin with a rotating start, so that slow phases of the shared machine spread over
  // all configurations instead of hitting one of them.
  for (int round = 0; round < sizes.rounds; ++round) {
    for (std::size_t i = 0; i < configs.size(); ++i) {
      if (interrupted()) return "interrupted";
      auto& c = configs[(i + static_cast<std::size_t>(round)) % configs.size()];
      auto r = sample(p, c, frame, c.repeat, err);
      if (!r) return err;
      c.ns.push_back(r->ns_per_pkt);
      c.kernel_ns.push_back(r->kernel_ns);
    }
  }

  auto find = [&](const std::string& metric) -> const Config& {
    return *std::find_if(configs.begin(), configs.end(),
                         [&](const Config& c) { return c.metric == metric; });
  };
  const auto rounds = static_cast<std::size_t>(sizes.rounds);
  out.rows.push_back(
      make_row("single_testrun", "ns/pkt", find("single_testrun").ns, Better::Lower));
  std::vector<std::vector<double>> diff_by_round(rounds);  // chain_N - inline_N, per round
  std::vector<double> xs;
  for (int n : kChainLengths) {
    const auto& chain = find("chain_testrun_n" + std::to_string(n));
    const auto& in = find("inline_testrun_n" + std::to_string(n));
    out.rows.push_back(make_row(chain.metric, "ns/pkt", chain.ns, Better::Lower));
    out.rows.push_back(make_row(in.metric, "ns/pkt", in.ns, Better::Lower));
    std::vector<double> per_prog;
    for (std::size_t r = 0; r < rounds; ++r) {
      per_prog.push_back((chain.ns[r] - in.ns[r]) / n);
      diff_by_round[r].push_back(chain.ns[r] - in.ns[r]);
    }
    xs.push_back(n);
    out.rows.push_back(
        make_row("chain_overhead_n" + std::to_string(n), "ns", per_prog, Better::Lower));
  }
  std::vector<double> slopes;
  for (const auto& d : diff_by_round) slopes.push_back(slope(xs, d));
  out.rows.push_back(make_row("chain_overhead_per_prog", "ns", slopes, Better::Lower));

  std::string repeats;
  for (const auto& c : configs) {
    if (!repeats.empty()) repeats += ", ";
    repeats += c.metric.substr(0, c.metric.find("_testrun")) +
               c.metric.substr(c.metric.find("_testrun") + 8) + " " + std::to_string(c.repeat);
  }
  out.notes.push_back(
      "ns/pkt = CPU time of the bench thread in one BPF_PROG_TEST_RUN / repeat; "
      "one 64-byte UDP/IPv4 frame; " +
      std::to_string(sizes.rounds) + " samples per row of about " +
      std::to_string(sizes.sample_ms) + " ms");
  out.notes.push_back("repeat per sample: " + repeats);
  out.notes.push_back(
      "chain_testrun_nN: xdp_root -> N x bench_chain_work (N tail calls); inline_testrun_nN: "
      "one program doing the same work N times; single_testrun: one bench_chain_work, no root");
  out.notes.push_back(
      "chain_overhead_nN = (chain_N - inline_N) / N per round = cost of one tail call into the "
      "next program; chain_overhead_per_prog = least-squares slope of (chain_N - inline_N) over "
      "N = 1..16 per round");
  out.notes.push_back("kernel-reported ns/pkt (integer, rounded down), medians: single " +
                      fmt(summarize(find("single_testrun").kernel_ns).median, 0) + ", chain_n16 " +
                      fmt(summarize(find("chain_testrun_n16").kernel_ns).median, 0) +
                      ", inline_n16 " +
                      fmt(summarize(find("inline_testrun_n16").kernel_ns).median, 0));
  return {};
}

/// The program attached to one interface's XDP hook, detached by the destructor. The first
/// attach tries native (driver) mode and falls back to generic (skb) mode; later attaches
/// replace the program in the same mode.
class XdpAttachment {
 public:
  explicit XdpAttachment(int ifindex) : ifindex_(ifindex) {}
  ~XdpAttachment() {
    if (flags_ != 0) (void)bpf_xdp_detach(ifindex_, flags_, nullptr);
  }
  XdpAttachment(const XdpAttachment&) = delete;
  XdpAttachment& operator=(const XdpAttachment&) = delete;

  std::string attach(int prog) {
    if (flags_ != 0) {
      const int rc = bpf_xdp_attach(ifindex_, prog, flags_, nullptr);
      return rc == 0 ? std::string() : errno_text("bpf_xdp_attach", -rc);
    }
    const int native = bpf_xdp_attach(ifindex_, prog, XDP_FLAGS_DRV_MODE, nullptr);
    if (native == 0) {
      flags_ = XDP_FLAGS_DRV_MODE;
      return {};
    }
    const int generic = bpf_xdp_attach(ifindex_, prog, XDP_FLAGS_SKB_MODE, nullptr);
    if (generic == 0) {
      flags_ = XDP_FLAGS_SKB_MODE;
      native_error_ = std::strerror(-native);
      return {};
    }
    return "bpf_xdp_attach: native " + std::string(std::strerror(-native)) + ", generic " +
           std::strerror(-generic);
  }
  std::string mode() const {
    if (flags_ == XDP_FLAGS_DRV_MODE) return "native";
    return "generic (native attach failed: " + native_error_ + ")";
  }

 private:
  int ifindex_;
  std::uint32_t flags_ = 0;
  std::string native_error_;
};

/// Sends `frame` on the packet socket `tx` in batches until `duration` has passed or `max`
/// frames went out; returns how many the socket accepted. A full veth ring makes sendmmsg fail
/// with ENOBUFS/EAGAIN (non-blocking), which is retried until the deadline.
std::uint64_t send_for(int tx, const Frame& frame, Clock::duration duration, std::uint64_t max) {
  constexpr std::size_t kBatch = 64;
  Frame buf = frame;  // iovec wants a mutable pointer
  std::array<iovec, kBatch> iov{};
  std::array<mmsghdr, kBatch> msgs{};
  for (std::size_t i = 0; i < kBatch; ++i) {
    iov[i] = {buf.data(), buf.size()};
    msgs[i].msg_hdr.msg_iov = &iov[i];
    msgs[i].msg_hdr.msg_iovlen = 1;
  }
  const auto end = Clock::now() + duration;
  std::uint64_t sent = 0;
  while (sent < max && Clock::now() < end) {
    const int n = ::sendmmsg(tx, msgs.data(), kBatch, MSG_DONTWAIT);
    if (n > 0) sent += static_cast<std::uint64_t>(n);
  }
  return sent;
}

struct TrafficConfig {
  std::string metric;
  int n;  ///< 0 = the single program
  int prog;
  int last_counts;
  std::vector<double> pps;
  std::vector<double> sent_pps;
};

/// Reads `ifr_name`'s index and MAC through `fd`'s network namespace.
std::string iface_info(int fd, const std::string& name, int& index, std::uint8_t (&mac)[6]) {
  ifreq ifr{};
  std::snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", name.c_str());
  if (::ioctl(fd, SIOCGIFINDEX, &ifr) != 0) return errno_text("SIOCGIFINDEX " + name, errno);
  index = ifr.ifr_ifindex;
  if (::ioctl(fd, SIOCGIFHWADDR, &ifr) != 0) return errno_text("SIOCGIFHWADDR " + name, errno);
  std::memcpy(mac, ifr.ifr_hwaddr.sa_data, 6);
  return {};
}

std::string measure_traffic(const Programs& p, const ChainSizes& sizes, Table& out) {
  // Declared first so that it is destroyed last: the attachment and the sockets go before it.
  testing::VethPair veth;
  if (!veth.error().empty()) return "veth pair: " + veth.error();
  in_addr root_addr{}, peer_addr{};
  ::inet_pton(AF_INET, veth.root_addr().c_str(), &root_addr);
  ::inet_pton(AF_INET, veth.peer_addr().c_str(), &peer_addr);

  // The receiving socket is never read: frames that pass XDP end there (dropped once its buffer
  // is full) instead of provoking ICMP port-unreachable replies towards the sender.
  Fd sink(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  sockaddr_in sink_addr{};
  sink_addr.sin_family = AF_INET;
  sink_addr.sin_port = htons(kUdpPort);
  sink_addr.sin_addr = root_addr;
  if (sink.get() < 0 ||
      ::bind(sink.get(), reinterpret_cast<sockaddr*>(&sink_addr), sizeof sink_addr) != 0) {
    return errno_text("UDP sink socket", errno);
  }
  int root_index = 0;
  std::uint8_t root_mac[6];
  if (auto e = iface_info(sink.get(), veth.root_name(), root_index, root_mac); !e.empty()) return e;

  // Packet socket in the peer namespace (protocol 0: it sends, never receives), bypassing the
  // qdisc so that the sender's own cost stays small next to the receive path.
  Fd tx(veth.peer_ns().socket_in(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0));
  if (tx.get() < 0) return errno_text("packet socket in " + veth.peer_ns().name(), errno);
  int peer_index = 0;
  std::uint8_t peer_mac[6];
  if (auto e = iface_info(tx.get(), veth.peer_name(), peer_index, peer_mac); !e.empty()) return e;
  sockaddr_ll ll{};
  ll.sll_family = AF_PACKET;
  ll.sll_protocol = 0;
  ll.sll_ifindex = peer_index;
  const int one = 1;
  if (::bind(tx.get(), reinterpret_cast<sockaddr*>(&ll), sizeof ll) != 0 ||
      ::setsockopt(tx.get(), SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof one) != 0) {
    return errno_text("packet socket setup", errno);
  }
  const Frame frame = make_frame(root_mac, peer_mac, peer_addr, root_addr);

  std::vector<TrafficConfig> configs;
  configs.push_back({"single_pps", 0, p.single.prog, p.single.counts, {}, {}});
  for (int n : kTrafficLengths) {
    configs.push_back({"chain_pps_n" + std::to_string(n),
                       n,
                       p.root.prog,
                       p.elems[static_cast<std::size_t>(n - 1)].counts,
                       {},
                       {}});
  }
  XdpAttachment xdp(root_index);
  const auto run_time = std::chrono::milliseconds(sizes.traffic_ms);
  const std::uint64_t max_frames =
      kMaxFramesPerSecond * static_cast<std::uint64_t>(sizes.traffic_ms) / 1000 + 1000;
  std::string err;
  for (int round = 0; round < sizes.traffic_rounds; ++round) {
    for (std::size_t i = 0; i < configs.size(); ++i) {
      if (interrupted()) return "interrupted";
      auto& c = configs[(i + static_cast<std::size_t>(round)) % configs.size()];
      if (c.n > 0) {
        if (err = wire_chain(p, c.n); !err.empty()) return err;
      }
      if (err = xdp.attach(c.prog); !err.empty()) return c.metric + ": " + err;
      (void)send_for(tx.get(), frame, kTrafficWarmup, max_frames);
      const auto before = read_counts(c.last_counts);
      const auto t0 = Clock::now();
      const std::uint64_t sent = send_for(tx.get(), frame, run_time, max_frames);
      const double secs = std::chrono::duration<double>(Clock::now() - t0).count();
      std::this_thread::sleep_for(kTrafficDrain);
      const auto after = read_counts(c.last_counts);
      if (!before || !after) return c.metric + ": cannot read bench_counts";
      if (after->packets == before->packets) {
        return c.metric + ": no frame reached the last program (XDP " + xdp.mode() + ", " +
               std::to_string(sent) + " sent)";
      }
      c.pps.push_back(static_cast<double>(after->packets - before->packets) / secs);
      c.sent_pps.push_back(static_cast<double>(sent) / secs);
    }
  }

  const auto& single = configs[0];
  out.rows.push_back(make_row("single_pps", "pps", single.pps, Better::Higher));
  std::string sent_note;
  for (const auto& c : configs) {
    if (c.n > 0) {
      out.rows.push_back(make_row(c.metric, "pps", c.pps, Better::Higher));
      std::vector<double> ratio;
      for (std::size_t r = 0; r < c.pps.size(); ++r) ratio.push_back(c.pps[r] / single.pps[r]);
      out.rows.push_back(
          make_row("chain_pps_ratio_n" + std::to_string(c.n), "x", ratio, Better::Higher));
    }
    sent_note +=
        (sent_note.empty() ? "" : ", ") + c.metric + " " + fmt(summarize(c.sent_pps).median, 0);
  }
  out.notes.push_back("XDP mode: " + xdp.mode() + ", on " + veth.root_name() + " (" +
                      veth.root_addr() + "), sender: packet socket on " + veth.peer_name() +
                      " in namespace " + veth.peer_ns().name() + ", 64-byte UDP/IPv4 frames");
  out.notes.push_back("pps = frames counted by the last program / sending time (" +
                      std::to_string(sizes.traffic_ms) + " ms per run, " +
                      std::to_string(sizes.traffic_rounds) +
                      " rounds of single, chain n4, chain n16 with a rotating start)");
  out.notes.push_back(
      "chain_pps_ratio_nN = chain_N pps / single pps of the same round; frames "
      "accepted by the sender socket, median pps: " +
      sent_note);
  return {};
}

}  // namespace

std::string measure_chain(const std::filesystem::path& objects, const ChainSizes& sizes,
                          Table& testrun, Table& traffic) {
  Programs p;
  if (auto e = load_all(objects, p); !e.empty()) return e;
  std::fputs("bench: 4. chain cost (BPF_PROG_TEST_RUN)\n", stderr);
  if (auto e = measure_testrun(p, sizes, testrun); !e.empty()) return e;
  std::fputs("bench: 5. chain under veth traffic\n", stderr);
  return measure_traffic(p, sizes, traffic);
}

}  // namespace l3afd::bench
