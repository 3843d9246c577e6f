#include "supervisor/confinement.h"

#include <unistd.h>

#include "model/companion.h"
#include "supervisor/proc_identity.h"

namespace l3afd::supervisor {

Result<SpawnOptions> confined_options(const engine::CompanionRequest& r) {
  SpawnOptions o;
  o.cwd = r.package_dir;
  if (!r.program.companion) return o;
  auto id = model::resolve_companion(*r.program.companion);
  if (!id) {
    Error e = std::move(id.error());
    for (auto& item : e.items) {
      item.iface = r.iface;
      item.direction = r.direction;
      item.program = r.program.name;
      item.field = "companion/" + item.field;
    }
    if (!e.items.empty()) e.message = e.items.front().field + ": " + e.items.front().message;
    return fail(std::move(e));
  }
  o.env = std::move(id->environment);
  if (id->change_user) {
    o.credentials = Credentials{.uid = id->uid,
                                .gid = id->gid,
                                .groups = std::move(id->groups),
                                .ambient = id->capabilities};
  }
  return o;
}

bool runs_as(pid_t pid, const SpawnOptions& o) {
  auto c = proc_credentials(pid);
  if (!c) return false;
  if (o.credentials) {
    const auto& want = *o.credentials;
    return c->uid == want.uid && c->euid == want.uid && c->gid == want.gid && c->egid == want.gid;
  }
  return c->uid == ::getuid() && c->euid == ::geteuid() && c->gid == ::getgid() &&
         c->egid == ::getegid();
}

}  // namespace l3afd::supervisor
