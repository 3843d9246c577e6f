#include "measure_programs.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>
#include <time.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>
#include <vector>

#include "daemon.h"
#include "support/packet.h"

namespace l3afd::bench {

namespace {

using Frame = std::vector<std::uint8_t>;

/// Calibration repeat and the clamp of the derived repeat (as in §4).
constexpr std::uint32_t kCalibrationRepeat = 20000;
constexpr std::uint32_t kMinRepeat = 10000;
constexpr std::uint32_t kMaxRepeat = 100000000;
/// The listed port and the rates of the two rate-limiter instances: "never reached" (the
/// program's own ceiling, 1e15 SYNs/s, far above the <= 1e8 SYNs of one sample) and "block".
constexpr std::uint16_t kPort = 8080;
constexpr std::uint64_t kHugeRate = 1000000000000000ULL;
constexpr std::size_t kFrameSize = 64;

std::string errno_text(const std::string& what, int err) {
  return what + ": " + std::strerror(err);
}

struct ObjectClose {
  void operator()(bpf_object* o) const { bpf_object__close(o); }
};
using ObjectPtr = std::unique_ptr<bpf_object, ObjectClose>;

/// One loaded object; the object owns the fds.
struct Loaded {
  ObjectPtr obj;
  int prog = -1;
};

/// Opens and loads `file` with every map unpinned (each load gets private maps; the objects
/// pin by name, which would make two loads share them) and returns its program `prog_name`.
std::optional<Loaded> load(const std::filesystem::path& file, const char* prog_name,
                           std::string& error) {
  Loaded l;
  l.obj.reset(bpf_object__open_file(file.c_str(), nullptr));
  if (!l.obj) {
    error = errno_text("open " + file.string(), errno);
    return std::nullopt;
  }
  bpf_map* m = nullptr;
  bpf_object__for_each_map(m, l.obj.get()) {
    if (!bpf_map__is_internal(m)) (void)bpf_map__set_pin_path(m, nullptr);
  }
  if (const int rc = bpf_object__load(l.obj.get()); rc != 0) {
    error = errno_text("load " + file.string(), -rc);
    return std::nullopt;
  }
  bpf_program* p = bpf_object__find_program_by_name(l.obj.get(), prog_name);
  l.prog = p != nullptr ? bpf_program__fd(p) : -1;
  if (l.prog < 0) {
    error = file.string() + ": no program " + prog_name;
    return std::nullopt;
  }
  return l;
}

int map_fd(const Loaded& l, const char* name) {
  return bpf_object__find_map_fd_by_name(l.obj.get(), name);
}

/// A ratelimiting instance configured like the daemon's map_args would: port kPort listed,
/// rl_config_map[0] = rate.
std::optional<Loaded> load_ratelimiting(const std::filesystem::path& dir, std::uint64_t rate,
                                        std::string& error) {
  auto l = load(dir / "ratelimiting.bpf.o", "_xdp_ratelimiting", error);
  if (!l) return std::nullopt;
  const std::uint32_t zero = 0;
  const std::uint16_t port = kPort;
  const std::uint8_t listed = 1;
  if (bpf_map_update_elem(map_fd(*l, "rl_ports_map"), &port, &listed, BPF_ANY) != 0 ||
      bpf_map_update_elem(map_fd(*l, "rl_config_map"), &zero, &rate, BPF_ANY) != 0) {
    error = errno_text("configure ratelimiting", errno);
    return std::nullopt;
  }
  return l;
}

std::optional<std::uint64_t> read_counter(const Loaded& l, const char* map) {
  const std::uint32_t zero = 0;
  std::uint64_t v = 0;
  if (bpf_map_lookup_elem(map_fd(l, map), &zero, &v) != 0) return std::nullopt;
  return v;
}

std::int64_t thread_cpu_ns() {
  timespec ts{};
  ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

/// One measured configuration. `rl` (null for xdp_pass_only) is the rate limiter whose
/// counters must grow by `recv_per_frame` and `drop_per_frame` times the repeat.
struct Config {
  std::string metric;
  int prog = -1;
  const Frame* frame = nullptr;
  std::uint32_t verdict = XDP_PASS;
  const Loaded* rl = nullptr;
  std::uint64_t recv_per_frame = 0;
  std::uint64_t drop_per_frame = 0;
  std::uint32_t repeat = 0;  ///< set by calibration
  std::vector<double> ns;
};

/// One BPF_PROG_TEST_RUN of c.frame `repeat` times; ns/pkt = CPU time of this thread in the
/// syscall / repeat (why CPU time and not wall time: see §4 in bench/README.md). Checks the
/// verdict of the last run and the counters.
std::optional<double> sample(const Config& c, std::uint32_t repeat, std::string& error) {
  std::optional<std::uint64_t> recv0, drop0, recv1, drop1;
  if (c.rl != nullptr) {
    recv0 = read_counter(*c.rl, "rl_recv_count_map");
    drop0 = read_counter(*c.rl, "rl_drop_count_map");
  }
  std::vector<std::uint8_t> out(c.frame->size() + 256);
  bpf_test_run_opts opts{};
  opts.sz = sizeof opts;
  opts.data_in = c.frame->data();
  opts.data_size_in = static_cast<std::uint32_t>(c.frame->size());
  opts.data_out = out.data();
  opts.data_size_out = static_cast<std::uint32_t>(out.size());
  opts.repeat = static_cast<int>(repeat);
  const std::int64_t before = thread_cpu_ns();
  const int rc = bpf_prog_test_run_opts(c.prog, &opts);
  const std::int64_t after = thread_cpu_ns();
  if (rc != 0) {
    error = c.metric + ": " + errno_text("BPF_PROG_TEST_RUN", -rc);
    return std::nullopt;
  }
  if (opts.retval != c.verdict) {
    error = c.metric + ": verdict " + std::to_string(opts.retval) + ", expected " +
            std::to_string(c.verdict);
    return std::nullopt;
  }
  if (c.rl != nullptr) {
    recv1 = read_counter(*c.rl, "rl_recv_count_map");
    drop1 = read_counter(*c.rl, "rl_drop_count_map");
    if (!recv0 || !drop0 || !recv1 || !drop1) {
      error = c.metric + ": cannot read the rate limiter's counters";
      return std::nullopt;
    }
    if (*recv1 - *recv0 != c.recv_per_frame * repeat ||
        *drop1 - *drop0 != c.drop_per_frame * repeat) {
      error = c.metric + ": counters grew by recv " + std::to_string(*recv1 - *recv0) + ", drop " +
              std::to_string(*drop1 - *drop0) + " for " + std::to_string(repeat) + " frames";
      return std::nullopt;
    }
  }
  return static_cast<double>(after - before) / repeat;
}

/// A 64-byte frame: `b` padded with payload bytes (the test frames of §4 are 64 bytes too).
Frame frame64(l3afd::testing::PacketBuilder b) {
  const std::size_t bare = b.build().size();
  return b.payload(std::vector<std::uint8_t>(kFrameSize - bare, 0)).build();
}

Row make_row(std::string metric, std::vector<double> values) {
  return bench::make_row(std::move(metric), "ns/pkt", std::move(values), Better::Lower);
}

}  // namespace

std::string measure_programs(const std::filesystem::path& objects, const ChainSizes& sizes,
                             Table& out) {
  std::string err;
  auto pass = load(objects / "bench_pass.bpf.o", "bench_pass", err);
  if (!pass) return err;
  auto open = load_ratelimiting(objects, kHugeRate, err);
  if (!open) return err;
  auto closed = load_ratelimiting(objects, 0, err);
  if (!closed) return err;

  using l3afd::testing::PacketBuilder;
  namespace flags = l3afd::testing::tcp_flags;
  const Frame udp =
      frame64(PacketBuilder().eth().ipv4("198.18.99.2", "198.18.99.1").udp(45999, kPort));
  const Frame syn = frame64(
      PacketBuilder().eth().ipv4("198.18.99.2", "198.18.99.1").tcp(45999, kPort, flags::kSyn));
  if (udp.size() != kFrameSize || syn.size() != kFrameSize) return "test frames are not 64 bytes";

  std::vector<Config> configs = {
      {"xdp_pass_only", pass->prog, &udp, XDP_PASS, nullptr, 0, 0, 0, {}},
      {"rl_udp_pass", open->prog, &udp, XDP_PASS, &*open, 0, 0, 0, {}},
      {"rl_syn_allowed", open->prog, &syn, XDP_PASS, &*open, 1, 0, 0, {}},
      {"rl_syn_dropped", closed->prog, &syn, XDP_DROP, &*closed, 1, 1, 0, {}},
  };
  for (auto& c : configs) {
    auto ns = sample(c, kCalibrationRepeat, err);
    if (!ns) return err;
    const double want = sizes.sample_ms * 1e6 / std::max(*ns, 0.1);
    c.repeat = static_cast<std::uint32_t>(
        std::clamp(want, static_cast<double>(kMinRepeat), static_cast<double>(kMaxRepeat)));
  }
  for (int round = 0; round < sizes.rounds; ++round) {
    for (std::size_t i = 0; i < configs.size(); ++i) {
      if (interrupted()) return "interrupted";
      auto& c = configs[(i + static_cast<std::size_t>(round)) % configs.size()];
      auto ns = sample(c, c.repeat, err);
      if (!ns) return err;
      c.ns.push_back(*ns);
    }
  }
  std::string repeats;
  for (auto& c : configs) {
    repeats += (repeats.empty() ? "" : ", ") + c.metric + " " + std::to_string(c.repeat);
    out.rows.push_back(make_row(c.metric, std::move(c.ns)));
  }
  out.notes.push_back(
      "ns/pkt = CPU time of the bench thread in one BPF_PROG_TEST_RUN / repeat; 64-byte "
      "Ethernet/IPv4 frames; " +
      std::to_string(sizes.rounds) + " samples per row of about " +
      std::to_string(sizes.sample_ms) + " ms (--chain-rounds, --chain-sample-ms)");
  out.notes.push_back("repeat per sample: " + repeats);
  out.notes.push_back(
      "xdp_pass_only: bench_pass (return XDP_PASS); rl_*: ratelimiting with port 8080 listed, "
      "udp_pass = UDP to 8080 (not considered), syn_allowed = SYN to 8080 at rate 1e15 (counted, "
      "accepted, empty tail call), syn_dropped = the same SYN at rate 0 (counted, dropped)");
  return {};
}

}  // namespace l3afd::bench
