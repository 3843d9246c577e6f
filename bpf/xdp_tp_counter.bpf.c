// SPDX-License-Identifier: GPL-2.0
// xdp-tp-counter: test object with a classic tracepoint companion (packaged as tp-counter).
// The XDP entry program passes everything; the companion program on
// tracepoint/syscalls/sys_enter_getppid counts the getppid() calls of one process (its tgid is
// written to tp_counter_config[0] through map_args) in tp_counter_events[0]. A classic
// tracepoint needs tracefs to be attached by name (libbpf reads the event id there), which is
// what the e2e test of the daemon's tracefs mount uses it for (docs/packages.md §1.4).
#include <linux/bpf.h>
// After linux/bpf.h: bpf_helpers.h needs its types.
#include <bpf/bpf_helpers.h>

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __type(key, __u32);
  __type(value, __u64);
  __uint(max_entries, 1);
} tp_counter_config SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __type(key, __u32);
  __type(value, __u64);
  __uint(max_entries, 1);
} tp_counter_events SEC(".maps");

SEC("tracepoint/syscalls/sys_enter_getppid")
int tp_count_getppid(void* ctx) {
  (void)ctx;
  __u32 zero = 0;
  __u64* want = bpf_map_lookup_elem(&tp_counter_config, &zero);
  if (!want || *want != (bpf_get_current_pid_tgid() >> 32)) return 0;
  __u64* events = bpf_map_lookup_elem(&tp_counter_events, &zero);
  if (events) __sync_fetch_and_add(events, 1);
  return 0;
}

SEC("xdp")
int xdp_tp_counter(struct xdp_md* ctx) {
  (void)ctx;
  return XDP_PASS;
}

char _license[] SEC("license") = "GPL";
