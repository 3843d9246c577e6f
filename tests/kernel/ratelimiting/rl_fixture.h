// Fixture of the ratelimiting verdict tests: loads bpf/ratelimiting.bpf.o through l3afd's own
// libbpf adapter into a private pin base (removed after each test), configures it with the
// daemon's map_args encoding (configure_maps) and runs the pinned program on frames with
// BPF_PROG_TEST_RUN. The process runs in private namespaces with a private bpffs (tests/support/private_namespaces_env.cpp).
#pragma once

#include <bpf/bpf.h>
#include <gtest/gtest.h>
#include <linux/bpf.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "core/unique_fd.h"
#include "kernel/libbpf/libbpf_kernel.h"
#include "support/packet.h"

namespace l3afd::kernel::libbpf::rl {

namespace fs = std::filesystem;
using Frame = std::vector<uint8_t>;
using l3afd::testing::PacketBuilder;
namespace flags = l3afd::testing::tcp_flags;

inline const fs::path kObjectDir = L3AFD_BPF_OBJECT_DIR;
inline constexpr const char* kKey = "rl";
inline constexpr const char* kNextArray = "xdp_rl_ingress_next_prog";
inline constexpr uint16_t kPort = 8080;   ///< the listed port of most tests
inline constexpr uint16_t kOther = 8081;  ///< never listed
inline constexpr uint64_t kNsPerSec = 1000000000ULL;
/// Verdict of a frame the test-run harness refused (it needs at least an Ethernet header).
inline constexpr int kRefused = -1;

/// A TCP segment from 198.18.0.2:40000 to 198.18.0.1:`dport` with `tcp_flags`.
inline PacketBuilder tcp4(uint16_t dport = kPort, uint8_t tcp_flags = flags::kSyn) {
  PacketBuilder b;
  b.eth().ipv4("198.18.0.2", "198.18.0.1").tcp(40000, dport, tcp_flags);
  return b;
}
/// The same over IPv6 (2001:db8::/32, documentation prefix; nothing leaves the kernel).
inline PacketBuilder tcp6(uint16_t dport = kPort, uint8_t tcp_flags = flags::kSyn) {
  PacketBuilder b;
  b.eth().ipv6("2001:db8::2", "2001:db8::1").tcp(40000, dport, tcp_flags);
  return b;
}

class RateLimitTest : public ::testing::Test {
 protected:
  void SetUp() override {
    base_ = "/sys/fs/bpf/l3afd-rl-test-" + std::to_string(::getpid());
    fs::create_directories(base_);
    kernel_ = std::make_unique<LibbpfKernel>();
    spec_ = {kKey,
             kObjectDir / "ratelimiting.bpf.o",
             "_xdp_ratelimiting",
             model::Hook::XdpIngress,
             base_ / "eth0" / "ratelimiting" / "1_0",
             base_ / "progs" / "eth0" / "ratelimiting" / "1_0" / "_xdp_ratelimiting_xdp",
             kNextArray};
    auto loaded = kernel_->load(spec_);
    ASSERT_TRUE(loaded) << loaded.error().to_string();
    loaded_ = *loaded;
    prog_ = UniqueFd(bpf_obj_get(spec_.prog_pin_path.c_str()));
    ASSERT_TRUE(prog_.valid()) << spec_.prog_pin_path << " errno " << errno;
    windows_fd_ = UniqueFd(bpf_obj_get((spec_.map_pin_dir / "rl_window_map").c_str()));
    ASSERT_TRUE(windows_fd_.valid()) << "rl_window_map is pinned by name";
  }
  void TearDown() override {
    prog_ = UniqueFd(-1);
    windows_fd_ = UniqueFd(-1);
    kernel_.reset();  // closes the adapter's fds; the pins go with the base
    std::error_code ec;
    fs::remove_all(base_, ec);
  }

  /// Writes the rate and the listed ports the way the daemon applies map_args (the port set is
  /// replaced: unlisted ports are pruned from the hash map), and the monitor entries.
  void configure(int64_t rate, const std::vector<int64_t>& ports) {
    std::vector<model::KeyValue> port_args;
    for (int64_t p : ports) port_args.push_back({p, 1});
    const std::vector<model::MapArg> args = {
        {"rl_ports_map", port_args}, {"rl_config_map", std::vector<model::KeyValue>{{0, rate}}}};
    const std::vector<model::MonitorMap> monitor = {{"rl_recv_count_map", 0, "scalar"},
                                                    {"rl_drop_count_map", 0, "scalar"}};
    auto s = kernel_->configure_maps(kKey, args, monitor);
    ASSERT_TRUE(s) << s.error().to_string();
  }

