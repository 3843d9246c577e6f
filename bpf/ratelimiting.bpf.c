// SPDX-License-Identifier: GPL-2.0
// ratelimiting: limits the rate of new inbound TCP connections (SYN without ACK) to a set of
// destination ports, one budget shared by all listed ports (docs/packages.md §3, "Our version";
// package README: ratelimiting.md). Drops a SYN over the limit with XDP_DROP; every other packet
// continues the chain through slot 0 of xdp_rl_ingress_next_prog, else XDP_PASS.
//
// Contract of the maps (names and key/value sizes are the original package's, so existing
// payloads keep working):
//   rl_config_map      ARRAY    u32 -> u64, 1   [0] = accepted SYNs per second (0 = block all)
//   rl_ports_map       HASH     u16 -> u8, 50   key = destination port in host byte order
//   rl_window_map      LRU_HASH u64 -> u64, 1000 window start (ns, CLOCK_MONOTONIC) -> accepted
//   rl_recv_count_map  ARRAY    u32 -> u64, 1   [0] = SYNs to listed ports seen
//   rl_drop_count_map  ARRAY    u32 -> u64, 1   [0] = SYNs dropped
//   xdp_rl_ingress_next_prog PROG_ARRAY, 4-byte key and value, 1 slot: the next program
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>
// After linux/bpf.h: the helper headers need its types.
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#define RL_NSEC_PER_SEC 1000000000ULL
// Rates above this are treated as this value (1e15 SYNs/s, i.e. unlimited in practice), so that
// the fixed-point estimate below (at most 200 x this) cannot overflow 64 bits.
#define RL_RATE_MAX 1000000000000000ULL
// VLAN tags (802.1Q 0x8100, 802.1ad 0x88a8) skipped before the L3 EtherType.
#define RL_MAX_VLAN_TAGS 2
// IPv6 extension headers (hop-by-hop, routing, destination options) skipped before TCP.
#define RL_MAX_IPV6_EXT 4

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __type(key, __u32);
  __type(value, __u64);
  __uint(max_entries, 1);
  __uint(pinning, LIBBPF_PIN_BY_NAME);
} rl_config_map SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __type(key, __u16);
  __type(value, __u8);
  __uint(max_entries, 50);
  __uint(pinning, LIBBPF_PIN_BY_NAME);
} rl_ports_map SEC(".maps");

// Accepted SYNs per aligned 1-s window. Rejected SYNs release their reservation, so a block is
// not prolonged by the attempts it rejects. Old windows leave by LRU eviction (one new key per
// second at most, so the current and the previous window are never the least recently used).
struct {
  __uint(type, BPF_MAP_TYPE_LRU_HASH);
  __type(key, __u64);
  __type(value, __u64);
  __uint(max_entries, 1000);
  __uint(pinning, LIBBPF_PIN_BY_NAME);
} rl_window_map SEC(".maps");

// Counters: pre-zeroed 1-entry arrays, so limiting never depends on the daemon creating entries
// (defect P1), incremented atomically because every CPU shares them.
struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __type(key, __u32);
  __type(value, __u64);
  __uint(max_entries, 1);
  __uint(pinning, LIBBPF_PIN_BY_NAME);
} rl_recv_count_map SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __type(key, __u32);
  __type(value, __u64);
  __uint(max_entries, 1);
  __uint(pinning, LIBBPF_PIN_BY_NAME);
} rl_drop_count_map SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_PROG_ARRAY);
  __uint(key_size, sizeof(__u32));
  __uint(value_size, sizeof(__u32));
  __uint(max_entries, 1);
  __uint(pinning, LIBBPF_PIN_BY_NAME);
} xdp_rl_ingress_next_prog SEC(".maps");

// An 802.1Q/802.1ad tag after the MAC addresses (not in the UAPI headers).
struct rl_vlan_hdr {
  __be16 tci;
  __be16 encapsulated_proto;
};

// The TCP header after an IPv4 header at `ip`, or NULL when the packet carries no parsable TCP
// header: not TCP, a malformed header, a non-first fragment (offset != 0; a first fragment with
// MF set carries the TCP header and is parsed), or a header cut by data_end.
static __always_inline struct tcphdr* rl_tcp_after_ipv4(void* ip_start, void* data_end) {
  struct iphdr* ip = ip_start;
  if ((void*)(ip + 1) > data_end) return NULL;
  if (ip->version != 4 || ip->ihl < 5) return NULL;
  if (ip->frag_off & bpf_htons(0x1fff)) return NULL;
  if (ip->protocol != IPPROTO_TCP) return NULL;
  // ihl is 4 bits: the header length is 20..60 bytes (options included).
  return (struct tcphdr*)((void*)ip + ip->ihl * 4);
}

// The TCP header after an IPv6 header at `ip_start`, walking at most RL_MAX_IPV6_EXT
// hop-by-hop, routing or destination-options headers; NULL for anything else (a fragment
// header, ESP/AH, more extension headers than that, no TCP) or a header cut by data_end.
static __always_inline struct tcphdr* rl_tcp_after_ipv6(void* ip_start, void* data_end) {
  struct ipv6hdr* ip6 = ip_start;
  if ((void*)(ip6 + 1) > data_end) return NULL;
  if (ip6->version != 6) return NULL;
  __u8 next = ip6->nexthdr;
  void* cursor = ip6 + 1;
  // A bounded loop (the verifier walks its RL_MAX_IPV6_EXT iterations); clang cannot unroll it.
  for (int i = 0; i < RL_MAX_IPV6_EXT; i++) {
    if (next == IPPROTO_TCP) break;
    if (next != IPPROTO_HOPOPTS && next != IPPROTO_ROUTING && next != IPPROTO_DSTOPTS) {
      return NULL;
    }
    struct ipv6_opt_hdr* ext = cursor;
    if ((void*)(ext + 1) > data_end) return NULL;
    next = ext->nexthdr;
    // Length in 8-octet units, not counting the first 8 octets: 8..2048 bytes.
    cursor += ((__u32)ext->hdrlen + 1) * 8;
  }
  if (next != IPPROTO_TCP) return NULL;
  return cursor;
}

