// The XDP entry program _xdp_limit_conn of connection_limit.bpf.o under BPF_PROG_TEST_RUN with
// hand-built frames: which SYNs are limited (IPv4 with and without options, IPv6 with extension
// headers, VLAN tags), what passes uncounted, truncated frames, and the tail call to the next
// program (xdp_counter.bpf.o in slot 0 of xdp_cl_ingress_next_prog, whose packet counter shows
// that it ran).
#include <bpf/bpf.h>
#include <gtest/gtest.h>
#include <linux/if_ether.h>
#include <netinet/in.h>

#include <cstdint>
#include <string>
#include <vector>

#include "kernel/connection_limit/cl_fixture.h"

namespace l3afd::cl_test {
namespace {

constexpr uint16_t kListed = 8080;
constexpr uint16_t kUnlisted = 8081;
constexpr int kXdpDrop = 1;
constexpr int kXdpPass = 2;

constexpr uint8_t kFin = 0x01, kSyn = 0x02, kRst = 0x04, kAck = 0x10;

// ---------------------------------------------------------------------------------------------
// A minimal frame builder: only the fields the program reads are meaningful (checksums are
// left 0; XDP test runs do not verify them).

using Bytes = std::vector<uint8_t>;

void put16(Bytes& b, uint16_t v) {
  b.push_back(static_cast<uint8_t>(v >> 8));
  b.push_back(static_cast<uint8_t>(v & 0xFF));
}

Bytes tcp_header(uint16_t dport, uint8_t flags) {
  Bytes b;
  put16(b, 40000);  // source port
  put16(b, dport);
  for (int i = 0; i < 8; ++i) b.push_back(0);  // seq, ack
  b.push_back(5 << 4);                         // data offset 5 words
  b.push_back(flags);
  put16(b, 65535);  // window
  put16(b, 0);      // checksum
  put16(b, 0);      // urgent pointer
  return b;
}

Bytes udp_header(uint16_t dport) {
  Bytes b;
  put16(b, 40000);
  put16(b, dport);
  put16(b, 8);
  put16(b, 0);
  return b;
}

struct Ipv4Opts {
  int option_words = 0;   // IHL = 5 + option_words (NOPs)
  uint16_t frag_off = 0;  // flags + fragment offset (host order)
  uint8_t protocol = IPPROTO_TCP;
};

Bytes ipv4(const Bytes& l4, const Ipv4Opts& o = {}) {
  Bytes b;
  b.push_back(static_cast<uint8_t>(0x40 | (5 + o.option_words)));
  b.push_back(0);
  put16(b, static_cast<uint16_t>(20 + 4 * o.option_words + l4.size()));
  put16(b, 1);  // id
  put16(b, o.frag_off);
  b.push_back(64);
  b.push_back(o.protocol);
  put16(b, 0);
  for (uint8_t a : {198, 18, 0, 2, 198, 18, 0, 1}) b.push_back(a);
  for (int i = 0; i < 4 * o.option_words; ++i) b.push_back(1);  // IPOPT_NOOP
  b.insert(b.end(), l4.begin(), l4.end());
  return b;
}

/// IPv6 with the given extension headers (next-header values, each 8 bytes long; AH 12 bytes)
/// in front of `l4` of protocol `l4_proto`.
Bytes ipv6(const Bytes& l4, uint8_t l4_proto = IPPROTO_TCP, const std::vector<uint8_t>& ext = {}) {
  Bytes exts;
  for (size_t i = 0; i < ext.size(); ++i) {
    const uint8_t next = i + 1 < ext.size() ? ext[i + 1] : l4_proto;
    if (ext[i] == IPPROTO_AH) {  // length in 4-byte units minus 2
      exts.push_back(next);
      exts.push_back(1);
      for (int k = 0; k < 10; ++k) exts.push_back(0);
    } else {  // length in 8-byte units minus 1; also the fragment header's 8 bytes
      exts.push_back(next);
      exts.push_back(0);
      for (int k = 0; k < 6; ++k) exts.push_back(0);
    }
  }
  Bytes b{0x60, 0, 0, 0};
  put16(b, static_cast<uint16_t>(exts.size() + l4.size()));
  b.push_back(ext.empty() ? l4_proto : ext[0]);
  b.push_back(64);
  for (int i = 0; i < 2; ++i) {  // 2001:2::2 -> 2001:2::1
    Bytes addr(16, 0);
    addr[0] = 0x20, addr[1] = 0x01, addr[3] = 0x02, addr[15] = static_cast<uint8_t>(2 - i);
    b.insert(b.end(), addr.begin(), addr.end());
  }
  b.insert(b.end(), exts.begin(), exts.end());
  b.insert(b.end(), l4.begin(), l4.end());
  return b;
}

/// Ethernet header with `vlans` 802.1Q/802.1ad tags (outer 802.1ad when two) and `type`.
Bytes eth(const Bytes& l3, uint16_t type, int vlans = 0) {
  Bytes b{0x02, 0, 0, 0, 0, 0x02, 0x02, 0, 0, 0, 0, 0x01};
  for (int i = 0; i < vlans; ++i) {
    put16(b, vlans == 2 && i == 0 ? ETH_P_8021AD : ETH_P_8021Q);
    put16(b, static_cast<uint16_t>(100 + i));  // TCI
  }
  put16(b, type);
  b.insert(b.end(), l3.begin(), l3.end());
  return b;
}

Bytes syn4(uint16_t dport = kListed, uint8_t flags = kSyn) {
  return eth(ipv4(tcp_header(dport, flags)), ETH_P_IP);
}

// ---------------------------------------------------------------------------------------------

class ConnLimitXdp : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(obj_.load(kObject), "");
    ASSERT_TRUE(obj_.list_port(kListed));
    ASSERT_TRUE(obj_.set0("cl_max_conn", 3));
    prog_ = obj_.prog_fd("_xdp_limit_conn");
    ASSERT_GE(prog_, 0);
  }

