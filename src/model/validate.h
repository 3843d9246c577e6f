// Input validation of add/update/delete requests (docs/compatibility.md §4.8), run on the whole
// decoded request before anything is applied. Pure apart from the injected iface_state probe
// and the account and capability look-ups of a program's `companion` (model/companion.h).
// Thread-safe if `iface_state` is.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "model/l3af_types.h"

namespace l3afd::model {

enum class IfaceState { Ok, Missing, Loopback };

struct ValidationContext {
  std::string host_name;  ///< this host (gethostname); compared exactly
  bool chaining = false;  ///< [l3afd] bpf-chaining-enabled
  std::vector<std::string>
      root_names;  ///< root package names (xdp-root, tc-root), refused as names
  /// Companion programs can be run (the daemon has a supervisor): cmd_start and programs
  /// without object_file are accepted (docs/compatibility.md §11).
  bool companions = false;
  /// State of a network interface now; unset = every interface is Ok (no check).
  std::function<IfaceState(const std::string&)> iface_state;
};

/// Validates an add or update request. Collects every problem as an ErrorItem (iface,
/// direction, program when known; field = JSON pointer into the canonical body such as
/// /0/bpf_programs/xdp_ingress/1/seq_id; message = the rule broken).
/// Errors: Errc::InvalidPayload if any payload rule fails; else Errc::WrongHost if some
/// host_name differs from ctx.host_name; else Errc::UnknownInterface if some iface is missing
/// or loopback. `items` always holds all problems found, of every kind.
/// Does not check conflicts with installed programs or "several programs on one hook without
/// chaining" (409, the engine's job).
Status validate_programs(const std::vector<L3afBpfPrograms>& request, const ValidationContext& ctx);

/// The ipv4_address rule: empty, or an IPv4 address a.b.c.d as inet_pton(AF_INET) accepts it.
/// Returns why `value` is refused (quoting at most 20 bytes of it), empty when it is fine. Pure.
std::string ipv4_address_problem(std::string_view value);

/// Validates a delete request: names (as for programs), iface syntax, host_name. A missing
/// interface is fine (delete of a vanished interface succeeds). Errors as validate_programs,
/// never Errc::UnknownInterface.
Status validate_names(const std::vector<L3afBpfProgramNames>& request,
                      const ValidationContext& ctx);

}  // namespace l3afd::model
