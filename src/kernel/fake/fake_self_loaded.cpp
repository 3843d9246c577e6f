// Programs a package binary loads itself (docs/chain-protocol.md §4.6), as the fake models
// them: create_staging(), remove_staging(), take_self_loaded(), and simulate_self_load(), the
// test's stand-in for the binary. The fake does not wait: take_self_loaded() sees at once what
// simulate_self_load() did before it, and answers Timeout otherwise.
#include <algorithm>
#include <cerrno>

#include "kernel/fake/fake_kernel.h"

namespace l3afd::kernel::fake {

namespace {
constexpr uint32_t kProgArrayType = 3;  // BPF_MAP_TYPE_PROG_ARRAY
}  // namespace

Status FakeKernel::create_staging(const std::filesystem::path& pin) {
  if (pins_.contains(pin.string())) {
    return fail(Errc::Conflict, "cannot create a staging array at " + pin.string() +
                                    ": something is pinned there already");
  }
  if (auto s = hit("create staging " + pin.string()); !s) return s;
  pins_.insert(pin.string());
  return ok();
}

Status FakeKernel::remove_staging(const std::filesystem::path& pin) {
  if (!pins_.contains(pin.string())) return ok();
  if (auto s = hit("remove staging " + pin.string()); !s) return s;
  pins_.erase(pin.string());
  self_loaded_.erase(pin.string());  // the slot's reference goes with the array
  return ok();
}

Result<uint32_t> FakeKernel::simulate_self_load(const SelfLoad& s) {
  if (!pins_.contains(s.staging_pin.string())) {
    return fail(Errc::NotFound, "binary: no staging array pinned at " + s.staging_pin.string(),
                ENOENT);
  }
  SelfLoaded p;
  p.how = s;
  for (auto m : s.maps) {
    m.id = next_id_++;
    m.pin = s.map_pin_dir / m.name;
    if (pins_.insert(m.pin.string()).second) maps_[m.pin.string()];
    p.maps.push_back(m);
  }
  if (!s.next_array_pin.empty()) {
    MapInfo next{s.next_array, next_id_++, kProgArrayType, 4, 4, 1, s.next_array_pin};
    pins_.insert(s.next_array_pin.string());
    p.maps.push_back(next);
  }
  if (s.write_slot) p.prog_id = next_id_++;
  const uint32_t id = p.prog_id;
  self_loaded_[s.staging_pin.string()] = std::move(p);
  return id;
}

Result<LoadedObject> FakeKernel::take_self_loaded(const SelfLoadedSpec& spec) {
  if (objects_.contains(spec.key))
    return fail(Errc::Conflict, "object " + spec.key + " already loaded");
  if (!spec.private_map.empty() && !pins_.contains(spec.next_array_pin.string())) {
    return fail(Errc::Timeout, "the program's binary did not pin its next array " +
                                   spec.private_map + " at " + spec.next_array_pin.string());
  }
  auto it = self_loaded_.find(spec.staging_pin.string());
  if (!pins_.contains(spec.staging_pin.string())) {
    return fail(Errc::NotFound, "no staging array pinned at " + spec.staging_pin.string());
  }
  if (it == self_loaded_.end() || it->second.prog_id == 0) {
    return fail(Errc::Timeout,
                "the program's binary did not write its program into slot 0 of the staging "
                "array " +
                    spec.staging_pin.string());
  }
  const SelfLoaded& p = it->second;
  if (p.how.tc != model::is_tc(spec.hook)) {
    return fail(Errc::Conflict, "program in the staging array " + spec.staging_pin.string() +
                                    " does not have the type of hook " +
                                    std::string(model::direction(spec.hook)));
  }
  if (!spec.private_map.empty() &&
      (!p.how.uses_next_array || p.how.next_array_pin != spec.next_array_pin)) {
    return fail(Errc::Conflict, "the array pinned at " + spec.next_array_pin.string() +
                                    " is not the next array of the program in " +
                                    spec.staging_pin.string());
  }
  if (auto s = hit("take self loaded " + spec.key); !s) return fail(std::move(s.error()));
  Obj o;
  o.prog_id = p.prog_id;
  o.prog_pin = spec.prog_pin_path;
  o.tc = p.how.tc;
  LoadedObject out;
  out.prog_id = o.prog_id;
  if (pins_.insert(spec.prog_pin_path.string()).second) o.created.push_back(spec.prog_pin_path);
  for (auto m : p.maps) {
    if (m.pin == spec.next_array_pin) m.name = spec.private_map;
    o.map_pins.push_back(m.pin.string());
    // Pins another loaded object shares stay out of the rollback, like the real adapter's.
    if (!pin_in_use_by_other(m.pin.string(), spec.key)) o.created.push_back(m.pin);
    o.maps.push_back(m);
    out.maps.push_back(m);
  }
  out.pins_created = o.created;
  objects_[spec.key] = std::move(o);
  self_loaded_.erase(it);
  return out;
}

}  // namespace l3afd::kernel::fake