  /// Runs the pinned program once on `frame`: its verdict, or kRefused when the test-run
  /// harness rejects the frame (EINVAL, shorter than an Ethernet header).
  int run(const Frame& frame) {
    std::vector<uint8_t> out(frame.size() + 256);
    LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = frame.data(), .data_out = out.data(),
                .data_size_in = static_cast<uint32_t>(frame.size()),
                .data_size_out = static_cast<uint32_t>(out.size()), .repeat = 1);
    if (bpf_prog_test_run_opts(prog_.get(), &opts) != 0) {
      EXPECT_EQ(errno, EINVAL) << "frame of " << frame.size() << " bytes";
      return kRefused;
    }
    return static_cast<int>(opts.retval);
  }

  uint64_t read(const std::string& key, const std::string& map) {
    auto v = kernel_->read_map_value(key, map, 0);
    EXPECT_TRUE(v.has_value()) << (v ? "" : v.error().to_string());
    return v ? *v : 0;
  }
  uint64_t recv() { return read(kKey, "rl_recv_count_map"); }
  uint64_t drops() { return read(kKey, "rl_drop_count_map"); }

  /// Every rl_window_map entry: window start (ns) -> accepted SYNs.
  std::map<uint64_t, uint64_t> windows() const {
    std::map<uint64_t, uint64_t> out;
    uint64_t key = 0;
    const void* prev = nullptr;
    for (int i = 0; i < 2000 && bpf_map_get_next_key(windows_fd_.get(), prev, &key) == 0; ++i) {
      uint64_t value = 0;
      if (bpf_map_lookup_elem(windows_fd_.get(), &key, &value) == 0) out[key] = value;
      prev = &key;
    }
    return out;
  }
  void set_window(uint64_t start, uint64_t accepted) {
    ASSERT_EQ(bpf_map_update_elem(windows_fd_.get(), &start, &accepted, BPF_ANY), 0) << errno;
  }

  /// Forgets every window and zeroes both counters (map_args on the ARRAY counters).
  void reset_state() {
    for (const auto& [start, accepted] : windows()) {
      ASSERT_EQ(bpf_map_delete_elem(windows_fd_.get(), &start), 0) << errno;
    }
    ASSERT_TRUE(windows().empty());
    const std::vector<model::KeyValue> zero = {{0, 0}};
    auto s = kernel_->configure_maps(
        kKey, {{"rl_recv_count_map", zero}, {"rl_drop_count_map", zero}}, {});
    ASSERT_TRUE(s) << s.error().to_string();
  }

  /// CLOCK_MONOTONIC, the clock of bpf_ktime_get_ns().
  static uint64_t monotonic_ns() {
    timespec ts{};
    ::clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<uint64_t>(ts.tv_sec) * kNsPerSec + static_cast<uint64_t>(ts.tv_nsec);
  }
  /// Sleeps into the next aligned second when the current one has less than 200 ms left, so
  /// that a short burst most likely stays in one window (not relied upon: callers check).
  static void avoid_window_end() {
    const uint64_t into = monotonic_ns() % kNsPerSec;
    if (into > 800'000'000ULL) {
      std::this_thread::sleep_for(std::chrono::nanoseconds(kNsPerSec - into + 1'000'000));
    }
  }

  /// What one burst of frames did.
  struct Burst {
    std::vector<int> verdicts;
    uint64_t recv = 0;
    uint64_t drops = 0;
    std::map<uint64_t, uint64_t> windows;
    uint64_t extra = 0;  ///< growth of `extra_counter` during the burst
  };

  /// Runs `frames` in order from a fresh limiter state (no window, counters 0) such that every
  /// considered SYN falls into one aligned window with no previous window: the fixed-window
  /// rule applies exactly. A burst that crossed a window boundary is repeated (at most 5
  /// attempts; each takes microseconds, so a second attempt is already rare). Fails the test
  /// if no attempt stayed in one window. `extra_counter`, if set, is read before and after.
  Burst one_window_burst(const std::vector<Frame>& frames,
                         const std::function<uint64_t()>& extra_counter = {}) {
    Burst b;
    for (int attempt = 0; attempt < 5; ++attempt) {
      reset_state();
      avoid_window_end();
      const uint64_t extra_before = extra_counter ? extra_counter() : 0;
      b.verdicts.clear();
      for (const auto& f : frames) b.verdicts.push_back(run(f));
      b.recv = recv();
      b.drops = drops();
      b.extra = extra_counter ? extra_counter() - extra_before : 0;
      b.windows = windows();
      if (b.windows.size() <= 1) return b;
    }
    ADD_FAILURE() << "every attempt crossed a window boundary";
    return b;
  }

  fs::path base_;
  std::unique_ptr<LibbpfKernel> kernel_;
  LoadSpec spec_;
  LoadedObject loaded_;
  UniqueFd prog_{-1};
  UniqueFd windows_fd_{-1};
};

}  // namespace l3afd::kernel::libbpf::rl
