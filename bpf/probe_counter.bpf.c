// SPDX-License-Identifier: GPL-2.0
// probe-counter: test object for bpf_programs.probes (docs/packages.md §1.4, §7). Two probe
// programs, no entry program:
//  * probe_getppid (tracepoint/syscalls/sys_enter_getppid) counts the getppid() calls of one
//    process, whose tgid is written to probe_counter_config[0] (map_args), in
//    probe_getppid_count[0];
//  * probe_target_call (a uprobe on function l3afd_probe_target of the test binary
//    l3afd-probe-target, bpf/probe_target.c) counts every call of that function in
//    probe_target_count[0]. Section names are fixed at compile time, so the binary's absolute
//    path in the build tree comes from bpf/CMakeLists.txt as L3AFD_PROBE_TARGET.
#include <linux/bpf.h>
// After linux/bpf.h: bpf_helpers.h needs its types.
#include <bpf/bpf_helpers.h>

#ifndef L3AFD_PROBE_TARGET
#error "L3AFD_PROBE_TARGET: absolute path of l3afd-probe-target (set by bpf/CMakeLists.txt)"
#endif

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __type(key, __u32);
  __type(value, __u64);
  __uint(max_entries, 1);
} probe_counter_config SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __type(key, __u32);
  __type(value, __u64);
  __uint(max_entries, 1);
} probe_getppid_count SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __type(key, __u32);
  __type(value, __u64);
  __uint(max_entries, 1);
} probe_target_count SEC(".maps");

static void count(void* map) {
  __u32 zero = 0;
  __u64* n = bpf_map_lookup_elem(map, &zero);
  if (n) __sync_fetch_and_add(n, 1);
}

SEC("tracepoint/syscalls/sys_enter_getppid")
int probe_getppid(void* ctx) {
  (void)ctx;
  __u32 zero = 0;
  __u64* want = bpf_map_lookup_elem(&probe_counter_config, &zero);
  if (!want || *want != (bpf_get_current_pid_tgid() >> 32)) return 0;
  count(&probe_getppid_count);
  return 0;
}

SEC("uprobe/" L3AFD_PROBE_TARGET ":l3afd_probe_target")
int probe_target_call(void* ctx) {
  (void)ctx;
  count(&probe_target_count);
  return 0;
}

char _license[] SEC("license") = "GPL";
