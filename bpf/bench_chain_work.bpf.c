// SPDX-License-Identifier: GPL-2.0
// bench-chain-work: the per-packet work of the chain benchmark (bench/measure_chain.cpp). Built
// into <build>/bpf/objects/ only, never packaged into the repository.
//
// Two programs share one work function, so that a chain of N `bench_chain_work` programs and one
// `bench_inline_work` program with bench_repeat = N execute the same work N times and differ only
// by the tail calls between the programs:
//   bench_chain_work:  work once, tail-call slot 0 of bench_next, else XDP_PASS (a chain element,
//                      shaped like xdp_counter).
//   bench_inline_work: work bench_repeat times (1..BENCH_MAX_REPEAT) in one program, then the same
//                      tail call into bench_next (left empty by the bench) and XDP_PASS.
// The bench loads one program per object (the other is not autoloaded) and pins nothing.
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>

#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#define BENCH_MAX_REPEAT 16

// Per-CPU so that the work needs no atomic instruction; the bench sums the CPUs.
struct bench_count {
  __u64 packets;   // every frame seen
  __u64 ipv4_udp;  // frames that parsed as Ethernet + IPv4 (ihl >= 5) carrying UDP
};

struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __type(key, __u32);
  __type(value, struct bench_count);
  __uint(max_entries, 1);
} bench_counts SEC(".maps");

// Slot 0: the next program of the chain. Not pinned: every load gets its own array.
struct {
  __uint(type, BPF_MAP_TYPE_PROG_ARRAY);
  __uint(key_size, sizeof(__u32));
  __uint(value_size, sizeof(__u32));
  __uint(max_entries, 1);
} bench_next SEC(".maps");

// Set by the bench before load (.rodata, frozen): the verifier then knows the trip count. It is
// the only .rodata variable, which the bench relies on (it writes the whole 4-byte section).
const volatile __u32 bench_repeat = 1;

// Bounds-checked Ethernet + IPv4 parse and a counter update. The map lookup is a helper call,
// which the compiler cannot merge or hoist, so N inlined copies really do N times the work.
static __always_inline void bench_work(struct xdp_md* ctx) {
  __u32 zero = 0;
  struct bench_count* c = bpf_map_lookup_elem(&bench_counts, &zero);
  if (!c) return;
  c->packets++;
  void* data = (void*)(long)ctx->data;
  void* data_end = (void*)(long)ctx->data_end;
  struct ethhdr* eth = data;
  if ((void*)(eth + 1) > data_end || eth->h_proto != bpf_htons(ETH_P_IP)) return;
  struct iphdr* ip = (void*)(eth + 1);
  if ((void*)(ip + 1) > data_end || ip->ihl < 5 || ip->protocol != IPPROTO_UDP) return;
  c->ipv4_udp++;
}

SEC("xdp")
int bench_chain_work(struct xdp_md* ctx) {
  bench_work(ctx);
  bpf_tail_call(ctx, &bench_next, 0);
  return XDP_PASS;
}

// Fully unrolled, so that the verifier, which knows bench_repeat, turns the comparisons into
// unconditional jumps and removes the copies beyond bench_repeat: the program that runs is N
// straight copies of the work, with no loop counter (a lower bound without loop overhead).
SEC("xdp")
int bench_inline_work(struct xdp_md* ctx) {
#pragma clang loop unroll(full)
  for (__u32 i = 0; i < BENCH_MAX_REPEAT; i++) {
    if (i >= bench_repeat) break;
    bench_work(ctx);
  }
  bpf_tail_call(ctx, &bench_next, 0);
  return XDP_PASS;
}

char _license[] SEC("license") = "GPL";