  /// Runs the program once on `frame`; returns its verdict (-1 if the run failed).
  int run(const Bytes& frame) const {
    Bytes out(frame.size() + 256);
    bpf_test_run_opts opts{};
    opts.sz = sizeof(opts);
    opts.data_in = frame.data();
    opts.data_size_in = static_cast<uint32_t>(frame.size());
    opts.data_out = out.data();
    opts.data_size_out = static_cast<uint32_t>(out.size());
    opts.repeat = 1;
    if (bpf_prog_test_run_opts(prog_, &opts) != 0) return -1;
    return static_cast<int>(opts.retval);
  }

  uint64_t recv() const { return obj_.get0("cl_recv_count_map"); }
  uint64_t drops() const { return obj_.get0("cl_drop_count_map"); }

  /// Expects `frame` to be limited: passes (and is counted) while the count is below the
  /// maximum, dropped (and counted) at and above it.
  void expect_limited(const Bytes& frame) {
    const uint64_t r0 = recv(), d0 = drops();
    ASSERT_TRUE(obj_.set0("cl_conn_count", 2));
    EXPECT_EQ(run(frame), kXdpPass);
    EXPECT_EQ(recv(), r0 + 1);
    EXPECT_EQ(drops(), d0);
    ASSERT_TRUE(obj_.set0("cl_conn_count", 3));  // count == max: at most N -> drop
    EXPECT_EQ(run(frame), kXdpDrop);
    ASSERT_TRUE(obj_.set0("cl_conn_count", 50));
    EXPECT_EQ(run(frame), kXdpDrop);
    EXPECT_EQ(recv(), r0 + 3);
    EXPECT_EQ(drops(), d0 + 2);
  }

  /// Expects `frame` to pass uncounted even when the limit is reached.
  void expect_ignored(const Bytes& frame) {
    const uint64_t r0 = recv(), d0 = drops();
    ASSERT_TRUE(obj_.set0("cl_conn_count", 50));
    EXPECT_EQ(run(frame), kXdpPass);
    EXPECT_EQ(recv(), r0);
    EXPECT_EQ(drops(), d0);
  }

  BpfObject obj_;
  int prog_ = -1;
};

TEST_F(ConnLimitXdp, CountersStartAtZero) {
  for (const char* m : {"cl_recv_count_map", "cl_drop_count_map", "cl_conn_count",
                        "cl_overflow_count", "cl_max_conn", "cl_netns"}) {
    const uint64_t expected = std::string(m) == "cl_max_conn" ? 3 : 0;
    EXPECT_EQ(obj_.get0(m), expected) << m;
  }
}

TEST_F(ConnLimitXdp, Ipv4SynIsLimited) {
  ASSERT_TRUE(obj_.set0("cl_conn_count", 0));
  EXPECT_EQ(run(syn4()), kXdpPass);
  EXPECT_EQ(recv(), 1U);
  EXPECT_EQ(drops(), 0U);
  ASSERT_NO_FATAL_FAILURE(expect_limited(syn4()));
}

