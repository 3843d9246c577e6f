// SPDX-License-Identifier: GPL-2.0
// connection-limit: at most N concurrent ESTABLISHED TCP connections on a set of local ports.
//
// Three programs share the maps below (see connection-limit.md):
//  * _xdp_limit_conn (xdp): the entry program. Drops a new inbound SYN to a listed port when the
//    count of established connections on listed ports is >= cl_max_conn[0]; everything else
//    continues with slot 0 of xdp_cl_ingress_next_prog, falling back to XDP_PASS.
//  * cl_track_state (tp_btf/inet_sock_set_state): keeps cl_conn_info (one entry per counted
//    socket) and cl_conn_count[0] exact as sockets enter and leave TCP_ESTABLISHED.
//  * cl_seed_tcp (iter/tcp): run once after load, counts the connections that were already
//    established before the tracker was attached, with the same socket key as the tracker.
//
// Compiled against a vmlinux.h generated from the running kernel's BTF; kernel structures are
// read with CO-RE relocations, so the object also loads on other kernels with BTF.
#include "vmlinux.h"

#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

// UAPI macros that vmlinux.h (types only) does not carry.
#define CL_AF_INET 2
#define CL_AF_INET6 10
#define CL_ETH_P_IP 0x0800
#define CL_ETH_P_IPV6 0x86DD
#define CL_ETH_P_8021Q 0x8100
#define CL_ETH_P_8021AD 0x88A8
#define CL_IP_MF_OFFSET 0x1FFF  // fragment offset bits of iphdr.frag_off (host order)
#define CL_EEXIST 17

// IPv6 extension headers walked before the TCP header (next-header values).
#define CL_NEXTHDR_HOP 0
#define CL_NEXTHDR_ROUTING 43
#define CL_NEXTHDR_FRAGMENT 44
#define CL_NEXTHDR_AUTH 51
#define CL_NEXTHDR_DEST 60
#define CL_MAX_VLAN 2
#define CL_MAX_IPV6_EXT 4
// Bounded retries of the decrement's compare-and-swap (contention between CPUs only).
#define CL_CAS_TRIES 16

// [0] = N: at most N concurrent connections; a SYN is dropped while the count is >= N.
struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __type(key, __u32);
  __type(value, __u64);
  __uint(max_entries, 1);
  __uint(pinning, LIBBPF_PIN_BY_NAME);
} cl_max_conn SEC(".maps");

// Protected local TCP ports (host byte order) -> any value (presence is what counts).
struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __type(key, __u16);
  __type(value, __u32);
  __uint(max_entries, 200);
  __uint(pinning, LIBBPF_PIN_BY_NAME);
} cl_tcp_conns SEC(".maps");

// [0] = number of entries in cl_conn_info (sockets counted), changed atomically.
struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __type(key, __u32);
  __type(value, __u64);
  __uint(max_entries, 1);
  __uint(pinning, LIBBPF_PIN_BY_NAME);
} cl_conn_count SEC(".maps");

// Counted sockets: kernel address of the struct sock (the raw pointer value, identical in the
// tracker and the iterator) -> local port (host order, informational).
struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __type(key, __u64);
  __type(value, __u32);
  __uint(max_entries, 30000);
  __uint(pinning, LIBBPF_PIN_BY_NAME);
} cl_conn_info SEC(".maps");

// [0] = SYNs to listed ports seen by the XDP program.
struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __type(key, __u32);
  __type(value, __u64);
  __uint(max_entries, 1);
  __uint(pinning, LIBBPF_PIN_BY_NAME);
} cl_recv_count_map SEC(".maps");

// [0] = SYNs dropped by the XDP program.
struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __type(key, __u32);
  __type(value, __u64);
  __uint(max_entries, 1);
  __uint(pinning, LIBBPF_PIN_BY_NAME);
} cl_drop_count_map SEC(".maps");

// [0] = established sockets on listed ports that were NOT counted because cl_conn_info was
// full (the count is too low by at most this much while they live).
struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __type(key, __u32);
  __type(value, __u64);
  __uint(max_entries, 1);
  __uint(pinning, LIBBPF_PIN_BY_NAME);
} cl_overflow_count SEC(".maps");

// [0] = inode number of the network namespace whose sockets are counted (what stat() reports
// for /proc/<pid>/ns/net); 0 counts sockets of every namespace.
struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __type(key, __u32);
  __type(value, __u64);
  __uint(max_entries, 1);
  __uint(pinning, LIBBPF_PIN_BY_NAME);
} cl_netns SEC(".maps");

