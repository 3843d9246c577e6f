// Verdicts and counters of bpf/ratelimiting.bpf.o (docs/packages.md §3 "Our version", §8 P1–P5) on
// frames from PacketBuilder, run with BPF_PROG_TEST_RUN. Most tests use rate 0, where every
// considered SYN is dropped whatever the time, so "considered or not" is visible in one verdict
// without any dependence on the clock. The tests of the limit itself run their SYNs in one
// aligned window (RateLimitTest::one_window_burst) or derive the expectation from the clock
// read around the burst, so no assertion depends on how fast the machine is.
#include <bpf/bpf.h>
#include <linux/bpf.h>

#include <algorithm>

#include "rl_fixture.h"
#include "support/netns.h"

namespace l3afd::kernel::libbpf::rl {
namespace {

constexpr int kPass = XDP_PASS;
constexpr int kDrop = XDP_DROP;

class RateLimitVerdict : public RateLimitTest {
 protected:
  /// At rate 0: `frame` is not considered (passes, no counter moves, no window is created).
  void expect_ignored(const Frame& frame, const std::string& what) {
    SCOPED_TRACE(what);
    const uint64_t r = recv(), d = drops();
    const auto w = windows();
    EXPECT_EQ(run(frame), kPass);
    EXPECT_EQ(recv(), r);
    EXPECT_EQ(drops(), d);
    EXPECT_EQ(windows(), w);
  }
  /// At rate 0: `frame` is a considered SYN (counted, dropped).
  void expect_blocked(const Frame& frame, const std::string& what) {
    SCOPED_TRACE(what);
    const uint64_t r = recv(), d = drops();
    EXPECT_EQ(run(frame), kDrop);
    EXPECT_EQ(recv(), r + 1);
    EXPECT_EQ(drops(), d + 1);
  }
  /// At rate 2 in one window: two of four SYNs pass, then the limit drops the rest, and the
  /// window holds the accepted ones only.
  void expect_limited(const Frame& syn, const std::string& what) {
    SCOPED_TRACE(what);
    configure(2, {kPort});
    const Burst b = one_window_burst({syn, syn, syn, syn});
    EXPECT_EQ(b.verdicts, (std::vector<int>{kPass, kPass, kDrop, kDrop}));
    EXPECT_EQ(b.recv, 4u);
    EXPECT_EQ(b.drops, 2u);
    ASSERT_EQ(b.windows.size(), 1u);
    EXPECT_EQ(b.windows.begin()->second, 2u);
  }
};

const MapInfo* find_map(const LoadedObject& o, const std::string& name) {
  auto it =
      std::find_if(o.maps.begin(), o.maps.end(), [&](const MapInfo& m) { return m.name == name; });
  return it == o.maps.end() ? nullptr : &*it;
}

TEST_F(RateLimitVerdict, MapsHaveTheDocumentedShapesAndArePinnedByName) {
  struct Shape {
    const char* name;
    uint32_t type, key, value, max;
  };
  const Shape shapes[] = {
      {"rl_config_map", BPF_MAP_TYPE_ARRAY, 4, 8, 1},
      {"rl_ports_map", BPF_MAP_TYPE_HASH, 2, 1, 50},
      {"rl_window_map", BPF_MAP_TYPE_LRU_HASH, 8, 8, 1000},
      {"rl_recv_count_map", BPF_MAP_TYPE_ARRAY, 4, 8, 1},
      {"rl_drop_count_map", BPF_MAP_TYPE_ARRAY, 4, 8, 1},
      {kNextArray, BPF_MAP_TYPE_PROG_ARRAY, 4, 4, 1},
  };
  for (const auto& s : shapes) {
    SCOPED_TRACE(s.name);
    const MapInfo* m = find_map(loaded_, s.name);
    ASSERT_NE(m, nullptr);
    EXPECT_EQ(m->type, s.type);
    EXPECT_EQ(m->key_size, s.key);
    EXPECT_EQ(m->value_size, s.value);
    EXPECT_EQ(m->max_entries, s.max);
    // The next array is the daemon's private map here (pinned later by the engine).
    EXPECT_EQ(fs::exists(spec_.map_pin_dir / s.name), std::string(s.name) != kNextArray);
  }
  // Counters exist and are zero from load on (P1): no monitor_maps needed.
  EXPECT_EQ(recv(), 0u);
  EXPECT_EQ(drops(), 0u);
  EXPECT_EQ(read(kKey, "rl_config_map"), 0u);
}

TEST_F(RateLimitVerdict, MapArgsWritePortsInHostByteOrderAndPruneUnlistedPorts) {
  configure(7, {kPort, 443});
  UniqueFd ports(bpf_obj_get((spec_.map_pin_dir / "rl_ports_map").c_str()));
  ASSERT_TRUE(ports.valid());
  uint16_t key = kPort;  // host order, as the program converts the packet's port
  uint8_t value = 0;
  EXPECT_EQ(bpf_map_lookup_elem(ports.get(), &key, &value), 0);
  EXPECT_EQ(value, 1);
  EXPECT_EQ(read(kKey, "rl_config_map"), 7u);
  configure(7, {443});
  EXPECT_NE(bpf_map_lookup_elem(ports.get(), &key, &value), 0) << "8080 is no longer listed";
  configure(0, {443});
  expect_ignored(tcp4(kPort).build(), "8080 after it left the list");
  expect_blocked(tcp4(443).build(), "443 still listed");
}

TEST_F(RateLimitVerdict, SynToListedPortPassesUntilTheRateThenDrops) {
  constexpr int kRate = 5;
  configure(kRate, {kPort});
  const Frame syn = tcp4().build();
  const uint64_t before = monotonic_ns();
  const Burst b = one_window_burst(std::vector<Frame>(kRate + 3, syn));
  std::vector<int> expected(kRate, kPass);
  expected.insert(expected.end(), 3, kDrop);
  EXPECT_EQ(b.verdicts, expected);
  EXPECT_EQ(b.recv, uint64_t{kRate + 3});
  EXPECT_EQ(b.drops, 3u);
  ASSERT_EQ(b.windows.size(), 1u);
  const auto& [start, accepted] = *b.windows.begin();
  EXPECT_EQ(accepted, uint64_t{kRate}) << "rejected SYNs release their reservation";
  EXPECT_EQ(start % kNsPerSec, 0u) << "windows are aligned seconds";
  // The window is the current second of CLOCK_MONOTONIC (the clock of bpf_ktime_get_ns).
  EXPECT_GE(start, before / kNsPerSec * kNsPerSec);
  EXPECT_LE(start, monotonic_ns());
}

TEST_F(RateLimitVerdict, RateZeroBlocksAndAnUnconfiguredRateIsZero) {
  // Only the ports configured: rl_config_map[0] is still its initial 0.
  const std::vector<model::KeyValue> port = {{kPort, 1}};
  ASSERT_TRUE(kernel_->configure_maps(kKey, {{"rl_ports_map", port}}, {}));
  for (int i = 0; i < 3; ++i) expect_blocked(tcp4().build(), "unconfigured rate");
  configure(0, {kPort});
  expect_blocked(tcp4().build(), "rate 0");
  // No listed port: nothing is limited, whatever the rate.
  configure(0, {});
  expect_ignored(tcp4().build(), "no listed port");
  EXPECT_EQ(recv(), 4u);
  EXPECT_EQ(drops(), 4u);
}

TEST_F(RateLimitVerdict, OnlySynWithoutAckIsConsidered) {
  configure(0, {kPort});
  using namespace flags;
  expect_ignored(tcp4(kPort, kSyn | kAck).build(), "SYN+ACK");
  expect_ignored(tcp4(kPort, kAck).build(), "ACK");
  expect_ignored(tcp4(kPort, kRst).build(), "RST");
  expect_ignored(tcp4(kPort, kRst | kAck).build(), "RST+ACK");
  expect_ignored(tcp4(kPort, kFin).build(), "FIN");
  expect_ignored(tcp4(kPort, kFin | kAck).build(), "FIN+ACK");
  expect_ignored(tcp4(kPort, kPsh | kAck).build(), "PSH+ACK");
  expect_ignored(tcp4(kPort, 0).build(), "no flags");
  expect_ignored(tcp6(kPort, kSyn | kAck).build(), "IPv6 SYN+ACK");
  // SYN with other flags but no ACK is a connection attempt.
  expect_blocked(tcp4(kPort, kSyn | kPsh).build(), "SYN+PSH");
  EXPECT_EQ(recv(), 1u);
}

TEST_F(RateLimitVerdict, SynToUnlistedPortOrFromListedPortPasses) {
  configure(0, {kPort});
  expect_ignored(tcp4(kOther).build(), "unlisted destination port");
  PacketBuilder from_listed;
  from_listed.eth().ipv4("198.18.0.2", "198.18.0.1").tcp(kPort, kOther, flags::kSyn);
  expect_ignored(from_listed.build(), "listed port as source port");
  // 8080 = 0x1f90; its byte-swapped value 0x901f = 36895 must not match.
  expect_ignored(tcp4(0x901f).build(), "byte-swapped port");
  expect_blocked(tcp4(kPort).build(), "control: listed destination port");
}

TEST_F(RateLimitVerdict, NonTcpPasses) {
  configure(0, {kPort});
  expect_ignored(PacketBuilder().eth().ipv4("198.18.0.2", "198.18.0.1").udp(40000, kPort).build(),
                 "UDP/IPv4");
  expect_ignored(PacketBuilder().eth().ipv6("2001:db8::2", "2001:db8::1").udp(40000, kPort).build(),
                 "UDP/IPv6");
  // ICMP echo request: type 8, code 0, checksum, id, sequence.
  expect_ignored(PacketBuilder()
                     .eth()
                     .ipv4("198.18.0.2", "198.18.0.1")
                     .ip_protocol(1)
                     .payload(std::vector<uint8_t>{8, 0, 0xf7, 0xfe, 0, 1, 0, 0})
                     .build(),
                 "ICMP");
  // ARP request for 198.18.0.1 from 198.18.0.2.
  std::vector<uint8_t> arp = {0,   1,  8, 0, 6, 4, 0, 1, 2, 0, 0,   0,  0, 1,
                              198, 18, 0, 2, 0, 0, 0, 0, 0, 0, 198, 18, 0, 1};
  expect_ignored(PacketBuilder().eth().ethertype(0x0806).payload(arp).build(), "ARP");
  expect_ignored(PacketBuilder().eth().payload("not ip").build(), "unknown EtherType");
  // A TCP SYN behind an EtherType the program does not parse (MPLS) is not looked at.
  Frame mpls = tcp4().build();
  mpls[12] = 0x88;
  mpls[13] = 0x47;
  expect_ignored(mpls, "MPLS EtherType");
}

TEST_F(RateLimitVerdict, Ipv4OptionsAreSkippedByIhl) {
  configure(0, {kPort});
  for (size_t words = 1; words <= 10; ++words) {  // IHL 6..15
    const std::string ihl = "IHL " + std::to_string(5 + words);
    std::vector<uint8_t> options(4 * words, 1);  // NOP options
    options.back() = 0;                          // end of options list
    expect_blocked(tcp4().ipv4_options(options).build(), "SYN, " + ihl);
    // An ACK whose options hold, at the offset a fixed 20-byte header would assume, bytes that
    // look like a SYN to the listed port: only a parser that ignores the IHL is fooled.
    if (options.size() >= 14) {
      std::vector<uint8_t> fake = options;
      fake[2] = kPort >> 8;
      fake[3] = kPort & 0xff;
      fake[12] = 0x50;  // data offset 5
      fake[13] = flags::kSyn;
      expect_ignored(tcp4(kPort, flags::kAck).ipv4_options(fake).build(), "ACK, " + ihl);
    }
  }
  EXPECT_EQ(recv(), 10u);
}

TEST_F(RateLimitVerdict, Ipv4FragmentsOnlyTheFirstCarriesTcp) {
  configure(0, {kPort});
  expect_blocked(tcp4().ipv4_fragment(0, true).build(), "first fragment, MF set");
  expect_blocked(tcp4().ipv4_fragment(0, false).build(), "offset 0, no MF (DF cleared)");
  // Later fragments carry bytes that look like a SYN to the listed port at the L4 offset.
  expect_ignored(tcp4().ipv4_fragment(1, true).build(), "offset 8 bytes, MF");
  expect_ignored(tcp4().ipv4_fragment(185, false).build(), "last fragment");
  expect_ignored(tcp4().ipv4_fragment(0x1fff, true).build(), "largest offset");
  EXPECT_EQ(recv(), 2u);
}

TEST_F(RateLimitVerdict, MalformedHeadersPass) {
  configure(0, {kPort});
  Frame ihl4 = tcp4().build();
  ihl4[14] = 0x44;  // IHL 4 < 5
  expect_ignored(ihl4, "IPv4 IHL 4");
  Frame v6_in_v4 = tcp4().build();
  v6_in_v4[14] = 0x65;  // version 6 under EtherType IPv4
  expect_ignored(v6_in_v4, "version 6 in an IPv4 frame");
  Frame v4_in_v6 = tcp6().build();
  v4_in_v6[14] = 0x40;  // version 4 under EtherType IPv6
  expect_ignored(v4_in_v6, "version 4 in an IPv6 frame");
  Frame doff4 = tcp4().build();
  doff4[14 + 20 + 12] = 0x40;  // TCP data offset 4 < 5
  expect_ignored(doff4, "TCP data offset 4");
  // IHL 15 announces 60 bytes, but the frame ends inside the "options".
  Frame short_ihl = tcp4().build();
  short_ihl[14] = 0x4f;
  expect_ignored(short_ihl, "IHL 15 without the options");
  EXPECT_EQ(recv(), 0u);
}

TEST_F(RateLimitVerdict, TruncatedFramesPassAtEveryLength) {
  configure(0, {kPort});
  const std::vector<std::pair<std::string, PacketBuilder>> syns = {
      {"IPv4", tcp4()},
      {"IPv4 IHL 8", tcp4().ipv4_options(std::vector<uint8_t>(12, 1))},
      {"IPv6", tcp6()},
      {"IPv6 hop-by-hop", tcp6().ipv6_ext(0, {1, 4, 0, 0, 0, 0})},
      {"802.1ad + 802.1Q IPv4", tcp4().vlan(7, 0x88a8).vlan(100)},
  };
  for (const auto& [what, builder] : syns) {
    const size_t full = builder.build().size();
    for (size_t len = 0; len < full; ++len) {
      const Frame frame = PacketBuilder(builder).truncate(len).build();
      ASSERT_EQ(frame.size(), len);
      const std::string trace =
          what + " cut to " + std::to_string(len) + " of " + std::to_string(full) + " bytes";
      if (len < 14) {
        // BPF_PROG_TEST_RUN refuses XDP frames shorter than an Ethernet header (EINVAL), as
        // no driver hands XDP such a frame either.
        SCOPED_TRACE(trace);
        EXPECT_EQ(run(frame), kRefused);
        continue;
      }
      expect_ignored(frame, trace);
    }
    expect_blocked(builder.build(), what + " complete");  // control: the full frame counts
  }
  EXPECT_EQ(recv(), syns.size());
  EXPECT_EQ(drops(), syns.size());
}

TEST_F(RateLimitVerdict, Ipv6SynIsCountedAndLimited) {
  configure(0, {kPort});
  expect_blocked(tcp6().build(), "IPv6 SYN");
  expect_ignored(tcp6(kOther).build(), "IPv6 SYN to an unlisted port");
  expect_limited(tcp6().build(), "IPv6 SYN, rate 2");
}

TEST_F(RateLimitVerdict, Ipv6ExtensionHeadersAreWalkedUpToFour) {
  configure(0, {kPort});
  const std::vector<uint8_t> pad6 = {1, 4, 0, 0, 0, 0};  // PadN filling an 8-byte header
  const std::vector<uint8_t> routing = {0, 0, 0, 0, 0, 0};
  const std::vector<uint8_t> long_opts(14, 0);  // Pad1 x 14: a 16-byte header (length 1)
  expect_blocked(tcp6().ipv6_ext(0, pad6).build(), "hop-by-hop");
  expect_blocked(tcp6().ipv6_ext(0, long_opts).build(), "16-byte hop-by-hop");
  expect_blocked(tcp6().ipv6_ext(0, pad6).ipv6_ext(43, routing).ipv6_ext(60, pad6).build(),
                 "hop-by-hop, routing, destination options");
  expect_blocked(
      tcp6().ipv6_ext(0, pad6).ipv6_ext(60, pad6).ipv6_ext(43, routing).ipv6_ext(60, pad6).build(),
      "four extension headers");
  expect_ignored(tcp6()
                     .ipv6_ext(0, pad6)
                     .ipv6_ext(60, pad6)
                     .ipv6_ext(43, routing)
                     .ipv6_ext(60, pad6)
                     .ipv6_ext(60, pad6)
                     .build(),
                 "five extension headers (beyond the bound)");
  expect_ignored(tcp6().ipv6_ext(44, {0, 0, 0, 0, 0, 1}).build(), "fragment header (atomic)");
  expect_ignored(tcp6().ipv6_ext(44, {0, 1, 0, 0, 0, 1}).build(), "first fragment, M set");
  expect_ignored(tcp6().ipv6_ext(0, pad6).ipv6_ext(44, {0, 0, 0, 0, 0, 1}).build(),
                 "hop-by-hop, then fragment header");
  expect_ignored(tcp6().ipv6_ext(51, pad6).build(), "AH is not walked");
  // A hop-by-hop header whose length (255 -> 2048 bytes) runs past the end of the frame.
  Frame overlong = tcp6().ipv6_ext(0, pad6).build();
  overlong[14 + 40 + 1] = 255;
  expect_ignored(overlong, "extension header longer than the frame");
  EXPECT_EQ(recv(), 4u);
  expect_limited(tcp6().ipv6_ext(0, pad6).build(), "hop-by-hop, rate 2");
}

TEST_F(RateLimitVerdict, VlanTaggedSynsAreLimited) {
  configure(0, {kPort});
  expect_blocked(tcp4().vlan(100).build(), "802.1Q");
  expect_blocked(tcp4().vlan(100, 0x88a8).build(), "802.1ad alone");
  expect_blocked(tcp4().vlan(7, 0x88a8).vlan(100).build(), "802.1ad + 802.1Q");
  expect_blocked(tcp6().vlan(100).build(), "802.1Q, IPv6");
  expect_ignored(tcp4().vlan(1).vlan(2).vlan(3).build(), "three tags (beyond the bound)");
  expect_ignored(tcp4(kPort, flags::kAck).vlan(100).build(), "802.1Q ACK");
  expect_ignored(tcp4(kOther).vlan(100).build(), "802.1Q SYN to an unlisted port");
  EXPECT_EQ(recv(), 4u);
  expect_limited(tcp4().vlan(100).build(), "802.1Q, rate 2");
  expect_limited(tcp4().vlan(7, 0x88a8).vlan(100).build(), "802.1ad + 802.1Q, rate 2");
}

TEST_F(RateLimitVerdict, PreviousWindowWeighsIntoTheEstimate) {
  constexpr uint64_t kRate = 100;
  configure(kRate, {kPort});
  const Frame syn = tcp4().build();
  // A previous window holding 100 x rate blocks at any point of the current window:
  // (100 - f) x 100 x rate >= 100 x rate for every f <= 99. The fixed-window rule would accept.
  // Then a previous window of `rate` accepted SYNs lets exactly f of rate + 1 SYNs through when
  // all of them run at f hundredths of the window (accept iff (100 - f) x rate + 100 n <=
  // 100 x rate, i.e. n <= f); f is read from CLOCK_MONOTONIC (bpf_ktime_get_ns) before and
  // after the burst and the burst is repeated if f changed meanwhile (at most 10 attempts).
  bool blocked_checked = false, weighted_checked = false;
  for (int attempt = 0; attempt < 10 && !(blocked_checked && weighted_checked); ++attempt) {
    reset_state();
    avoid_window_end();
    uint64_t now = monotonic_ns();
    if (now % kNsPerSec < 300'000'000ULL) {  // let f be large enough to be informative
      std::this_thread::sleep_for(std::chrono::nanoseconds(300'000'000ULL - now % kNsPerSec));
      now = monotonic_ns();
    }
    const uint64_t window = now / kNsPerSec * kNsPerSec;
    const uint64_t f_before = (now - window) * 100 / kNsPerSec;
    std::vector<int> verdicts;
    if (!blocked_checked) {
      set_window(window - kNsPerSec, 100 * kRate);
      verdicts.push_back(run(syn));
    } else {
      set_window(window - kNsPerSec, kRate);
      for (uint64_t i = 0; i <= kRate; ++i) verdicts.push_back(run(syn));
    }
    const uint64_t after = monotonic_ns();
    if (after / kNsPerSec * kNsPerSec != window || (after - window) * 100 / kNsPerSec != f_before) {
      continue;  // crossed a window or a hundredth: the expectation is not exact
    }
    const auto w = windows();
    ASSERT_EQ(w.size(), 2u);
    ASSERT_EQ(w.begin()->first, window - kNsPerSec);
    ASSERT_EQ(w.rbegin()->first, window) << "the program's window is the test's";
    if (!blocked_checked) {
      EXPECT_EQ(verdicts, std::vector<int>{kDrop});
      EXPECT_EQ(w.rbegin()->second, 0u);
      blocked_checked = true;
    } else {
      std::vector<int> expected(kRate + 1, kDrop);
      std::fill_n(expected.begin(), f_before, kPass);
      EXPECT_EQ(verdicts, expected) << "f = " << f_before;
      EXPECT_EQ(w.rbegin()->second, f_before);
      EXPECT_EQ(drops(), kRate + 1 - f_before);
      weighted_checked = true;
    }
  }
  EXPECT_TRUE(blocked_checked && weighted_checked) << "every attempt crossed a hundredth";
}

TEST_F(RateLimitVerdict, EmptyPreviousWindowActsLikeTheFixedWindow) {
  constexpr uint64_t kRate = 3;
  configure(kRate, {kPort});
  const Frame syn = tcp4().build();
  // A previous window with 0 accepted takes the sliding branch; 100 n <= 100 rate as before.
  bool checked = false;
  for (int attempt = 0; attempt < 5 && !checked; ++attempt) {
    reset_state();
    avoid_window_end();
    const uint64_t window = monotonic_ns() / kNsPerSec * kNsPerSec;
    set_window(window - kNsPerSec, 0);
    std::vector<int> verdicts;
    for (uint64_t i = 0; i <= kRate; ++i) verdicts.push_back(run(syn));
    if (monotonic_ns() / kNsPerSec * kNsPerSec != window) continue;
    EXPECT_EQ(verdicts, (std::vector<int>{kPass, kPass, kPass, kDrop}));
    EXPECT_EQ(windows().at(window), kRate);
    checked = true;
  }
  EXPECT_TRUE(checked) << "every attempt crossed a window boundary";
}

TEST_F(RateLimitVerdict, TailCallContinuesToTheNextProgramForPassedPacketsOnly) {
  const LoadSpec next = {"next",
                         kObjectDir / "xdp_counter.bpf.o",
                         "xdp_counter",
                         model::Hook::XdpIngress,
                         base_ / "eth0" / "next" / "1_0",
                         base_ / "progs" / "eth0" / "next" / "1_0" / "xdp_counter_xdp",
                         "xdp_counter_next_prog"};
  auto loaded = kernel_->load(next);
  ASSERT_TRUE(loaded) << loaded.error().to_string();
  ASSERT_TRUE(kernel_->write_slot(kKey, kNextArray, "next"));
  EXPECT_EQ(kernel_->read_slot(kKey, kNextArray).value_or(0), loaded->prog_id);

  configure(1, {kPort});
  const auto next_count = [&] { return read("next", "xdp_counter_packets"); };
  const Frame udp =
      PacketBuilder().eth().ipv4("198.18.0.2", "198.18.0.1").udp(40000, kPort).build();
  const Burst b = one_window_burst(
      {tcp4().build(), tcp4().build(), udp, tcp4(kPort, flags::kAck).build(), tcp4(kOther).build()},
      next_count);
  // xdp_counter returns XDP_PASS after its own (empty) tail call.
  EXPECT_EQ(b.verdicts, (std::vector<int>{kPass, kDrop, kPass, kPass, kPass}));
  EXPECT_EQ(b.extra, 4u) << "every packet but the dropped SYN reached the next program";
  EXPECT_EQ(b.recv, 2u);
  EXPECT_EQ(b.drops, 1u);

  // With the slot emptied the chain ends at the rate limiter.
  ASSERT_TRUE(kernel_->write_slot(kKey, kNextArray, std::nullopt));
  const uint64_t before = next_count();
  EXPECT_EQ(run(udp), kPass);
  EXPECT_EQ(next_count(), before);
  EXPECT_TRUE(kernel_->unload("next"));
}

}  // namespace
}  // namespace l3afd::kernel::libbpf::rl
