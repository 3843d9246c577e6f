// SPDX-License-Identifier: GPL-2.0
// bench-pass: returns XDP_PASS and does nothing else. The bench (bench/measure_programs.cpp)
// measures it next to real programs, so that their rows can be read as "harness + this much".
// Built into <build>/bpf/objects/ only, never packaged.
#include <linux/bpf.h>
// After linux/bpf.h: bpf_helpers.h needs its types.
#include <bpf/bpf_helpers.h>

SEC("xdp")
int bench_pass(struct xdp_md* ctx) {
  return XDP_PASS;
}

char _license[] SEC("license") = "GPL";
