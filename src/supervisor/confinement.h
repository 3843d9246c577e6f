// How every command of a program's companion is run (docs/compatibility.md §11.7, issue 12):
// from its package directory, with exactly the environment its `companion.environment` grants
// (none without it), and as the user, groups and ambient capabilities its `companion` names
// (the daemon's own without `user`). no_new_privs, no inherited fds and no blocked signals come
// with every spawn (posix_runner.h). The same options serve cmd_start, cmd_stop, cmd_status and
// cmd_update, so a companion's stop and status commands can reach what it created.
//
// Thread-safety: free functions without state; safe from any thread.
#pragma once

#include <sys/types.h>

#include "core/result.h"
#include "engine/ports.h"
#include "supervisor/posix_runner.h"

namespace l3afd::supervisor {

/// The SpawnOptions r's commands start from: cwd = r.package_dir, env and credentials from
/// r.program.companion, resolved now (model::resolve_companion: names looked up through NSS, so
/// an account removed since the request was validated is noticed here). Errors: InvalidPayload
/// with one ErrorItem per problem, field "companion/<member>", iface/direction/program of r.
Result<SpawnOptions> confined_options(const engine::CompanionRequest& r);

/// Whether the live process `pid` runs as `o` would start one: real and effective uid and gid
/// equal to o.credentials, or to the daemon's own without them. False when it cannot be read.
/// For adoption: a process a previous run started as someone else is not the one asked for.
bool runs_as(pid_t pid, const SpawnOptions& o);

}  // namespace l3afd::supervisor