TEST_F(ConnLimitXdp, ZeroMaximumDropsEverySyn) {
  ASSERT_TRUE(obj_.set0("cl_max_conn", 0));
  EXPECT_EQ(run(syn4()), kXdpDrop);
  EXPECT_EQ(drops(), 1U);
}

TEST_F(ConnLimitXdp, OtherTcpSegmentsPassUncounted) {
  for (uint8_t flags : {static_cast<uint8_t>(kSyn | kAck), kAck, kRst,
                        static_cast<uint8_t>(kFin | kAck), static_cast<uint8_t>(0)}) {
    SCOPED_TRACE("flags " + std::to_string(flags));
    ASSERT_NO_FATAL_FAILURE(expect_ignored(syn4(kListed, flags)));
  }
}

TEST_F(ConnLimitXdp, UnlistedPortPasses) {
  ASSERT_NO_FATAL_FAILURE(expect_ignored(syn4(kUnlisted)));
}

TEST_F(ConnLimitXdp, UdpArpAndUnknownEtherTypesPass) {
  ASSERT_NO_FATAL_FAILURE(
      expect_ignored(eth(ipv4(udp_header(kListed), {0, 0, IPPROTO_UDP}), ETH_P_IP)));
  ASSERT_NO_FATAL_FAILURE(expect_ignored(eth(ipv6(udp_header(kListed), IPPROTO_UDP), ETH_P_IPV6)));
  Bytes arp{0, 1, 8, 0, 6, 4, 0, 1};
  arp.resize(28, 0);
  ASSERT_NO_FATAL_FAILURE(expect_ignored(eth(arp, ETH_P_ARP)));
  // An IPv4 SYN behind a foreign EtherType is not parsed (the original parsed every frame, P5).
  ASSERT_NO_FATAL_FAILURE(expect_ignored(eth(ipv4(tcp_header(kListed, kSyn)), 0x88B5)));
}

TEST_F(ConnLimitXdp, Ipv6SynIsLimited) {
  ASSERT_NO_FATAL_FAILURE(expect_limited(eth(ipv6(tcp_header(kListed, kSyn)), ETH_P_IPV6)));
  ASSERT_NO_FATAL_FAILURE(expect_ignored(eth(ipv6(tcp_header(kListed, kSyn | kAck)), ETH_P_IPV6)));
  ASSERT_NO_FATAL_FAILURE(expect_ignored(eth(ipv6(tcp_header(kUnlisted, kSyn)), ETH_P_IPV6)));
}

TEST_F(ConnLimitXdp, Ipv6ExtensionHeadersAreWalked) {
  const Bytes tcp = tcp_header(kListed, kSyn);
  ASSERT_NO_FATAL_FAILURE(expect_limited(eth(ipv6(tcp, IPPROTO_TCP, {0}), ETH_P_IPV6)));
  ASSERT_NO_FATAL_FAILURE(expect_limited(eth(ipv6(tcp, IPPROTO_TCP, {0, 60, 43, 51}), ETH_P_IPV6)));
  // More extension headers than the bounded walk follows: not understood, passes.
  ASSERT_NO_FATAL_FAILURE(
      expect_ignored(eth(ipv6(tcp, IPPROTO_TCP, {0, 60, 43, 60, 60}), ETH_P_IPV6)));
  // A fragment header: passes (also a first fragment).
  ASSERT_NO_FATAL_FAILURE(expect_ignored(eth(ipv6(tcp, IPPROTO_TCP, {44}), ETH_P_IPV6)));
  ASSERT_NO_FATAL_FAILURE(expect_ignored(eth(ipv6(tcp, IPPROTO_TCP, {0, 44}), ETH_P_IPV6)));
}

TEST_F(ConnLimitXdp, VlanTaggedSynIsLimited) {
  ASSERT_NO_FATAL_FAILURE(expect_limited(eth(ipv4(tcp_header(kListed, kSyn)), ETH_P_IP, 1)));
  ASSERT_NO_FATAL_FAILURE(expect_limited(eth(ipv4(tcp_header(kListed, kSyn)), ETH_P_IP, 2)));
  ASSERT_NO_FATAL_FAILURE(expect_limited(eth(ipv6(tcp_header(kListed, kSyn)), ETH_P_IPV6, 2)));
  // Three tags: beyond the parser's two, passes.
  ASSERT_NO_FATAL_FAILURE(expect_ignored(eth(ipv4(tcp_header(kListed, kSyn)), ETH_P_IP, 3)));
}

