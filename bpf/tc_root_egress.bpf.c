// SPDX-License-Identifier: GPL-2.0
// tc-root (egress): the chain root of a TC egress hook (docs/chain-protocol.md §1.1). Tail-calls slot 0 of its
// array; an empty slot returns TC_ACT_UNSPEC (= TCX_NEXT), so other owners' TCX programs and
// legacy filters behind the root still run (docs/chain-protocol.md §5).
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>

struct {
  __uint(type, BPF_MAP_TYPE_PROG_ARRAY);
  __uint(key_size, sizeof(__u32));
  __uint(value_size, sizeof(__u32));
  __uint(max_entries, 1);
  __uint(pinning, LIBBPF_PIN_BY_NAME);
} tc_egress_root_array SEC(".maps");

SEC("tc")
int tc_egress_root(struct __sk_buff* skb) {
  bpf_tail_call(skb, &tc_egress_root_array, 0);
  return TC_ACT_UNSPEC;
}

char _license[] SEC("license") = "GPL";