// Slot 0: the next program of the chain (tail-called by _xdp_limit_conn).
struct {
  __uint(type, BPF_MAP_TYPE_PROG_ARRAY);
  __uint(key_size, sizeof(__u32));
  __uint(value_size, sizeof(__u32));
  __uint(max_entries, 1);
  __uint(pinning, LIBBPF_PIN_BY_NAME);
} xdp_cl_ingress_next_prog SEC(".maps");

static __always_inline void cl_add(void* map, __u64 n) {
  __u32 zero = 0;
  __u64* v = bpf_map_lookup_elem(map, &zero);
  if (v) __sync_fetch_and_add(v, n);
}

// ---------------------------------------------------------------------------------------------
// Socket tracking (tracker and iterator)

static __always_inline bool cl_v4_loopback(__be32 addr) {
  // Network byte order: the first octet is the lowest-addressed byte.
  return (bpf_ntohl(addr) >> 24) == 127;
}

static __always_inline bool cl_v6_loopback(const __u32 w[4]) {
  // ::1, or ::ffff:127.x.y.z (v4-mapped), compared in network byte order.
  if (w[0] != 0 || w[1] != 0) return false;
  if (w[2] == 0 && w[3] == bpf_htonl(1)) return true;
  return w[2] == bpf_htonl(0x0000FFFF) && cl_v4_loopback(w[3]);
}

// True if the socket behind `skc` is a non-loopback socket on a listed local port of the
// counted namespace. Reads through CO-RE (the kernel's own layout).
static __always_inline bool cl_sock_counted(const struct sock_common* skc, __u16* port) {
  __u16 family = BPF_CORE_READ(skc, skc_family);
  if (family == CL_AF_INET) {
    if (cl_v4_loopback(BPF_CORE_READ(skc, skc_rcv_saddr)) ||
        cl_v4_loopback(BPF_CORE_READ(skc, skc_daddr)))
      return false;
  } else if (family == CL_AF_INET6) {
    __u32 local[4], remote[4];
    BPF_CORE_READ_INTO(&local, skc, skc_v6_rcv_saddr.in6_u.u6_addr32);
    BPF_CORE_READ_INTO(&remote, skc, skc_v6_daddr.in6_u.u6_addr32);
    if (cl_v6_loopback(local) || cl_v6_loopback(remote)) return false;
  } else {
    return false;
  }

  __u16 lport = BPF_CORE_READ(skc, skc_num);  // host order
  if (!bpf_map_lookup_elem(&cl_tcp_conns, &lport)) return false;

  __u32 zero = 0;
  __u64* want = bpf_map_lookup_elem(&cl_netns, &zero);
  if (want && *want != 0) {
    __u64 inum = BPF_CORE_READ(skc, skc_net.net, ns.inum);
    if (inum != *want) return false;
  }
  *port = lport;
  return true;
}

// Counts `key` once: the insert is the single point of truth (BPF_NOEXIST), so the tracker and
// the iterator may both see a socket and it is still counted once.
static __always_inline void cl_count_socket(__u64 key, __u32 port) {
  long err = bpf_map_update_elem(&cl_conn_info, &key, &port, BPF_NOEXIST);
  if (err == 0) {
    cl_add(&cl_conn_count, 1);
  } else if (err != -CL_EEXIST) {
    cl_add(&cl_overflow_count, 1);  // -E2BIG: cl_conn_info is full
  }
}

// Uncounts `key` if it was counted. Exactly one decrement per successful delete, so each
// increment is matched once; the compare-and-swap additionally never takes the count below 0
// (only possible if user space rewrote cl_conn_count).
static __always_inline void cl_uncount_socket(__u64 key) {
  if (bpf_map_delete_elem(&cl_conn_info, &key) != 0) return;
  __u32 zero = 0;
  __u64* count = bpf_map_lookup_elem(&cl_conn_count, &zero);
  if (!count) return;
  for (int i = 0; i < CL_CAS_TRIES; i++) {
    __u64 seen = *(volatile __u64*)count;
    if (seen == 0) return;
    if (__sync_val_compare_and_swap(count, seen, seen - 1) == seen) return;
  }
  // Lost every race (not expected in practice): an unconditional atomic decrement keeps the
  // count exact rather than inflated for the socket's lifetime.
  __sync_fetch_and_sub(count, 1);
}

SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(cl_track_state, const struct sock* sk, int oldstate, int newstate) {
  if (!sk || oldstate == newstate) return 0;
  if (BPF_CORE_READ(sk, sk_protocol) != IPPROTO_TCP) return 0;
  __u64 key = (__u64)sk;

  if (newstate == TCP_ESTABLISHED) {
    __u16 port = 0;
    if (cl_sock_counted(&sk->__sk_common, &port)) cl_count_socket(key, port);
  } else if (oldstate == TCP_ESTABLISHED) {
    // No filters needed: only counted sockets are in cl_conn_info, and filters (ports, netns)
    // may have changed since the socket was counted.
    cl_uncount_socket(key);
  }
  return 0;
}