TEST_F(ConnLimitXdp, Ipv4OptionsAreSkipped) {
  for (int words = 1; words <= 10; ++words) {
    SCOPED_TRACE("option words " + std::to_string(words));
    ASSERT_NO_FATAL_FAILURE(
        expect_limited(eth(ipv4(tcp_header(kListed, kSyn), {words, 0, IPPROTO_TCP}), ETH_P_IP)));
  }
  // An IHL below 5 is malformed: passes.
  Bytes bad = syn4();
  bad[14] = 0x44;
  ASSERT_NO_FATAL_FAILURE(expect_ignored(bad));
}

TEST_F(ConnLimitXdp, FragmentsOnlyFirstIsParsed) {
  const Bytes tcp = tcp_header(kListed, kSyn);
  // First fragment (MF set, offset 0) carries the TCP header: limited.
  ASSERT_NO_FATAL_FAILURE(expect_limited(eth(ipv4(tcp, {0, 0x2000, IPPROTO_TCP}), ETH_P_IP)));
  // Non-first fragments: the bytes at the L4 position are not a TCP header.
  ASSERT_NO_FATAL_FAILURE(expect_ignored(eth(ipv4(tcp, {0, 0x2001, IPPROTO_TCP}), ETH_P_IP)));
  ASSERT_NO_FATAL_FAILURE(expect_ignored(eth(ipv4(tcp, {0, 0x0010, IPPROTO_TCP}), ETH_P_IP)));
}

// Every truncation of a limited SYN (down to the 14 bytes BPF_PROG_TEST_RUN accepts for XDP)
// passes uncounted; only the complete headers are limited.
TEST_F(ConnLimitXdp, TruncatedFramesPass) {
  const std::vector<Bytes> frames = {
      syn4(),
      eth(ipv4(tcp_header(kListed, kSyn), {3, 0, IPPROTO_TCP}), ETH_P_IP, 2),
      eth(ipv6(tcp_header(kListed, kSyn), IPPROTO_TCP, {0, 51}), ETH_P_IPV6, 1),
  };
  for (const Bytes& full : frames) {
    for (size_t len = ETH_HLEN; len < full.size(); ++len) {
      SCOPED_TRACE("length " + std::to_string(len) + " of " + std::to_string(full.size()));
      ASSERT_NO_FATAL_FAILURE(
          expect_ignored(Bytes(full.begin(), full.begin() + static_cast<long>(len))));
    }
    ASSERT_NO_FATAL_FAILURE(expect_limited(full));
  }
}

// Every frame that is not dropped continues with slot 0 of xdp_cl_ingress_next_prog (P6).
TEST_F(ConnLimitXdp, TailCallsTheNextProgram) {
  BpfObject next;
  ASSERT_EQ(next.load(kObjectDir + "/xdp_counter.bpf.o"), "");
  const int next_fd = next.prog_fd("xdp_counter");
  ASSERT_GE(next_fd, 0);
  const uint32_t slot = 0;
  ASSERT_EQ(bpf_map_update_elem(obj_.map_fd("xdp_cl_ingress_next_prog"), &slot, &next_fd, BPF_ANY),
            0);
  const auto ran = [&next] { return next.get0("xdp_counter_packets"); };

  ASSERT_TRUE(obj_.set0("cl_conn_count", 0));
  EXPECT_EQ(run(syn4()), kXdpPass);  // accepted SYN
  EXPECT_EQ(ran(), 1U);
  EXPECT_EQ(run(syn4(kListed, kAck)), kXdpPass);  // not a SYN
  EXPECT_EQ(run(syn4(kUnlisted)), kXdpPass);      // unlisted
  Bytes arp{0, 1, 8, 0, 6, 4, 0, 1};
  arp.resize(28, 0);
  EXPECT_EQ(run(eth(arp, ETH_P_ARP)), kXdpPass);  // not IP
  const Bytes full = syn4();
  EXPECT_EQ(run(Bytes(full.begin(), full.begin() + 20)), kXdpPass);  // runt
  EXPECT_EQ(ran(), 5U);

  ASSERT_TRUE(obj_.set0("cl_conn_count", 3));
  EXPECT_EQ(run(syn4()), kXdpDrop);  // dropped: the chain ends here
  EXPECT_EQ(ran(), 5U);

  // Empty slot: XDP_PASS without a next program.
  ASSERT_EQ(bpf_map_delete_elem(obj_.map_fd("xdp_cl_ingress_next_prog"), &slot), 0);
  EXPECT_EQ(run(syn4(kUnlisted)), kXdpPass);
  EXPECT_EQ(ran(), 5U);
}

}  // namespace
}  // namespace l3afd::cl_test
