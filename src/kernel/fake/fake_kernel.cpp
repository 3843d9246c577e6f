#include "kernel/fake/fake_kernel.h"

#include <algorithm>
#include <cerrno>

namespace l3afd::kernel::fake {
namespace {
/// BPF_MAP_TYPE_PROG_ARRAY (the fake does not include kernel headers).
constexpr uint32_t kProgArrayType = 3;

/// Map types whose values are (or may carry) file descriptors, by kernel enum bpf_map_type
/// value: PROG_ARRAY 3, PERF_EVENT_ARRAY 4, CGROUP_ARRAY 8, ARRAY_OF_MAPS 12, HASH_OF_MAPS 13,
/// DEVMAP 14, SOCKMAP 15, CPUMAP 16, XSKMAP 17, SOCKHASH 18, DEVMAP_HASH 25 (kernel.h,
/// configure_maps()).
bool fd_valued(uint32_t type) {
  for (uint32_t t : {3U, 4U, 8U, 12U, 13U, 14U, 15U, 16U, 17U, 18U, 25U}) {
    if (t == type) return true;
  }
  return false;
}
}  // namespace

Status FakeKernel::hit(const std::string& op) {
  if (!lock_held_) unlocked_changes_.push_back(op);
  return inj_.hit(op);
}

Result<ChangeLock> FakeKernel::lock_for_change() {
  if (lock_held_) {
    return fail(Errc::Timeout, "bpffs directory (fake) is locked by another process");
  }
  if (auto s = inj_.hit("lock for change"); !s) return fail(std::move(s.error()));
  ++lock_acquisitions_;
  lock_held_ = true;
  return ChangeLock([this] { lock_held_ = false; });
}

void FakeKernel::add_interface(std::string name, uint32_t ifindex, bool loopback) {
  ifaces_[name] = InterfaceInfo{name, ifindex, loopback};
}

bool FakeKernel::remove_interface(const std::string& name) {
  if (ifaces_.erase(name) == 0) return false;
  std::erase_if(attached_, [&](const auto& kv) { return kv.first.starts_with(name + "/"); });
  return true;
}

void FakeKernel::define_object(std::string file_name, ObjectDef def) {
  defs_[std::move(file_name)] = std::move(def);
}

std::string FakeKernel::hook_key(const std::string& iface, model::Hook h) {
  return iface + "/" + std::string(model::direction(h));
}

FakeKernel::Model FakeKernel::model() const {
  Model m;
  for (const auto& [k, o] : objects_) {
    auto& pins = m.objects[k];
    if (o.probes.empty()) pins.push_back(o.prog_pin.string());
    for (const auto& p : o.probes) pins.push_back(p.link_pin.string());
    pins.insert(pins.end(), o.map_pins.begin(), o.map_pins.end());
  }
  for (const auto& [hk, a] : attached_) m.attachments[hk] = a.key;
  m.pins = pins_;
  m.map_contents = maps_;
  m.slots = slots_;
  m.map_pins = map_pins_;
  return m;
}

Result<InterfaceInfo> FakeKernel::interface(const std::string& name) {
  auto it = ifaces_.find(name);
  if (it == ifaces_.end()) return fail(Errc::NotFound, "interface " + name + " not found", ENODEV);
  return it->second;
}

Result<LoadedObject> FakeKernel::load(const LoadSpec& spec) {
  if (objects_.contains(spec.key))
    return fail(Errc::Conflict, "object " + spec.key + " already loaded");
  auto def = defs_.find(spec.object_file.filename().string());
  if (def == defs_.end()) {
    Error err{Errc::NotFound,
              ENOENT,
              "object file " + spec.object_file.string() + " not found",
              {},
              {},
              {}};
    err.items.push_back(ErrorItem{"", "", "", "object_file", err.message});
    return fail(std::move(err));
  }
  if (def->second.entry_function != spec.entry_function) {
    return fail(Errc::NotFound, "object has no function " + spec.entry_function);
  }
  if (auto s = hit("load " + spec.key); !s) return fail(std::move(s.error()));
  Obj o;
  o.prog_id = next_id_++;
  o.prog_pin = spec.prog_pin_path;
  if (pins_.insert(spec.prog_pin_path.string()).second) o.created.push_back(spec.prog_pin_path);
  LoadedObject out;
  o.tc = model::is_tc(spec.hook);
  for (auto m : def->second.maps) {
    m.id = next_id_++;
    if (m.name == spec.private_map) {
      // Fresh and unpinned on every load (docs/chain-protocol.md §4.2).
      o.maps.push_back(m);
      out.maps.push_back(m);
      continue;
    }
    m.pin = spec.map_pin_dir / m.name;
    const std::string pin = m.pin.string();
    o.map_pins.push_back(pin);
    if (pins_.insert(pin).second) {
      o.created.push_back(m.pin);
      maps_[pin];  // empty map
    }
    o.maps.push_back(m);
    out.maps.push_back(m);
  }
  out.prog_id = o.prog_id;
  out.pins_created = o.created;
  objects_[spec.key] = std::move(o);
  return out;
}

bool FakeKernel::pin_in_use_by_other(const std::string& pin, const std::string& key) const {
  for (const auto& [k, o] : objects_) {
    if (k == key) continue;
    if (o.prog_pin == pin) return true;
    if (std::find(o.map_pins.begin(), o.map_pins.end(), pin) != o.map_pins.end()) return true;
    for (const auto& p : o.probes) {
      if (p.link_pin == pin) return true;
    }
  }
  return false;
}

Status FakeKernel::discard(const std::string& key) {
  auto it = objects_.find(key);
  if (it == objects_.end()) return fail(Errc::NotFound, "object " + key + " not loaded");
  if (auto s = hit("discard " + key); !s) return s;
  drop_slots_of(key);
  drop_map_pins_of(key);
  for (const auto& p : it->second.created) erase_pin(p.string());
  objects_.erase(it);
  return ok();
}

Status FakeKernel::unload(const std::string& key) {
  auto it = objects_.find(key);
  if (it == objects_.end()) return fail(Errc::NotFound, "object " + key + " not loaded");
  if (auto s = hit("unload " + key); !s) return s;
  drop_slots_of(key);
  drop_map_pins_of(key);
  std::vector<std::string> all = it->second.map_pins;
  if (it->second.probes.empty()) all.push_back(it->second.prog_pin.string());
  for (const auto& p : it->second.probes) all.push_back(p.link_pin.string());
  for (const auto& p : all) {
    if (pin_in_use_by_other(p, key)) continue;
    erase_pin(p);
  }
  objects_.erase(it);
  return ok();
}

Status FakeKernel::configure_maps(const std::string& key,
                                  const std::vector<model::MapArg>& map_args,
                                  const std::vector<model::MonitorMap>& monitor_maps) {
  auto it = objects_.find(key);
  if (it == objects_.end()) return fail(Errc::NotFound, "object " + key + " not loaded");
  auto pin_of = [&](const std::string& name) -> std::string {
    for (const auto& m : it->second.maps) {
      if (m.name == name) return m.pin.string();
    }
    return {};
  };
  auto type_of = [&](const std::string& name) -> uint32_t {
    for (const auto& m : it->second.maps) {
      if (m.name == name) return m.type;
    }
    return 0;
  };
  // Validate everything before writing anything, like the real adapter.
  for (const auto& a : map_args) {
    if (fd_valued(type_of(a.name))) {
      Error err{Errc::InvalidPayload,
                0,
                "map_args names map " + a.name + " of type " + std::to_string(type_of(a.name)) +
                    ", whose values are file descriptors; it cannot be written through map_args",
                {},
                {},
                {}};
      err.items.push_back(ErrorItem{"", "", "", "map_args", err.message});
      return fail(std::move(err));
    }
    if (pin_of(a.name).empty()) {
      return fail(Errc::InvalidPayload,
                  "map_args names map " + a.name + " which the object does not have");
    }
  }
  if (auto s = hit("configure maps " + key); !s) return s;
  for (const auto& mm : monitor_maps) {
    auto pin = pin_of(mm.name);
    if (!pin.empty()) maps_[pin].try_emplace(static_cast<uint64_t>(mm.key), 0);
  }
  for (const auto& a : map_args) {
    auto& contents = maps_[pin_of(a.name)];
    contents.clear();  // the fake models a hash map: unlisted keys are pruned
    for (const auto& kv : a.args.value_or(std::vector<model::KeyValue>{})) {
      contents[static_cast<uint64_t>(kv.key)] = static_cast<uint64_t>(kv.value);
    }
  }
  return ok();
}

Result<AttachInfo> FakeKernel::attach(const AttachSpec& spec) {
  if (!objects_.contains(spec.key))
    return fail(Errc::NotFound, "object " + spec.key + " not loaded");
  auto iface = ifaces_.find(spec.iface);
  if (iface == ifaces_.end())
    return fail(Errc::NotFound, "interface " + spec.iface + " not found", ENODEV);
  const std::string hk = hook_key(spec.iface, spec.hook);
  auto cur = attached_.find(hk);
  const bool can_replace = cur != attached_.end() && spec.replace_link_pin &&
                           cur->second.link_pin == *spec.replace_link_pin;
  if (cur != attached_.end() && !can_replace) {
    return fail(Errc::Kernel, "hook " + hk + " is busy", EBUSY);
  }
  if (auto s = hit("attach " + spec.key); !s) return fail(std::move(s.error()));
  AttachInfo info;
  info.ifindex = iface->second.ifindex;
  info.mode = model::is_tc(spec.hook) ? AttachMode::Tcx : AttachMode::XdpNative;
  if (can_replace) {
    pins_.erase(cur->second.link_pin.string());
    info.link_id = cur->second.link_id;
    info.replaced = true;
  } else {
    info.link_id = next_id_++;
  }
  pins_.insert(spec.link_pin_path.string());
  attached_[hk] = Att{spec.key, spec.link_pin_path, info.link_id};
  return info;
}

Status FakeKernel::detach(const std::string& key) {
  auto it = std::find_if(attached_.begin(), attached_.end(),
                         [&](const auto& kv) { return kv.second.key == key; });
  if (it == attached_.end()) return fail(Errc::NotFound, "object " + key + " is not attached");
  if (auto s = hit("detach " + key); !s) return s;
  pins_.erase(it->second.link_pin.string());
  attached_.erase(it);
  return ok();
}

namespace {

/// Reads the fake's map contents by pin path at each read, as a dup'ed fd reads the map it
/// refers to. Not thread-safe against the fake's mutating methods (the fake is not).
class FakeMapReader final : public MapReader {
 public:
  FakeMapReader(const std::map<std::string, std::map<uint64_t, uint64_t>>& maps, std::string pin)
      : maps_(maps), pin_(std::move(pin)) {}
  Result<uint64_t> read(uint64_t map_key) const override {
    auto contents = maps_.find(pin_);
    if (contents == maps_.end()) return fail(Errc::NotFound, "no such key", ENOENT);
    auto v = contents->second.find(map_key);
    if (v == contents->second.end()) return fail(Errc::NotFound, "no such key", ENOENT);
    return v->second;
  }

