// SPDX-License-Identifier: GPL-2.0
// xdp-root: the chain root of an XDP hook (docs/chain-protocol.md §1.1). Tail-calls slot 0 of its array;
// an empty slot passes the packet.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
  __uint(type, BPF_MAP_TYPE_PROG_ARRAY);
  __uint(key_size, sizeof(__u32));
  __uint(value_size, sizeof(__u32));
  __uint(max_entries, 1);
  __uint(pinning, LIBBPF_PIN_BY_NAME);
} xdp_root_array SEC(".maps");

SEC("xdp")
int xdp_root(struct xdp_md* ctx) {
  bpf_tail_call(ctx, &xdp_root_array, 0);
  return XDP_PASS;
}

char _license[] SEC("license") = "GPL";
