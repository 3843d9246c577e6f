// Probes of FakeKernel (bpf_programs.probes): sections from ObjectDef::programs, classified by
// the real adapter's rules (kernel/probe_sections.h); a probe key is an Obj whose `probes`
// hold its links (pins `<link_dir>/<function>_<kind>`), so discard(), unload(),
// configure_maps() and map_reader() work on it like on a program key.
#include <algorithm>

#include "kernel/fake/fake_kernel.h"

namespace l3afd::kernel::fake {

void FakeKernel::erase_pin(const std::string& pin) {
  pins_.erase(pin);
  maps_.erase(pin);
  probe_links_.erase(pin);
  probe_maps_.erase(pin);
}

void FakeKernel::forget(const std::string& key) {
  objects_.erase(key);
}

Result<std::vector<ProbeSection>> FakeKernel::probe_sections(
    const std::filesystem::path& object_file) {
  auto def = defs_.find(object_file.filename().string());
  if (def == defs_.end()) {
    return invalid_object_file("object_file " + object_file.filename().string() +
                               " cannot be read: no such file (fake)");
  }
  KprobeSupport kprobes{kprobes_, "fake kernel configured without kprobes"};
  return classify_probe_programs(object_file, def->second.programs, kprobes);
}

Result<LoadedProbes> FakeKernel::load_probes(const ProbeSpec& spec) {
  if (objects_.contains(spec.key))
    return fail(Errc::Conflict, "object " + spec.key + " already loaded");
  auto sections = probe_sections(spec.object_file);
  if (!sections) return fail(std::move(sections.error()));
  if (auto s = hit("load probes " + spec.key); !s) return fail(std::move(s.error()));
  const ObjectDef& def = defs_.at(spec.object_file.filename().string());
  Obj o;
  LoadedProbes out;
  for (auto m : def.maps) {
    m.id = next_id_++;
    m.pin = spec.map_pin_dir / m.name;
    const std::string pin = m.pin.string();
    o.map_pins.push_back(pin);
    if (pins_.insert(pin).second) {
      o.created.push_back(m.pin);
      maps_[pin];  // empty map
      probe_maps_[pin] = m;
    }
    o.maps.push_back(m);
  }
  for (const ProbeSection& p : *sections) {
    AttachedProbe a{p, next_id_++, next_id_++, spec.link_dir / probe_link_pin_name(p)};
    const std::string pin = a.link_pin.string();
    // A pin of that name is replaced (the link it held is detached).
    if (pins_.insert(pin).second) o.created.push_back(a.link_pin);
    probe_links_[pin] = a;
    o.probes.push_back(a);
  }
  out.probes = o.probes;
  out.maps = o.maps;
  out.pins_created = o.created;
  objects_[spec.key] = std::move(o);
  return out;
}

Result<LoadedProbes> FakeKernel::adopt_probes(const ProbeSpec& spec) {
  if (objects_.contains(spec.key))
    return fail(Errc::Conflict, "object " + spec.key + " already loaded");
  // Changes nothing, so not a change made without the lock; still injectable.
  if (auto s = inj_.hit("adopt probes " + spec.key); !s) return fail(std::move(s.error()));
  Obj o;
  for (const auto& [pin, probe] : probe_links_) {
    if (probe.link_pin.parent_path() == spec.link_dir && pins_.contains(pin)) {
      o.probes.push_back(probe);
    }
  }
  if (o.probes.empty()) {
    return fail(Errc::NotFound, "no probe link pinned in " + spec.link_dir.string());
  }
  for (const auto& [pin, m] : probe_maps_) {
    if (m.pin.parent_path() == spec.map_pin_dir && pins_.contains(pin)) {
      o.map_pins.push_back(pin);
      o.maps.push_back(m);
    }
  }
  LoadedProbes out{o.probes, o.maps, {}};
  objects_[spec.key] = std::move(o);
  return out;
}

}  // namespace l3afd::kernel::fake
