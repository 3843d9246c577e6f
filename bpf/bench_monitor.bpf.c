// SPDX-License-Identifier: GPL-2.0
// bench-monitor: the program of the bench's "/metrics at scale" section (bench/README.md §9).
// Two maps of 10240 u64 counters each, one ARRAY and one PERCPU_ARRAY (summed over CPUs by the
// daemon's sampler), which the bench lists in monitor_maps with key ranges (key_end) to get up to
// 10,000 l3afd_BPFMonitorMap series from one program. The program counts every frame in key 0
// of both maps, tail-calls slot 0 of its own next-program array and falls back to XDP_PASS.
// Packaged as bench-monitor (test-only).
#include <linux/bpf.h>
// After linux/bpf.h: bpf_helpers.h needs its types.
#include <bpf/bpf_helpers.h>

#define BENCH_MONITOR_KEYS 10240

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __type(key, __u32);
  __type(value, __u64);
  __uint(max_entries, BENCH_MONITOR_KEYS);
} bench_counters SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __type(key, __u32);
  __type(value, __u64);
  __uint(max_entries, BENCH_MONITOR_KEYS);
} bench_percpu_counters SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_PROG_ARRAY);
  __uint(key_size, sizeof(__u32));
  __uint(value_size, sizeof(__u32));
  __uint(max_entries, 1);
  __uint(pinning, LIBBPF_PIN_BY_NAME);
} bench_monitor_next_prog SEC(".maps");

SEC("xdp")
int bench_monitor(struct xdp_md* ctx) {
  __u32 zero = 0;
  __u64* shared = bpf_map_lookup_elem(&bench_counters, &zero);
  __u64* mine = bpf_map_lookup_elem(&bench_percpu_counters, &zero);

  if (shared) __sync_fetch_and_add(shared, 1);
  if (mine) *mine += 1;

  bpf_tail_call(ctx, &bench_monitor_next_prog, 0);
  return XDP_PASS;
}

char _license[] SEC("license") = "GPL";
