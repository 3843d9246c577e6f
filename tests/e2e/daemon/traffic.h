// Traffic and counters shared by the e2e tests that prove data-path claims with packets
// (chain_test.cpp, companion_test.cpp). Test-only.
#pragma once

#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <thread>
#include <vector>

#include "core/unique_fd.h"
#include "support/netns.h"

namespace l3afd::e2e {

namespace fs = std::filesystem;

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

}  // namespace l3afd::e2e