 private:
  const std::map<std::string, std::map<uint64_t, uint64_t>>& maps_;
  std::string pin_;
};

}  // namespace

Result<std::shared_ptr<const MapReader>> FakeKernel::map_reader(const std::string& key,
                                                                const std::string& map_name) {
  auto it = objects_.find(key);
  if (it == objects_.end()) return fail(Errc::NotFound, "object " + key + " not loaded");
  for (const auto& m : it->second.maps) {
    if (m.name != map_name) continue;
    return std::shared_ptr<const MapReader>(std::make_shared<FakeMapReader>(maps_, m.pin.string()));
  }
  return fail(Errc::NotFound, "no map " + map_name);
}

void FakeKernel::set_run_stats(const std::string& key, Result<RunStats> answer) {
  run_stats_.insert_or_assign(key, std::move(answer));
}

Result<RunStats> FakeKernel::program_run_stats(const std::string& key) {
  if (objects_.count(key) == 0) return fail(Errc::NotFound, "object " + key + " not loaded");
  auto it = run_stats_.find(key);
  return it == run_stats_.end() ? Result<RunStats>(RunStats{}) : it->second;
}

bool FakeKernel::program_exists(uint32_t prog_id) {
  return std::any_of(objects_.begin(), objects_.end(), [&](const auto& kv) {
    return !kv.second.lost && kv.second.prog_id == prog_id;
  });
}

void FakeKernel::drop_slots_of(const std::string& key) {
  // The owner's arrays are closed with it; slots of other owners keep their reference to this
  // program, as the kernel does.
  std::erase_if(slots_, [&](const auto& kv) { return kv.first.starts_with(key + "/"); });
}

Result<std::string> FakeKernel::slot_key(const std::string& owner_key,
                                         const std::string& array_map) const {
  auto it = objects_.find(owner_key);
  if (it == objects_.end()) return fail(Errc::NotFound, "object " + owner_key + " not loaded");
  for (const auto& m : it->second.maps) {
    if (m.name != array_map) continue;
    if (m.type != kProgArrayType) {
      return fail(Errc::InvalidPayload, "map " + array_map + " is not a program array");
    }
    return owner_key + "/" + array_map;
  }
  return fail(Errc::NotFound, "object " + owner_key + " has no map " + array_map);
}

Status FakeKernel::write_slot(const std::string& owner_key, const std::string& array_map,
                              const std::optional<std::string>& target_key) {
  auto sk = slot_key(owner_key, array_map);
  if (!sk) return fail(std::move(sk.error()));
  if (target_key) {
    auto t = objects_.find(*target_key);
    if (t == objects_.end()) return fail(Errc::NotFound, "object " + *target_key + " not loaded");
    if (t->second.tc != objects_.at(owner_key).tc) {
      return fail(Errc::Kernel, "program type of " + *target_key + " does not match " + owner_key,
                  EINVAL);
    }
  }
  if (auto s = hit("write slot " + *sk); !s) return s;
  if (target_key) {
    slots_[*sk] = *target_key;
  } else {
    slots_.erase(*sk);
  }
  return ok();
}

Result<uint32_t> FakeKernel::read_slot(const std::string& owner_key, const std::string& array_map) {
  auto sk = slot_key(owner_key, array_map);
  if (!sk) return fail(std::move(sk.error()));
  auto it = slots_.find(*sk);
  if (it == slots_.end()) return uint32_t{0};
  auto t = objects_.find(it->second);
  // A program unloaded while still in a slot stays alive in the kernel; the fake forgets its id.
  return t == objects_.end() ? uint32_t{0} : t->second.prog_id;
}

void FakeKernel::drop_map_pins_of(const std::string& key) {
  for (auto it = map_pins_.begin(); it != map_pins_.end();) {
    if (it->second.starts_with(key + "/")) {
      pins_.erase(it->first);
      it = map_pins_.erase(it);
    } else {
      ++it;
    }
  }
}

Status FakeKernel::pin_map(const std::string& key, const std::string& map_name,
                           const std::filesystem::path& path) {
  auto it = objects_.find(key);
  if (it == objects_.end()) return fail(Errc::NotFound, "object " + key + " not loaded");
  const auto& maps = it->second.maps;
  if (std::none_of(maps.begin(), maps.end(),
                   [&](const MapInfo& m) { return m.name == map_name; })) {
    return fail(Errc::NotFound, "object " + key + " has no map " + map_name);
  }
  if (auto s = hit("pin map " + key + "/" + map_name); !s) return s;
  map_pins_[path.string()] = key + "/" + map_name;
  pins_.insert(path.string());
  return ok();
}

Status FakeKernel::unpin_map(const std::string& key, const std::string& map_name) {
  if (!objects_.contains(key)) return fail(Errc::NotFound, "object " + key + " not loaded");
  if (auto s = hit("unpin map " + key + "/" + map_name); !s) return s;
  for (auto it = map_pins_.begin(); it != map_pins_.end(); ++it) {
    if (it->second == key + "/" + map_name) {
      pins_.erase(it->first);
      map_pins_.erase(it);
      break;
    }
  }
  return ok();
}

Result<std::vector<std::string>> FakeKernel::carry_maps(const std::string& from_key,
                                                        const std::string& to_key) {
  auto f = objects_.find(from_key);
  auto t = objects_.find(to_key);
  if (f == objects_.end()) return fail(Errc::NotFound, "object " + from_key + " not loaded");
  if (t == objects_.end()) return fail(Errc::NotFound, "object " + to_key + " not loaded");
  if (auto s = hit("carry maps " + from_key + " -> " + to_key); !s) {
    return fail(std::move(s.error()));
  }
  std::vector<std::string> skipped;
  for (const auto& m : f->second.maps) {
    if (m.type == kProgArrayType || m.pin.empty()) continue;
    auto d = std::find_if(t->second.maps.begin(), t->second.maps.end(),
                          [&](const MapInfo& x) { return x.name == m.name; });
    if (d == t->second.maps.end()) {
      skipped.push_back(m.name + ": the new version has no map of that name");
    } else if (d->type != m.type || d->key_size != m.key_size || d->value_size != m.value_size ||
               d->max_entries != m.max_entries) {
      skipped.push_back(m.name + ": its definition changed");
    } else if (std::find(t->second.created.begin(), t->second.created.end(), d->pin) ==
               t->second.created.end()) {
      skipped.push_back(m.name + ": the new version's map already existed");
    } else {
      maps_[d->pin.string()] = maps_[m.pin.string()];
    }
  }
  return skipped;
}

Result<LoadedObject> FakeKernel::adopt(const AdoptSpec& spec) {
  return fail(Errc::NotFound, "the fake kernel does not model adoption of " + spec.key);
}

Status FakeKernel::run_iterators(const std::string& key) {
  if (!objects_.contains(key)) return fail(Errc::NotFound, "object " + key + " not loaded");
  return hit("run iterators " + key);
}

}  // namespace l3afd::kernel::fake
