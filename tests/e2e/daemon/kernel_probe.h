// Kernel-side observations for the e2e tests: program liveness, what is attached to an
// interface (XDP, TCX, classic clsact), the private bpffs, and egress traffic. Test-only.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "support/netns.h"

namespace l3afd::e2e {

namespace fs = std::filesystem;

/// Programs as seen by the kernel on one interface.
struct AttachedPrograms {
  uint32_t xdp = 0;                   ///< bpf_xdp_query prog id (0 = none)
  std::vector<uint32_t> tcx_ingress;  ///< TCX ingress prog ids
  std::vector<uint32_t> tcx_egress;
  std::vector<uint32_t> classic_ingress;  ///< clsact filter prog ids
  std::vector<uint32_t> classic_egress;
  bool operator==(const AttachedPrograms&) const = default;
};

/// True if a program with this id exists now.
bool prog_alive(uint32_t id);
/// Polls (bounded) until the program is gone (freed after RCU); true if it went.
bool prog_gone_eventually(uint32_t id);
/// Programs attached to `iface` (XDP, TCX, classic clsact).
AttachedPrograms attached_programs(const std::string& iface);
/// Regular files under /sys/fs/bpf (sorted), except the kernel's own *.debug iterators.
std::vector<std::string> bpffs_files();
/// Every entry under /sys/fs/bpf except *.debug: path -> "dir" or "<prog|map|link>:ID".
std::map<std::string, std::string> pin_listing();
/// Polls `pred` up to 200 x 50 ms.
bool eventually(const std::function<bool()>& pred);
/// Sends `count` UDP datagrams from the root side to the peer (egress on the root veth).
int send_udp_to_peer(const testing::VethPair& v, int count, uint16_t port = 9998);

}  // namespace l3afd::e2e