// Run once after the tracker is attached (read the iterator to EOF). It sees the sockets of the
// network namespace in which the iterator was created; the kernel locks each full socket while
// the program runs, so a socket cannot change state between the check and the insert, and
// sockets closed before the visit are unhashed and skipped.
SEC("iter/tcp")
int cl_seed_tcp(struct bpf_iter__tcp* ctx) {
  struct sock_common* skc = ctx->sk_common;
  if (!skc) return 0;
  if (BPF_CORE_READ(skc, skc_state) != TCP_ESTABLISHED) return 0;  // also skips req/tw socks
  __u16 port = 0;
  if (cl_sock_counted(skc, &port)) cl_count_socket((__u64)skc, port);
  return 0;
}

// ---------------------------------------------------------------------------------------------
// XDP entry

struct cl_vlan_hdr {
  __be16 tci;
  __be16 encapsulated_proto;
};

// Returns the TCP header of an IPv4/IPv6 TCP segment carrying the TCP header, else NULL.
// Every access is bounds-checked against data_end; what is not understood yields NULL.
static __always_inline struct tcphdr* cl_parse_tcp(void* data, void* data_end) {
  struct ethhdr* eth = data;
  if ((void*)(eth + 1) > data_end) return NULL;
  __be16 proto = eth->h_proto;
  void* cur = eth + 1;

  // Bounded loops (verified by the kernel, no unrolling needed).
  for (int i = 0; i < CL_MAX_VLAN; i++) {
    if (proto != bpf_htons(CL_ETH_P_8021Q) && proto != bpf_htons(CL_ETH_P_8021AD)) break;
    struct cl_vlan_hdr* vlan = cur;
    if ((void*)(vlan + 1) > data_end) return NULL;
    proto = vlan->encapsulated_proto;
    cur = vlan + 1;
  }

  if (proto == bpf_htons(CL_ETH_P_IP)) {
    struct iphdr* ip = cur;
    if ((void*)(ip + 1) > data_end) return NULL;
    if (ip->ihl < 5 || ip->protocol != IPPROTO_TCP) return NULL;
    if (bpf_ntohs(ip->frag_off) & CL_IP_MF_OFFSET) return NULL;  // non-first fragment
    cur = (void*)ip + ip->ihl * 4;
  } else if (proto == bpf_htons(CL_ETH_P_IPV6)) {
    struct ipv6hdr* ip6 = cur;
    if ((void*)(ip6 + 1) > data_end) return NULL;
    __u8 next = ip6->nexthdr;
    cur = ip6 + 1;
    for (int i = 0; i < CL_MAX_IPV6_EXT; i++) {
      if (next == IPPROTO_TCP) break;
      if (next != CL_NEXTHDR_HOP && next != CL_NEXTHDR_ROUTING && next != CL_NEXTHDR_DEST &&
          next != CL_NEXTHDR_AUTH)
        return NULL;  // fragment header, no next header, other protocols: pass
      __u8* ext = cur;
      if ((void*)(ext + 2) > data_end) return NULL;
      __u32 len = next == CL_NEXTHDR_AUTH ? ((__u32)ext[1] + 2) * 4 : ((__u32)ext[1] + 1) * 8;
      next = ext[0];
      cur = ext + len;
    }
    if (next != IPPROTO_TCP) return NULL;
  } else {
    return NULL;
  }

  struct tcphdr* tcp = cur;
  if ((void*)(tcp + 1) > data_end) return NULL;
  return tcp;
}

SEC("xdp")
int _xdp_limit_conn(struct xdp_md* ctx) {
  void* data = (void*)(long)ctx->data;
  void* data_end = (void*)(long)ctx->data_end;
  struct tcphdr* tcp = cl_parse_tcp(data, data_end);

  if (tcp && tcp->syn && !tcp->ack) {
    __u16 dport = bpf_ntohs(tcp->dest);
    if (bpf_map_lookup_elem(&cl_tcp_conns, &dport)) {
      __u32 zero = 0;
      cl_add(&cl_recv_count_map, 1);
      __u64* count = bpf_map_lookup_elem(&cl_conn_count, &zero);
      __u64* max = bpf_map_lookup_elem(&cl_max_conn, &zero);
      if (count && max && *count >= *max) {
        cl_add(&cl_drop_count_map, 1);
        return XDP_DROP;
      }
    }
  }

  bpf_tail_call(ctx, &xdp_cl_ingress_next_prog, 0);
  return XDP_PASS;
}

char _license[] SEC("license") = "GPL";
