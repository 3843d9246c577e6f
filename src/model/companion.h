// The companion extension of a program (`companion`, docs/compatibility.md §11.7, "Ours"): its
// rules and what it means for the processes the supervisor starts. One function checks a
// CompanionSettings and resolves it into the identity and environment the companion's commands
// get; request validation (validate.h) reports its problems, the supervisor applies its result.
//
// Unlike the rest of model this is not pure: user and group names are looked up through NSS
// (getpwnam_r, getgrnam_r, getgrouplist) and capability names through libcap, at each call, so
// that validation and the start of a process see the system's accounts as they are then.
// Thread-safe (the reentrant look-ups only).
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "core/result.h"
#include "model/l3af_types.h"

namespace l3afd::model {

/// At most this many `environment` variables, ...
inline constexpr std::size_t kMaxCompanionVariables = 64;
/// ... names of at most this many bytes, ...
inline constexpr std::size_t kMaxCompanionVariableName = 255;
/// ... and all "NAME=value" strings together at most this many bytes (execve's own limit is far
/// larger; a companion's configuration belongs in its arguments or its package).
inline constexpr std::size_t kMaxCompanionEnvironmentBytes = 32 * 1024;
/// `user` and `group` names: at most this many bytes (useradd's limit).
inline constexpr std::size_t kMaxAccountName = 32;

/// What a CompanionSettings means once checked and resolved.
struct CompanionIdentity {
  /// false: the commands run as the daemon's user, groups and capabilities (no `user`).
  bool change_user = false;
  uid_t uid = 0;
  gid_t gid = 0;              ///< `group`, else the user's primary group
  std::vector<gid_t> groups;  ///< supplementary groups: the user's (as initgroups), plus gid
  /// Capabilities kept across the change of user as ambient capabilities: bit n = capability n.
  std::uint64_t capabilities = 0;
  /// The whole environment of the commands, "NAME=value", sorted by name (empty: none).
  std::vector<std::string> environment;
  bool operator==(const CompanionIdentity&) const = default;
};

/// Checks `s` and resolves it (docs/compatibility.md §11.7):
/// * `user`: a name (1-32 of [A-Za-z0-9._-], not starting with '-', optionally ending in '$')
///   with a passwd entry, or a decimal uid (0-4294967294; with or without an entry).
/// * `group`: the same for groups; only with `user`. Without it: the user's primary group
///   (a uid without passwd entry then needs `group`).
/// * `environment`: at most kMaxCompanionVariables names of [A-Za-z_][A-Za-z0-9_]* (at most
///   kMaxCompanionVariableName bytes), values without NUL, kMaxCompanionEnvironmentBytes in all.
/// * `capabilities`: capabilities(7) names (CAP_BPF, any case) that this kernel has; only with a
///   `user` other than uid 0 (root keeps every capability anyway).
/// Errors: InvalidPayload with one ErrorItem per problem, whose `field` is the member relative to
/// the companion object ("user", "group", "environment/NAME", "capabilities/2") and whose
/// `message` is the rule broken; the caller prefixes the field and fills iface/program.
Result<CompanionIdentity> resolve_companion(const CompanionSettings& s);

}  // namespace l3afd::model
