// carry_maps() of LibbpfKernel: state carry-over from one loaded object to another (a version
// upgrade), entry by entry through the bpf(2) map commands (docs/chain-protocol.md §4.2).
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include <algorithm>
#include <cerrno>

#include "core/log.h"
#include "kernel/libbpf/libbpf_kernel.h"

namespace l3afd::kernel::libbpf {
namespace {

bool carriable(uint32_t t) {
  return t == BPF_MAP_TYPE_HASH || t == BPF_MAP_TYPE_ARRAY || t == BPF_MAP_TYPE_PERCPU_HASH ||
         t == BPF_MAP_TYPE_PERCPU_ARRAY || t == BPF_MAP_TYPE_LRU_HASH ||
         t == BPF_MAP_TYPE_LRU_PERCPU_HASH;
}

bool per_cpu(uint32_t t) {
  return t == BPF_MAP_TYPE_PERCPU_HASH || t == BPF_MAP_TYPE_PERCPU_ARRAY ||
         t == BPF_MAP_TYPE_LRU_PERCPU_HASH;
}

}  // namespace

Result<std::vector<std::string>> LibbpfKernel::carry_maps(const std::string& from_key,
                                                          const std::string& to_key) {
  std::lock_guard lock(mutex_);
  Entry* from = find(from_key);
  Entry* to = find(to_key);
  if (from == nullptr) return fail(Errc::NotFound, "key " + from_key + " is not loaded");
  if (to == nullptr) return fail(Errc::NotFound, "key " + to_key + " is not loaded");
  std::vector<std::string> skipped;
  const int ncpu = libbpf_num_possible_cpus();
  for (const auto& [name, src] : from->maps) {
    if (src.internal || src.type == BPF_MAP_TYPE_PROG_ARRAY || name == from->spec.private_map) {
      continue;
    }
    auto it = to->maps.find(name);
    if (it == to->maps.end()) {
      skipped.push_back(name + ": the new version has no map of that name");
      continue;
    }
    const MapHandle& dst = it->second;
    const uint32_t type = src.type;
    if (type != dst.type || src.key_size != dst.key_size || src.value_size != dst.value_size ||
        src.max_entries != dst.max_entries || src.flags != dst.flags) {
      skipped.push_back(name +
                        ": its definition changed (type, key/value size, max_entries or "
                        "flags), the new version starts empty");
      continue;
    }
    if (!carriable(type)) {
      skipped.push_back(name + ": maps of type " + std::to_string(type) + " are not carried");
      continue;
    }
    auto info = std::find_if(to->loaded.maps.begin(), to->loaded.maps.end(),
                             [&](const MapInfo& m) { return m.name == name; });
    const auto& created = to->loaded.pins_created;
    if (info == to->loaded.maps.end() || info->pin.empty() ||
        std::find(created.begin(), created.end(), info->pin) == created.end()) {
      skipped.push_back(name + ": the new version's map already existed and keeps its state");
      continue;
    }
    const int sfd = src.fd;
    const int dfd = dst.fd;
    const std::size_t stride = per_cpu(type) ? (src.value_size + 7) / 8 * 8 : src.value_size;
    std::vector<uint8_t> key(src.key_size);
    std::vector<uint8_t> next(key.size());
    std::vector<uint8_t> value(stride * static_cast<std::size_t>(per_cpu(type) ? ncpu : 1));
    std::size_t copied = 0;
    const void* prev = nullptr;
    // Bounded by max_entries: a hash map changing under a running program cannot loop us.
    for (uint32_t n = 0; n <= src.max_entries; ++n) {
      if (bpf_map_get_next_key(sfd, prev, next.data()) != 0) {
        if (errno == ENOENT) break;
        return fail(Errc::Kernel, "iterate map " + name + " of " + from_key, errno);
      }
      key = next;
      prev = key.data();
      if (bpf_map_lookup_elem(sfd, key.data(), value.data()) != 0) {
        if (errno == ENOENT) continue;  // deleted meanwhile
        return fail(Errc::Kernel, "read map " + name + " of " + from_key, errno);
      }
      if (bpf_map_update_elem(dfd, key.data(), value.data(), BPF_ANY) != 0) {
        return fail(Errc::Kernel, "write map " + name + " of " + to_key, errno);
      }
      ++copied;
    }
    spdlog::info("op=carry_maps from={} to={} map={} entries={}", from_key, to_key, name, copied);
  }
  for (const auto& s : skipped) {
    spdlog::warn("op=carry_maps from={} to={} not carried: {}", from_key, to_key, s);
  }
  return skipped;
}

}  // namespace l3afd::kernel::libbpf
