// A fluent builder of test frames for BPF_PROG_TEST_RUN: Ethernet (with optional VLAN tags), then
// IPv4 (optionally with options or fragment fields) or IPv6 (optionally with extension headers),
// then TCP or UDP, then payload; optionally truncated. Lengths and checksums (IPv4 header, TCP/UDP
// with pseudo-header) are computed by build(). Test-only value type.
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

  // Options for parser tests. Without them build() produces the same bytes as before.

  /// Appends a VLAN tag after the MAC addresses, outermost first: `tpid` (0x8100 = 802.1Q,
  /// 0x88a8 = 802.1ad), then the tag control information `tci`. Needs eth().
  PacketBuilder& vlan(uint16_t tci, uint16_t tpid = 0x8100);
  /// The EtherType after the tags, instead of the one derived from the IP header (or 0x88b5
  /// without one), e.g. 0x0806 for an ARP frame built with payload().
  PacketBuilder& ethertype(uint16_t type);
  /// IPv4 options after the 20-byte header; IHL = 5 + size / 4. build() throws
  /// std::invalid_argument unless the size is a multiple of 4 and at most 40.
  PacketBuilder& ipv4_options(std::vector<uint8_t> options);
  /// IPv4 fragment fields: fragment offset in 8-byte units (13 bits) and the MF flag; DF is
  /// cleared. Without this call the header has DF set and offset 0.
  PacketBuilder& ipv4_fragment(uint16_t offset_units, bool more_fragments);
  /// The IP protocol (IPv4) or the last next header (IPv6) when there is no L4 header, e.g. 1
  /// for ICMP with the message in payload(). Default 59 ("no next header").
  PacketBuilder& ip_protocol(uint8_t protocol);
  /// Appends an IPv6 extension header (in call order, before the L4 header): next header, then
  /// for type 44 (fragment) a reserved 0 byte and `body` (6 bytes: offset/flags, id), for the
  /// other types the length byte (in 8-octet units minus 1) and `body` (2 + size a multiple of
  /// 8). build() throws std::invalid_argument for other sizes. The next-header chain is
  /// filled in by build().
  PacketBuilder& ipv6_ext(uint8_t type, std::vector<uint8_t> body);
  /// build() returns only the first `size` bytes (the whole frame when it is not longer); the
  /// length fields and checksums stay those of the whole frame.
  PacketBuilder& truncate(size_t size);

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
  struct Vlan {
    uint16_t tpid = 0, tci = 0;
  };
  struct Ext {
    uint8_t type = 0;
    std::vector<uint8_t> body;
  };
  std::optional<Eth> eth_;
  std::optional<Ip> ip_;
  std::optional<L4> l4_;
  std::vector<uint8_t> payload_;
  std::vector<Vlan> vlans_;
  std::optional<uint16_t> ethertype_;
  std::vector<uint8_t> ipv4_options_;
  uint16_t ipv4_frag_ = 0x4000;  ///< flags and offset field: DF, offset 0
  std::optional<uint8_t> ip_protocol_;
  std::vector<Ext> ipv6_exts_;
  std::optional<size_t> truncate_;
};

/// The Internet checksum (RFC 1071) of `data`, folded, not inverted, starting from `sum`.
uint32_t checksum_add(const uint8_t* data, size_t len, uint32_t sum = 0);
/// Folds and inverts a checksum_add() result.
uint16_t checksum_finish(uint32_t sum);

}  // namespace l3afd::testing
