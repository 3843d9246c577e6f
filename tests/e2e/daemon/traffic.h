// Traffic and counters shared by the e2e tests that prove data-path claims with packets
// (chain_test.cpp, companion_test.cpp, dashboards_test.cpp). Test-only.
#pragma once

#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <optional>
#include <thread>
#include <vector>

#include "core/unique_fd.h"
#include "support/netns.h"
#include "support/packet.h"

namespace l3afd::e2e {

namespace fs = std::filesystem;

/// Non-blocking TCP connect from the peer namespace of `v` to its root address, `port`; true
/// (and the connected socket in `out`) if it completed within `wait_ms`. A SYN dropped by XDP is
/// retransmitted and dropped again, so it never completes.
inline bool try_connect(const testing::VethPair& v, uint16_t port, UniqueFd& out, int wait_ms) {
  UniqueFd c(v.peer_ns().socket_in(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!c) return false;
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  ::inet_pton(AF_INET, v.root_addr().c_str(), &a.sin_addr);
  if (::connect(c.get(), reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0 && errno != EINPROGRESS) {
    return false;
  }
  pollfd p{c.get(), POLLOUT, 0};
  if (::poll(&p, 1, wait_ms) != 1) return false;
  int err = 0;
  socklen_t len = sizeof(err);
  if (::getsockopt(c.get(), SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err != 0) return false;
  out = std::move(c);
  return true;
}

/// Sum over CPUs of key 0 of the per-CPU counter pinned at `pin`; nullopt if unreadable.
inline std::optional<uint64_t> percpu_counter(const fs::path& pin) {
  UniqueFd fd(bpf_obj_get(pin.c_str()));
  if (!fd) return std::nullopt;
  const int ncpu = libbpf_num_possible_cpus();
  if (ncpu <= 0) return std::nullopt;
  std::vector<uint64_t> values(static_cast<std::size_t>(ncpu));
  const uint32_t key = 0;
  if (bpf_map_lookup_elem(fd.get(), &key, values.data()) != 0) return std::nullopt;
  uint64_t sum = 0;
  for (auto v : values) sum += v;
  return sum;
}

/// Key 0 of a plain ARRAY/HASH map pinned at `pin` as a u64; nullopt if unreadable.
inline std::optional<uint64_t> u64_counter(const fs::path& pin) {
  UniqueFd fd(bpf_obj_get(pin.c_str()));
  if (!fd) return std::nullopt;
  const uint32_t key = 0;
  uint64_t value = 0;
  if (bpf_map_lookup_elem(fd.get(), &key, &value) != 0) return std::nullopt;
  return value;
}

/// UDP from the peer namespace to the root side, paced (bursts of 16, then ~200 µs), bounded in
/// packets and time. Runs until stop() or a bound.
class Traffic {
 public:
  explicit Traffic(const testing::VethPair& v,
                   std::chrono::seconds max_time = std::chrono::seconds(240))
      : fd_(v.peer_ns().socket_in(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)) {
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_port = htons(9997);
    ::inet_pton(AF_INET, v.root_addr().c_str(), &to.sin_addr);
    thread_ = std::thread([this, to, max_time] {
      const auto end = std::chrono::steady_clock::now() + max_time;
      const char payload[] = "l3afd-chain";
      while (!stop_ && std::chrono::steady_clock::now() < end && sent_ < 20'000'000) {
        for (int i = 0; i < 16; ++i) {
          if (::sendto(fd_.get(), payload, sizeof(payload), 0,
                       reinterpret_cast<const sockaddr*>(&to), sizeof(to)) > 0) {
            ++sent_;
          }
        }
        std::this_thread::sleep_for(std::chrono::microseconds(200));
      }
    });
  }
  ~Traffic() { stop(); }
  Traffic(const Traffic&) = delete;
  Traffic& operator=(const Traffic&) = delete;
  void stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  bool ok() const { return fd_.valid(); }
  uint64_t sent() const { return sent_; }

 private:
  UniqueFd fd_;
  std::atomic<bool> stop_{false};
  std::atomic<uint64_t> sent_{0};
  std::thread thread_;
};

/// Sends `count` raw TCP SYN frames to root_addr():dport from the peer namespace (AF_PACKET on
/// the peer interface, so each frame reaches the root side's XDP exactly once), source ports
/// from `first_sport` on. Returns how many were sent.
inline int send_syns(const testing::VethPair& v, int count, uint16_t dport,
                     uint16_t first_sport = 40000) {
  UniqueFd fd(v.peer_ns().socket_in(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_ALL)));
  if (!fd) return 0;
  ifreq ifr{};
  std::snprintf(ifr.ifr_name, IFNAMSIZ, "%s", v.peer_name().c_str());
  if (::ioctl(fd.get(), SIOCGIFINDEX, &ifr) != 0) return 0;
  sockaddr_ll to{};
  to.sll_family = AF_PACKET;
  to.sll_ifindex = ifr.ifr_ifindex;
  to.sll_halen = ETH_ALEN;
  int sent = 0;
  for (int i = 0; i < count; ++i) {
    const auto frame =
        testing::PacketBuilder()
            .eth()
            .ipv4(v.peer_addr(), v.root_addr())
            .tcp(static_cast<uint16_t>(first_sport + i), dport, testing::tcp_flags::kSyn)
            .build();
    if (::sendto(fd.get(), frame.data(), frame.size(), 0, reinterpret_cast<sockaddr*>(&to),
                 sizeof(to)) == static_cast<ssize_t>(frame.size())) {
      ++sent;
    }
  }
  return sent;
}

}  // namespace l3afd::e2e
