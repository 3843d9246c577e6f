// SPDX-License-Identifier: GPL-2.0
// probe-manual: test object (never packaged) whose uprobe has a bare section, SEC("uprobe"):
// libbpf can load it but not attach it by itself (no <binary>:<function>), so
// probe_sections()/load_probes() refuse it, naming the section. Its tracepoint program is
// attachable; the refusal must come before anything is loaded.
#include <linux/bpf.h>
// After linux/bpf.h: bpf_helpers.h needs its types.
#include <bpf/bpf_helpers.h>

SEC("tracepoint/syscalls/sys_enter_getppid")
int manual_getppid(void* ctx) {
  (void)ctx;
  return 0;
}

SEC("uprobe")
int manual_uprobe(void* ctx) {
  (void)ctx;
  return 0;
}

char _license[] SEC("license") = "GPL";
