// Backfills for the UAPI headers (linux-libc-dev 6.1) and libbpf 1.1 this project builds with,
// which predate TCX (Linux 6.6). Values are kernel ABI and therefore stable. One place only:
// every other file of the adapter takes these names from here.
#pragma once

#include <linux/bpf.h>

#include <cstdint>

namespace l3afd::kernel::libbpf {

/// enum bpf_attach_type values added in 6.6 (docs/chain-protocol.md §5).
inline constexpr auto kBpfTcxIngress = static_cast<enum bpf_attach_type>(46);
inline constexpr auto kBpfTcxEgress = static_cast<enum bpf_attach_type>(47);

/// enum bpf_link_type value added in 6.6.
inline constexpr uint32_t kBpfLinkTypeTcx = 11;

/// The ifindex of an XDP or TCX link from its info. The TCX member of the info union
/// ({ifindex, attach_type}) starts at the same offset as the XDP member ({ifindex}), which
/// the old headers already have.
inline uint32_t link_info_ifindex(const struct bpf_link_info& info) {
  return info.xdp.ifindex;
}

}  // namespace l3afd::kernel::libbpf
