// SPDX-License-Identifier: GPL-2.0
// Test object, not packaged: the verifier must reject it (packet read without a bounds check).
// It has a by-name map so that tests can check a failed load leaves no pins behind.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
  __uint(type, BPF_MAP_TYPE_PROG_ARRAY);
  __uint(key_size, sizeof(__u32));
  __uint(value_size, sizeof(__u32));
  __uint(max_entries, 1);
  __uint(pinning, LIBBPF_PIN_BY_NAME);
} verifier_reject_next_prog SEC(".maps");

SEC("xdp")
int verifier_reject(struct xdp_md* ctx) {
  unsigned char* p = (unsigned char*)(long)ctx->data;
  if (p[0] == 1) bpf_tail_call(ctx, &verifier_reject_next_prog, 0);
  return XDP_PASS;
}

char _license[] SEC("license") = "GPL";
