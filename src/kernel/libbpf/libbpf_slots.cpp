// write_slot(), read_slot(), pin_map() and unpin_map() of LibbpfKernel: slot 0 of a program's
// next-program PROG_ARRAY and the pin of that array (docs/chain-protocol.md §1.2, §4.2, K8, K9,
// K11).
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include <algorithm>
#include <cerrno>

#include "core/log.h"
#include "core/unique_fd.h"
#include "kernel/libbpf/libbpf_kernel.h"
#include "kernel/libbpf/pins.h"

namespace l3afd::kernel::libbpf {

Result<int> LibbpfKernel::prog_array_fd(const std::string& owner_key,
                                        const std::string& array_map) {
  Entry* e = find(owner_key);
  if (e == nullptr) return fail(Errc::NotFound, "key " + owner_key + " is not loaded");
  auto it = e->maps.find(array_map);
  if (it == e->maps.end() || it->second.fd < 0) {
    return fail(Errc::NotFound, "key " + owner_key + " has no map " + array_map);
  }
  if (it->second.type != BPF_MAP_TYPE_PROG_ARRAY) {
    return fail(Errc::InvalidPayload,
                "map " + array_map + " of " + owner_key + " is not a program array");
  }
  return it->second.fd;
}

Status LibbpfKernel::write_slot(const std::string& owner_key, const std::string& array_map,
                                const std::optional<std::string>& target_key) {
  std::lock_guard lock(mutex_);
  auto fd = prog_array_fd(owner_key, array_map);
  if (!fd) return fail(std::move(fd.error()));
  const uint32_t slot = 0;
  if (!target_key) {
    if (bpf_map_delete_elem(*fd, &slot) != 0 && errno != ENOENT) {
      return fail(Errc::Kernel, "clear slot 0 of " + array_map + " of " + owner_key, errno);
    }
    spdlog::info("op=write_slot owner={} map={} target=none", owner_key, array_map);
    return ok();
  }
  Entry* target = find(*target_key);
  if (target == nullptr) return fail(Errc::NotFound, "key " + *target_key + " is not loaded");
  const int prog_fd = target->prog_fd;
  if (bpf_map_update_elem(*fd, &slot, &prog_fd, BPF_ANY) != 0) {
    return fail(Errc::Kernel,
                "write " + *target_key + " into slot 0 of " + array_map + " of " + owner_key,
                errno);
  }
  spdlog::info("op=write_slot owner={} map={} target={} prog_id={}", owner_key, array_map,
               *target_key, target->loaded.prog_id);
  return ok();
}

Result<uint32_t> LibbpfKernel::read_slot(const std::string& owner_key,
                                         const std::string& array_map) {
  std::lock_guard lock(mutex_);
  auto fd = prog_array_fd(owner_key, array_map);
  if (!fd) return fail(std::move(fd.error()));
  const uint32_t slot = 0;
  uint32_t id = 0;
  // A PROG_ARRAY lookup from user space yields the program id (K9).
  if (bpf_map_lookup_elem(*fd, &slot, &id) != 0) {
    if (errno == ENOENT) return uint32_t{0};
    return fail(Errc::Kernel, "read slot 0 of " + array_map + " of " + owner_key, errno);
  }
  return id;
}

namespace {

MapInfo* info_of(LibbpfKernel::Entry& e, const std::string& map_name) {
  for (auto& m : e.loaded.maps) {
    if (m.name == map_name) return &m;
  }
  return nullptr;
}

}  // namespace

Status LibbpfKernel::pin_map(const std::string& key, const std::string& map_name,
                             const std::filesystem::path& path) {
  std::lock_guard lock(mutex_);
  Entry* e = find(key);
  if (e == nullptr) return fail(Errc::NotFound, "key " + key + " is not loaded");
  auto it = e->maps.find(map_name);
  MapInfo* info = info_of(*e, map_name);
  if (it == e->maps.end() || it->second.fd < 0 || info == nullptr) {
    return fail(Errc::NotFound, "key " + key + " has no map " + map_name);
  }
  if (auto s = pin_replace(it->second.fd, path); !s) return s;
  info->pin = path;
  // discard() removes it like a pin of the load (if it still names this map).
  auto& created = e->loaded.pins_created;
  if (std::find(created.begin(), created.end(), path) == created.end()) created.push_back(path);
  spdlog::info("op=pin_map key={} map={} id={} pin={}", key, map_name, info->id, path.string());
  return ok();
}

Status LibbpfKernel::unpin_map(const std::string& key, const std::string& map_name) {
  std::lock_guard lock(mutex_);
  Entry* e = find(key);
  if (e == nullptr) return fail(Errc::NotFound, "key " + key + " is not loaded");
  MapInfo* info = info_of(*e, map_name);
  if (info == nullptr) return fail(Errc::NotFound, "key " + key + " has no map " + map_name);
  if (info->pin.empty()) return ok();
  UniqueFd fd(bpf_obj_get(info->pin.c_str()));
  if (fd) {
    bpf_map_info mi{};
    uint32_t len = sizeof(mi);
    if (bpf_obj_get_info_by_fd(fd.get(), &mi, &len) == 0 && mi.id == info->id) {
      if (auto s = unpin(info->pin); !s) return s;
    }
  }
  spdlog::info("op=unpin_map key={} map={} pin={}", key, map_name, info->pin.string());
  std::erase(e->loaded.pins_created, info->pin);
  info->pin.clear();
  return ok();
}

}  // namespace l3afd::kernel::libbpf
