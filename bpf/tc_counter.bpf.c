// SPDX-License-Identifier: GPL-2.0
// tc-counter: counts packets, then tail-calls slot 0 of its own next-program array and falls
// back to TC_ACT_UNSPEC (= TCX_NEXT: "no verdict", valid under TCX and direct-action filters).
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __type(key, __u32);
  __type(value, __u64);
  __uint(max_entries, 1);
} tc_counter_packets SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_PROG_ARRAY);
  __uint(key_size, sizeof(__u32));
  __uint(value_size, sizeof(__u32));
  __uint(max_entries, 1);
  __uint(pinning, LIBBPF_PIN_BY_NAME);
} tc_counter_next_prog SEC(".maps");

SEC("tc")
int tc_counter(struct __sk_buff* skb) {
  __u32 zero = 0;
  __u64* packets = bpf_map_lookup_elem(&tc_counter_packets, &zero);
  if (packets) __sync_fetch_and_add(packets, 1);

  bpf_tail_call(skb, &tc_counter_next_prog, 0);
  return TC_ACT_UNSPEC;
}

char _license[] SEC("license") = "GPL";
