// A fluent builder of test frames for BPF_PROG_TEST_RUN: Ethernet, then IPv4 or IPv6, then TCP
// or UDP, then payload. Lengths and checksums (IPv4 header, TCP/UDP with pseudo-header) are
// computed by build(). Test-only value type.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace l3afd::testing {

namespace tcp_flags {
inline constexpr uint8_t kFin = 0x01;
inline constexpr uint8_t kSyn = 0x02;
inline constexpr uint8_t kRst = 0x04;
inline constexpr uint8_t kPsh = 0x08;
inline constexpr uint8_t kAck = 0x10;
}  // namespace tcp_flags

class PacketBuilder {
 public:
  /// MAC addresses as "aa:bb:cc:dd:ee:ff". Without eth() the frame starts at the IP header.
  PacketBuilder& eth(const std::string& src = "02:00:00:00:00:01",
                     const std::string& dst = "02:00:00:00:00:02");
  PacketBuilder& ipv4(const std::string& src, const std::string& dst, uint8_t ttl = 64);
  PacketBuilder& ipv6(const std::string& src, const std::string& dst, uint8_t hop_limit = 64);
  PacketBuilder& tcp(uint16_t sport, uint16_t dport, uint8_t flags = tcp_flags::kSyn);
  PacketBuilder& udp(uint16_t sport, uint16_t dport);
  PacketBuilder& payload(std::vector<uint8_t> bytes);
  PacketBuilder& payload(const std::string& text);

  /// The frame. Throws std::invalid_argument for an unparsable address or a missing L3 header
  /// under an L4 header.
  std::vector<uint8_t> build() const;

 private:
  struct Eth {
    std::string src, dst;
  };
  struct Ip {
    bool v6 = false;
    std::string src, dst;
    uint8_t ttl = 64;
  };
  struct L4 {
    bool tcp = false;
    uint16_t sport = 0, dport = 0;
    uint8_t flags = 0;
  };
  std::optional<Eth> eth_;
  std::optional<Ip> ip_;
  std::optional<L4> l4_;
  std::vector<uint8_t> payload_;
};

/// The Internet checksum (RFC 1071) of `data`, folded, not inverted, starting from `sum`.
uint32_t checksum_add(const uint8_t* data, size_t len, uint32_t sum = 0);
/// Folds and inverts a checksum_add() result.
uint16_t checksum_finish(uint32_t sum);

}  // namespace l3afd::testing