// Whether the frame [data, data_end) is a TCP SYN without ACK over IPv4 or IPv6 (after up to
// RL_MAX_VLAN_TAGS VLAN tags) with a complete 20-byte TCP header; if so, *dport is its
// destination port in host byte order. Every read is bounds-checked against data_end.
static __always_inline int rl_parse_syn(void* data, void* data_end, __u16* dport) {
  struct ethhdr* eth = data;
  if ((void*)(eth + 1) > data_end) return 0;
  __be16 proto = eth->h_proto;
  void* cursor = eth + 1;
#pragma unroll
  for (int i = 0; i < RL_MAX_VLAN_TAGS; i++) {
    if (proto != bpf_htons(ETH_P_8021Q) && proto != bpf_htons(ETH_P_8021AD)) break;
    struct rl_vlan_hdr* tag = cursor;
    if ((void*)(tag + 1) > data_end) return 0;
    proto = tag->encapsulated_proto;
    cursor = tag + 1;
  }

  struct tcphdr* th;
  if (proto == bpf_htons(ETH_P_IP)) {
    th = rl_tcp_after_ipv4(cursor, data_end);
  } else if (proto == bpf_htons(ETH_P_IPV6)) {
    th = rl_tcp_after_ipv6(cursor, data_end);
  } else {
    return 0;  // ARP, a third VLAN tag, anything else: not ours to judge
  }
  if (!th || (void*)(th + 1) > data_end) return 0;
  if (th->doff < 5 || !th->syn || th->ack) return 0;
  *dport = bpf_ntohs(th->dest);
  return 1;
}

// Decides one SYN to a listed port: 1 = accept, 0 = drop (counted in rl_drop_count_map).
//
// Sliding-window estimate over aligned 1-s windows W = floor(t / 1 s) * 1 s. The SYN first
// reserves its place in W atomically (n = its 1-based position, including SYNs of other CPUs
// still being decided), so concurrent CPUs can never all pass the test together (defect P2).
// One rule in both branches (P3): accept while the count including this SYN is <= rate:
//   no entry for W - 1 s:  n <= rate
//   otherwise:             (100 - f) * accepted(W - 1 s) + 100 * n <= 100 * rate,
//                          f = elapsed hundredths of W.
// A rejected SYN releases its reservation, so rl_window_map[W] counts accepted SYNs only.
static __always_inline int rl_accept_syn(void) {
  __u32 zero = 0;
  __u64* recv = bpf_map_lookup_elem(&rl_recv_count_map, &zero);
  if (recv) __sync_fetch_and_add(recv, 1);

  // rl_config_map is an ARRAY: [0] always exists and is 0 until configured.
  __u64* configured = bpf_map_lookup_elem(&rl_config_map, &zero);
  __u64 rate = configured ? *configured : 0;
  if (rate > RL_RATE_MAX) rate = RL_RATE_MAX;

  __u64 now = bpf_ktime_get_ns();
  __u64 window = now / RL_NSEC_PER_SEC * RL_NSEC_PER_SEC;
  // The window's counter, created with 0 if absent. Looked up first: after the first SYN of a
  // window that is the only call (an LRU update takes a free node, evicting if need be, even
  // when BPF_NOEXIST then fails). Insert-if-absent makes concurrent creators agree on one entry.
  __u64* current = bpf_map_lookup_elem(&rl_window_map, &window);
  if (!current) {
    __u64 initial = 0;
    (void)bpf_map_update_elem(&rl_window_map, &window, &initial, BPF_NOEXIST);
    current = bpf_map_lookup_elem(&rl_window_map, &window);
  }
  // Only if the entry was evicted right after its creation (the map full of newer windows,
  // impossible with one new key per second): accept rather than block on lost state.
  if (!current) return 1;

  __u64 n = __sync_fetch_and_add(current, 1) + 1;
  int accept = n <= rate;  // the estimate below is >= 100 * n, so n > rate rejects in both
  if (accept && window >= RL_NSEC_PER_SEC) {
    __u64 previous_window = window - RL_NSEC_PER_SEC;
    __u64* previous = bpf_map_lookup_elem(&rl_window_map, &previous_window);
    if (previous) {
      __u64 prev = *previous;
      if (prev > RL_RATE_MAX) prev = RL_RATE_MAX;              // only a foreign write can exceed it
      __u64 elapsed = (now - window) * 100 / RL_NSEC_PER_SEC;  // 0..99
      accept = (100 - elapsed) * prev + 100 * n <= 100 * rate;
    }
  }
  if (accept) return 1;

  __sync_fetch_and_sub(current, 1);
  __u64* drops = bpf_map_lookup_elem(&rl_drop_count_map, &zero);
  if (drops) __sync_fetch_and_add(drops, 1);
  return 0;
}

SEC("xdp")
int _xdp_ratelimiting(struct xdp_md* ctx) {
  void* data = (void*)(long)ctx->data;
  void* data_end = (void*)(long)ctx->data_end;
  __u16 dport = 0;
  if (rl_parse_syn(data, data_end, &dport) && bpf_map_lookup_elem(&rl_ports_map, &dport) &&
      !rl_accept_syn()) {
    return XDP_DROP;
  }
  bpf_tail_call(ctx, &xdp_rl_ingress_next_prog, 0);
  return XDP_PASS;
}

char _license[] SEC("license") = "GPL";
