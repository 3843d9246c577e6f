// SPDX-License-Identifier: GPL-2.0
// xdp-counter: counts packets and bytes, then tail-calls slot 0 of its own next-program array
// and falls back to XDP_PASS. Test and example program of l3afd (see README.md).
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __type(key, __u32);
  __type(value, __u64);
  __uint(max_entries, 1);
} xdp_counter_packets SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __type(key, __u32);
  __type(value, __u64);
  __uint(max_entries, 1);
} xdp_counter_bytes SEC(".maps");

// Written by the daemon from map_args; the program only reads key 0 (bytes added per packet
// on top of the frame length, 0 if absent) so that a configured value is observable.
struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __type(key, __u32);
  __type(value, __u64);
  __uint(max_entries, 16);
} xdp_counter_config SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_PROG_ARRAY);
  __uint(key_size, sizeof(__u32));
  __uint(value_size, sizeof(__u32));
  __uint(max_entries, 1);
  __uint(pinning, LIBBPF_PIN_BY_NAME);
} xdp_counter_next_prog SEC(".maps");

// Internal maps: .rodata is pinned by the loader like any other map, .bss is not.
const volatile __u64 xdp_counter_increment = 1;
__u64 xdp_counter_last_len = 0;

SEC("xdp")
int xdp_counter(struct xdp_md* ctx) {
  __u32 zero = 0;
  __u64 len = (__u64)(ctx->data_end - ctx->data);
  __u64* extra = bpf_map_lookup_elem(&xdp_counter_config, &zero);
  __u64* packets = bpf_map_lookup_elem(&xdp_counter_packets, &zero);
  __u64* bytes = bpf_map_lookup_elem(&xdp_counter_bytes, &zero);

  if (packets) __sync_fetch_and_add(packets, xdp_counter_increment);
  if (bytes) __sync_fetch_and_add(bytes, len + (extra ? *extra : 0));
  xdp_counter_last_len = len;

  bpf_tail_call(ctx, &xdp_counter_next_prog, 0);
  return XDP_PASS;
}

char _license[] SEC("license") = "GPL";
