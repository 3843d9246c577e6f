// configure_maps() and map_reader() of LibbpfKernel (docs/compatibility.md §12, "Ours").
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <fcntl.h>

#include <algorithm>
#include <cerrno>
#include <set>

#include "core/log.h"
#include "kernel/libbpf/libbpf_kernel.h"

namespace l3afd::kernel::libbpf {
namespace {

using Bytes = std::vector<uint8_t>;

bool is_hash_type(uint32_t t) {
  return t == BPF_MAP_TYPE_HASH || t == BPF_MAP_TYPE_LRU_HASH || t == BPF_MAP_TYPE_LPM_TRIE ||
         t == BPF_MAP_TYPE_PERCPU_HASH || t == BPF_MAP_TYPE_LRU_PERCPU_HASH;
}

bool is_per_cpu(uint32_t t) {
  return t == BPF_MAP_TYPE_PERCPU_ARRAY || t == BPF_MAP_TYPE_PERCPU_HASH ||
         t == BPF_MAP_TYPE_LRU_PERCPU_HASH;
}

/// Maps whose values are (or may carry) file descriptors the kernel resolves at write time:
/// programs, maps, sockets, perf events, cgroups, devices (DEVMAP/CPUMAP entries may carry a
/// program fd). A client writing numbers into them could splice any object the daemon holds
/// an fd of (e.g. another program into a chain), so map_args never writes them.
bool fd_valued(uint32_t t) {
  switch (t) {
    case BPF_MAP_TYPE_PROG_ARRAY:
    case BPF_MAP_TYPE_PERF_EVENT_ARRAY:
    case BPF_MAP_TYPE_CGROUP_ARRAY:
    case BPF_MAP_TYPE_ARRAY_OF_MAPS:
    case BPF_MAP_TYPE_HASH_OF_MAPS:
    case BPF_MAP_TYPE_SOCKMAP:
    case BPF_MAP_TYPE_SOCKHASH:
    case BPF_MAP_TYPE_XSKMAP:
    case BPF_MAP_TYPE_DEVMAP:
    case BPF_MAP_TYPE_DEVMAP_HASH:
    case BPF_MAP_TYPE_CPUMAP: return true;
    default: return false;
  }
}

/// InvalidPayload for map_args naming an fd-valued map, located at the "map_args" field.
tl::unexpected<Error> refuse_fd_valued(const std::string& name, uint32_t type) {
  const char* type_name = libbpf_bpf_map_type_str(static_cast<enum bpf_map_type>(type));
  Error err{Errc::InvalidPayload,
            0,
            "map_args names map " + name + " of type " +
                (type_name != nullptr ? type_name : std::to_string(type)) +
                ", whose values are file descriptors the kernel resolves (programs, maps, "
                "sockets or devices); it cannot be written through map_args",
            {},
            {},
            {}};
  err.items.push_back(ErrorItem{"", "", "", "map_args", err.message});
  return fail(std::move(err));
}

bool supported_size(uint32_t s) {
  return s == 1 || s == 2 || s == 4 || s == 8;
}

/// Fits the unsigned range of `size` bytes, or is a negative two's complement within it.
bool fits(int64_t v, uint32_t size) {
  if (size >= 8) return true;
  const int64_t bits = 8 * static_cast<int64_t>(size);
  return v >= -(int64_t{1} << (bits - 1)) && v <= (int64_t{1} << bits) - 1;
}

Bytes encode(uint64_t v, uint32_t size) {
  Bytes out(size);
  for (uint32_t i = 0; i < size; ++i) out[i] = static_cast<uint8_t>(v >> (8 * i));
  return out;
}

uint64_t decode(const uint8_t* p, uint32_t size) {
  uint64_t v = 0;
  for (uint32_t i = 0; i < size; ++i) v |= uint64_t{p[i]} << (8 * i);
  return v;
}

struct MapShape {
  int fd = -1;
  uint32_t type = 0;
  uint32_t key_size = 0;
  uint32_t value_size = 0;
  size_t cpus = 1;    ///< value copies in a lookup/update buffer
  size_t stride = 0;  ///< bytes per copy
};

Result<MapShape> shape_of(const std::map<std::string, LibbpfKernel::MapHandle>& maps,
                          const std::string& name) {
  auto it = maps.find(name);
  if (it == maps.end() || it->second.fd < 0) {
    return fail(Errc::InvalidPayload,
                "map_args names map " + name + " which the object does not have");
  }
  MapShape s;
  s.fd = it->second.fd;
  s.type = it->second.type;
  s.key_size = it->second.key_size;
  s.value_size = it->second.value_size;
  s.stride = s.value_size;
  if (is_per_cpu(s.type)) {
    const int n = libbpf_num_possible_cpus();
    if (n <= 0) return fail(Errc::Kernel, "count possible cpus", -n);
    s.cpus = static_cast<size_t>(n);
    s.stride = (s.value_size + 7) / 8 * 8;
  }
  return s;
}

/// The value buffer of one update: `v` written into every CPU's copy.
Bytes value_buffer(const MapShape& s, uint64_t v) {
  Bytes buf(s.cpus * s.stride, 0);
  const Bytes one = encode(v, s.value_size);
  for (size_t c = 0; c < s.cpus; ++c) std::copy(one.begin(), one.end(), buf.begin() + c * s.stride);
  return buf;
}

struct Write {
  std::string map;
  int fd = -1;
  Bytes key;
  Bytes value;
  uint64_t flags = BPF_ANY;
};

struct Prune {
  std::string map;
  int fd = -1;
  uint32_t key_size = 0;
  std::set<Bytes> keep;
};

Status prune(const Prune& p) {
  std::vector<Bytes> doomed;
  Bytes cur(p.key_size);
  Bytes next(p.key_size);
  const void* prev = nullptr;
  while (bpf_map_get_next_key(p.fd, prev, next.data()) == 0) {
    if (p.keep.count(next) == 0) doomed.push_back(next);
    cur = next;
    prev = cur.data();
  }
  if (errno != ENOENT) return fail(Errc::Kernel, "iterate keys of map " + p.map, errno);
  for (const auto& k : doomed) {
    if (bpf_map_delete_elem(p.fd, k.data()) != 0 && errno != ENOENT) {
      return fail(Errc::Kernel, "delete unlisted key of map " + p.map, errno);
    }
  }
  return ok();
}

}  // namespace

Status LibbpfKernel::configure_maps(const std::string& key,
                                    const std::vector<model::MapArg>& map_args,
                                    const std::vector<model::MonitorMap>& monitor_maps) {
  std::lock_guard lock(mutex_);
  Entry* e = find(key);
  if (e == nullptr) return fail(Errc::NotFound, "key " + key + " is not loaded");

  // Validate everything and build the writes first: nothing is written if any entry is refused.
  std::vector<Write> writes;
  std::vector<Prune> prunes;
  for (const auto& arg : map_args) {
    auto s = shape_of(e->maps, arg.name);
    if (!s) return fail(std::move(s.error()));
    if (fd_valued(s->type)) return refuse_fd_valued(arg.name, s->type);
    if (!supported_size(s->key_size) || !supported_size(s->value_size)) {
      return fail(Errc::InvalidPayload,
                  "map " + arg.name + " has key/value sizes " + std::to_string(s->key_size) + "/" +
                      std::to_string(s->value_size) + "; only 1, 2, 4 or 8 bytes are supported");
    }
    Prune p{arg.name, s->fd, s->key_size, {}};
    for (const auto& kv : arg.args.value_or(std::vector<model::KeyValue>{})) {
      if (!fits(kv.key, s->key_size)) {
        return fail(Errc::InvalidPayload, "key " + std::to_string(kv.key) + " does not fit the " +
                                              std::to_string(s->key_size) + "-byte key of map " +
                                              arg.name);
      }
      if (!fits(kv.value, s->value_size)) {
        return fail(Errc::InvalidPayload, "value " + std::to_string(kv.value) +
                                              " does not fit the " + std::to_string(s->value_size) +
                                              "-byte value of map " + arg.name);
      }
      Bytes k = encode(static_cast<uint64_t>(kv.key), s->key_size);
      p.keep.insert(k);
      writes.push_back({arg.name, s->fd, std::move(k),
                        value_buffer(*s, static_cast<uint64_t>(kv.value)), BPF_ANY});
    }
    if (is_hash_type(s->type)) prunes.push_back(std::move(p));
  }
  std::vector<Write> monitor_writes;
  for (const auto& mm : monitor_maps) {
    auto s = shape_of(e->maps, mm.name);
    if (!s) {
      spdlog::warn("op=configure_maps key={} monitor map {} is not in the object", key, mm.name);
      continue;
    }
    if (fd_valued(s->type)) {
      // Value 0 would be read as fd 0 (which may be one of ours if stdin is closed).
      spdlog::warn("op=configure_maps key={} monitor map {} holds file descriptors", key, mm.name);
      continue;
    }
    if (!supported_size(s->key_size) || !supported_size(s->value_size)) {
      spdlog::warn("op=configure_maps key={} monitor map {} has unsupported sizes", key, mm.name);
      continue;
    }
    const int64_t last = mm.key_end.value_or(mm.key);
    if (!fits(mm.key, s->key_size) || !fits(last, s->key_size)) {
      return fail(Errc::InvalidPayload, "monitor key " + std::to_string(last) +
                                            " does not fit the key of map " + mm.name);
    }
    for (uint64_t k : model::monitored_keys(mm)) {
      monitor_writes.push_back(
          {mm.name, s->fd, encode(k, s->key_size), value_buffer(*s, 0), BPF_NOEXIST});
    }
  }

  for (const auto& w : writes) {
    if (bpf_map_update_elem(w.fd, w.key.data(), w.value.data(), w.flags) != 0) {
      return fail(Errc::Kernel, "write map " + w.map, errno);
    }
  }
  for (const auto& p : prunes) {
    if (auto s = prune(p); !s) return s;
  }
  // Monitor entries last, so that pruning cannot remove them; existing values are kept.
  for (const auto& w : monitor_writes) {
    if (bpf_map_update_elem(w.fd, w.key.data(), w.value.data(), w.flags) != 0 && errno != EEXIST) {
      if (errno == E2BIG) {  // a monitored key beyond the array's max_entries
        return fail(Errc::InvalidPayload,
                    "monitor_maps: map " + w.map + " has no room for key " +
                        std::to_string(decode(w.key.data(), static_cast<uint32_t>(w.key.size()))));
      }
      return fail(Errc::Kernel, "create monitor entry in map " + w.map, errno);
    }
  }
  return ok();
}

namespace {

/// A MapReader on its own dup of the map fd: no adapter state is touched by read().
class FdMapReader final : public MapReader {
 public:
  FdMapReader(UniqueFd fd, const MapShape& shape, std::string name)
      : fd_(std::move(fd)), shape_(shape), name_(std::move(name)) {}

