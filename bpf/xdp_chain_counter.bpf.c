// SPDX-License-Identifier: GPL-2.0
// xdp-chain-counter: test program of the chain packet tests (packaged as chain-a .. chain-f).
// Counts every packet in a per-CPU counter (exact under concurrency, no atomics), then
// tail-calls slot 0 of its own next-program array and falls back to XDP_PASS (docs/chain-protocol.md §1.1).
#include <linux/bpf.h>
// After linux/bpf.h: bpf_helpers.h needs its types.
#include <bpf/bpf_helpers.h>

struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __type(key, __u32);
  __type(value, __u64);
  __uint(max_entries, 1);
} chain_packets SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_PROG_ARRAY);
  __uint(key_size, sizeof(__u32));
  __uint(value_size, sizeof(__u32));
  __uint(max_entries, 1);
  __uint(pinning, LIBBPF_PIN_BY_NAME);
} chain_next SEC(".maps");

SEC("xdp")
int xdp_chain_counter(struct xdp_md* ctx) {
  __u32 zero = 0;
  __u64* packets = bpf_map_lookup_elem(&chain_packets, &zero);
  if (packets) *packets += 1;
  bpf_tail_call(ctx, &chain_next, 0);
  return XDP_PASS;
}

char _license[] SEC("license") = "GPL";
