// A minimal rtnetlink client for what l3afd needs of classic TC: the clsact qdisc and
// direct-action bpf filters. Messages are built in memory and each request waits for the
// kernel's acknowledgement, so every error is reported with its errno.
// Thread-safety: an Rtnetlink object is not thread-safe; use one per thread.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/result.h"
#include "core/unique_fd.h"

namespace l3afd::kernel::libbpf {

/// tcm_parent of the clsact ingress (ffff:fff2) or egress (ffff:fff3) hook.
uint32_t clsact_parent(bool egress) noexcept;

/// One filter of a hook as the kernel dumps it (chain heads without a handle are omitted).
struct TcFilterInfo {
  uint32_t handle = 0;
  uint16_t priority = 0;
  uint16_t protocol = 0;  ///< host byte order (ETH_P_ALL = 3)
  std::string kind;       ///< "bpf", "u32", "matchall", ...
  std::string bpf_name;   ///< TCA_BPF_NAME of bpf filters
  uint32_t bpf_prog_id = 0;
  bool bpf_direct_action = false;
};

/// A direct-action bpf filter, all protocols.
struct BpfFilterSpec {
  uint32_t ifindex = 0;
  uint32_t parent = 0;  ///< clsact_parent()
  uint32_t handle = 0;
  uint16_t priority = 0;
  int prog_fd = -1;
  std::string name;  ///< shown by `tc filter show`
};

class Rtnetlink {
 public:
  /// Opens a NETLINK_ROUTE socket in the caller's network namespace. Errors: Kernel.
  static Result<Rtnetlink> open();

  /// Creates the clsact qdisc on `ifindex` unless a qdisc already occupies the clsact/ingress
  /// slot. Returns true if this call created it. Errors: Kernel (with errno).
  Result<bool> ensure_clsact(uint32_t ifindex);

  /// Adds the filter, failing with Conflict if one with this handle and priority exists
  /// (`replace` false), or creates-or-replaces it atomically (`replace` true, `tc filter
  /// replace`). Errors: Conflict, Kernel.
  Status add_bpf_filter(const BpfFilterSpec& spec, bool replace);

  /// Deletes exactly the filter (parent, priority, handle, ETH_P_ALL, bpf). NotFound if the
  /// hook has no such filter (or no qdisc); Kernel otherwise.
  Status delete_filter(uint32_t ifindex, uint32_t parent, uint16_t priority, uint32_t handle);

  /// Lists the filters of a hook. A hook without a qdisc lists as empty.
  Result<std::vector<TcFilterInfo>> list_filters(uint32_t ifindex, uint32_t parent);

 private:
  explicit Rtnetlink(UniqueFd fd) : fd_(std::move(fd)) {}
  /// Sends one request and collects the replies until the ACK or NLMSG_DONE; returns the
  /// non-error messages (dumps). A negative ACK becomes an Error with its errno.
  Result<std::vector<std::vector<uint8_t>>> transact(std::vector<uint8_t> msg, const char* what);

  UniqueFd fd_;
  uint32_t seq_ = 1;
};

}  // namespace l3afd::kernel::libbpf