  Result<uint64_t> read(uint64_t map_key) const override {
    if (shape_.key_size < 8 && map_key >> (8 * shape_.key_size) != 0) {
      return fail(Errc::InvalidPayload,
                  "key " + std::to_string(map_key) + " does not fit map " + name_);
    }
    const Bytes k = encode(map_key, shape_.key_size);
    Bytes v(shape_.cpus * shape_.stride);
    if (bpf_map_lookup_elem(fd_.get(), k.data(), v.data()) != 0) {
      if (errno == ENOENT) {
        return fail(Errc::NotFound, "map " + name_ + " has no key " + std::to_string(map_key));
      }
      return fail(Errc::Kernel, "read map " + name_, errno);
    }
    uint64_t sum = 0;
    for (size_t c = 0; c < shape_.cpus; ++c) {
      sum += decode(v.data() + c * shape_.stride, shape_.value_size);
    }
    return sum;
  }

 private:
  UniqueFd fd_;
  MapShape shape_;  // shape_.fd is the adapter's fd: never used here
  std::string name_;
};

}  // namespace

Result<std::shared_ptr<const MapReader>> LibbpfKernel::map_reader(const std::string& key,
                                                                  const std::string& map_name) {
  std::lock_guard lock(mutex_);
  Entry* e = find(key);
  if (e == nullptr) return fail(Errc::NotFound, "key " + key + " is not loaded");
  auto s = shape_of(e->maps, map_name);
  if (!s) return fail(Errc::NotFound, "object of " + key + " has no map " + map_name);
  if (!supported_size(s->key_size) || !supported_size(s->value_size)) {
    return fail(Errc::InvalidPayload, "map " + map_name + " has unsupported key/value sizes");
  }
  UniqueFd dup(::fcntl(s->fd, F_DUPFD_CLOEXEC, 0));
  if (!dup) return fail(Errc::Kernel, "dup fd of map " + map_name, errno);
  return std::shared_ptr<const MapReader>(
      std::make_shared<FdMapReader>(std::move(dup), *s, map_name));
}

}  // namespace l3afd::kernel::libbpf
