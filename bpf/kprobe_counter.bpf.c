// SPDX-License-Identifier: GPL-2.0
// kprobe-counter: test object for bpf_programs.probes on kernels without kprobe support (this
// project's): a kprobe and a kretprobe on do_unlinkat next to a tracepoint, each counting into
// its own 1-entry ARRAY. probe_sections()/load_probes() must refuse the whole object, naming the
// kprobe section, before anything is loaded (docs/packages.md §1.4).
#include <linux/bpf.h>
// After linux/bpf.h: bpf_helpers.h needs its types.
#include <bpf/bpf_helpers.h>

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __type(key, __u32);
  __type(value, __u64);
  __uint(max_entries, 1);
} kprobe_unlink_count SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __type(key, __u32);
  __type(value, __u64);
  __uint(max_entries, 1);
} kretprobe_unlink_count SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __type(key, __u32);
  __type(value, __u64);
  __uint(max_entries, 1);
} kprobe_getppid_count SEC(".maps");

static void count(void* map) {
  __u32 zero = 0;
  __u64* n = bpf_map_lookup_elem(map, &zero);
  if (n) __sync_fetch_and_add(n, 1);
}

SEC("tracepoint/syscalls/sys_enter_getppid")
int kprobe_obj_getppid(void* ctx) {
  (void)ctx;
  count(&kprobe_getppid_count);
  return 0;
}

SEC("kprobe/do_unlinkat")
int kprobe_unlinkat(void* ctx) {
  (void)ctx;
  count(&kprobe_unlink_count);
  return 0;
}

SEC("kretprobe/do_unlinkat")
int kretprobe_unlinkat(void* ctx) {
  (void)ctx;
  count(&kretprobe_unlink_count);
  return 0;
}

char _license[] SEC("license") = "GPL";
