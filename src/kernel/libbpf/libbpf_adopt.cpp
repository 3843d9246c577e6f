// adopt() of LibbpfKernel: takes over a program instance a previous run left pinned, by fd,
// without loading anything (docs/chain-protocol.md §4.8 steps 1–3). The take-over itself
// (take_over_program(), take_over.h) is shared with take_self_loaded().
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>

#include <algorithm>
#include <cerrno>
#include <system_error>

#include "core/log.h"
#include "core/unique_fd.h"
#include "kernel/libbpf/companions.h"
#include "kernel/libbpf/libbpf_kernel.h"
#include "kernel/libbpf/take_over.h"

namespace l3afd::kernel::libbpf {

namespace fs = std::filesystem;

namespace {

/// Opens the map pinned at `path`; nullopt-like (fd invalid) if it is not a map.
struct PinnedMap {
  UniqueFd fd;
  bpf_map_info info{};
};

bool open_map(const fs::path& path, PinnedMap& out) {
  out.fd.reset(bpf_obj_get(path.c_str()));
  if (!out.fd) return false;
  uint32_t len = sizeof(out.info);
  // A program or link pinned here answers with a different info layout; its map type would
  // be garbage, so only trust the call for map fds (bpf_obj_get of a map returns a map fd).
  return bpf_obj_get_info_by_fd(out.fd.get(), &out.info, &len) == 0 && out.info.id != 0;
}

}  // namespace

uint32_t prog_type_of(model::Hook hook) {
  return model::is_tc(hook) ? BPF_PROG_TYPE_SCHED_CLS : BPF_PROG_TYPE_XDP;
}

Status take_over_program(LibbpfKernel::Entry& e, UniqueFd prog, const TakeOver& t) {
  bpf_prog_info info{};
  uint32_t len = sizeof(info);
  if (bpf_obj_get_info_by_fd(prog.get(), &info, &len) != 0) {
    return fail(Errc::Kernel, "read info of " + t.what, errno);
  }
  const std::string want_name = t.want_name.substr(0, BPF_OBJ_NAME_LEN - 1);
  if (info.type != t.want_type || (!want_name.empty() && want_name != info.name)) {
    return fail(Errc::Conflict, "program " + t.what + " is " + std::string(info.name) +
                                    " of type " + std::to_string(info.type) + ", not " +
                                    (t.want_name.empty() ? "" : t.want_name + " of ") + "type " +
                                    std::to_string(t.want_type));
  }
  std::vector<uint32_t> ids(info.nr_map_ids);
  if (!ids.empty()) {
    bpf_prog_info again{};
    again.nr_map_ids = static_cast<uint32_t>(ids.size());
    again.map_ids = reinterpret_cast<uint64_t>(ids.data());
    uint32_t alen = sizeof(again);
    if (bpf_obj_get_info_by_fd(prog.get(), &again, &alen) != 0) {
      return fail(Errc::Kernel, "read map ids of " + t.what, errno);
    }
    ids.resize(std::min<std::size_t>(ids.size(), again.nr_map_ids));
  }
  auto uses = [&](uint32_t id) { return std::find(ids.begin(), ids.end(), id) != ids.end(); };
  auto take = [&](const std::string& name, const fs::path& path, PinnedMap& m) {
    e.maps[name] = LibbpfKernel::MapHandle{
        m.fd.get(),       m.info.type, m.info.key_size, m.info.value_size, m.info.max_entries,
        m.info.map_flags, false};
    e.loaded.maps.push_back(MapInfo{name, m.info.id, m.info.type, m.info.key_size,
                                    m.info.value_size, m.info.max_entries, path});
    e.owned_fds.push_back(std::move(m.fd));
  };

  // State maps: every map pinned in the directory that this program uses. Pins of maps it does
  // not use (left by another instance) are not taken.
  std::error_code ec;
  for (const auto& f : fs::directory_iterator(t.map_pin_dir, ec)) {
    const std::string name = f.path().filename().string();
    if (name == t.private_map || name.find("_l3afd_tmp_") != std::string::npos) continue;
    PinnedMap m;
    if (!open_map(f.path(), m) || !uses(m.info.id)) continue;
    take(name, f.path(), m);
  }
  if (ec) return fail(Errc::NotFound, "read map directory " + t.map_pin_dir.string(), ec.value());
  if (!t.private_map.empty()) {
    PinnedMap m;
    if (!open_map(t.private_map_pin, m)) {
      return fail(Errc::NotFound, "no next array pinned at " + t.private_map_pin.string(), errno);
    }
    if (m.info.type != BPF_MAP_TYPE_PROG_ARRAY || !uses(m.info.id)) {
      return fail(Errc::Conflict, "the array pinned at " + t.private_map_pin.string() +
                                      " is not the next array of program " + t.what);
    }
    take(t.private_map, t.private_map_pin, m);
  }
  e.loaded.prog_id = info.id;
  e.prog_fd = prog.get();
  e.owned_fds.push_back(std::move(prog));
  return ok();
}

Result<LoadedObject> LibbpfKernel::adopt(const AdoptSpec& spec) {
  std::lock_guard lock(mutex_);
  if (find(spec.key) != nullptr) return fail(Errc::Conflict, "key " + spec.key + " is loaded");
  auto entry = std::make_unique<Entry>();
  Entry& e = *entry;
  e.spec.key = spec.key;
  e.spec.entry_function = spec.entry_function;
  e.spec.hook = spec.hook;
  e.spec.map_pin_dir = spec.map_pin_dir;
  e.spec.prog_pin_path = spec.prog_pin_path;
  e.spec.private_map = spec.private_map;
  e.spec.companion_link_dir = spec.companion_link_dir;

  UniqueFd prog(bpf_obj_get(spec.prog_pin_path.c_str()));
  if (!prog) {
    return fail(Errc::NotFound, "no program pinned at " + spec.prog_pin_path.string(), errno);
  }
  const TakeOver t{"pinned at " + spec.prog_pin_path.string(),
                   prog_type_of(spec.hook),
                   spec.entry_function,
                   spec.map_pin_dir,
                   spec.private_map,
                   spec.private_map_pin};
  if (auto s = take_over_program(e, std::move(prog), t); !s) return fail(std::move(s.error()));
  adopt_companions(e, spec.companion_link_dir);
  spdlog::info("op=adopt key={} prog_id={} maps={}", spec.key, e.loaded.prog_id, e.maps.size());
  LoadedObject out = e.loaded;
  entries_.emplace(spec.key, std::move(entry));
  return out;
}

}  // namespace l3afd::kernel::libbpf
