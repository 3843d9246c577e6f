// Programs a package binary loads itself (docs/chain-protocol.md §4.6): create_staging(),
// remove_staging() and take_self_loaded() of LibbpfKernel. The binary is given the staging
// array as `--map-name`, writes its program into slot 0 and pins its own next array at
// MapNamePath; take_self_loaded() waits for both and then takes the instance over like adopt()
// (take_over_program(), take_over.h), pinning the program at prog_pin_path.
#include <bpf/bpf.h>
#include <linux/bpf.h>
#include <sys/stat.h>

#include <cerrno>
#include <chrono>
#include <functional>
#include <set>
#include <thread>

#include "core/log.h"
#include "core/unique_fd.h"
#include "kernel/libbpf/libbpf_kernel.h"
#include "kernel/libbpf/pins.h"
#include "kernel/libbpf/take_over.h"

namespace l3afd::kernel::libbpf {

namespace fs = std::filesystem;
using std::chrono::milliseconds;

namespace {

constexpr milliseconds kPollInterval{100};

/// Calls `ready` every kPollInterval until it answers true or `wait` has passed (it is always
/// called at least once, and once more at the deadline). Errors of `ready` end the wait.
Result<bool> poll(milliseconds wait, const std::function<Result<bool>()>& ready) {
  const auto deadline = std::chrono::steady_clock::now() + wait;
  for (;;) {
    auto r = ready();
    if (!r || *r) return r;
    const auto now = std::chrono::steady_clock::now();
    if (now >= deadline) return false;
    std::this_thread::sleep_for(
        std::min<std::chrono::steady_clock::duration>(kPollInterval, deadline - now));
  }
}

/// True if something (anything bpffs holds) is at `path`.
bool present(const fs::path& path) {
  struct stat st {};
  return ::lstat(path.c_str(), &st) == 0;
}

/// Info of the map pinned at `path` (fd invalid if nothing or not a map is pinned there).
UniqueFd open_map(const fs::path& path, bpf_map_info& info) {
  UniqueFd fd(bpf_obj_get(path.c_str()));
  if (!fd) return fd;
  uint32_t len = sizeof(info);
  if (bpf_obj_get_info_by_fd(fd.get(), &info, &len) != 0 || info.id == 0) return UniqueFd();
  return fd;
}

bool is_staging_array(const bpf_map_info& info) {
  return info.type == BPF_MAP_TYPE_PROG_ARRAY && info.key_size == 4 && info.value_size == 4 &&
         info.max_entries == 1;
}

}  // namespace

Status LibbpfKernel::create_staging(const fs::path& pin) {
  if (pin.empty() || !pin.has_parent_path()) {
    return fail(Errc::InvalidPayload, "staging pin path '" + pin.string() + "' has no directory");
  }
  if (present(pin)) {
    return fail(Errc::Conflict, "cannot create a staging array at " + pin.string() +
                                    ": something is pinned there already");
  }
  auto dirs = make_dirs(pin.parent_path());
  if (!dirs) return fail(std::move(dirs.error()));
  LIBBPF_OPTS(bpf_map_create_opts, opts);
  UniqueFd fd(bpf_map_create(BPF_MAP_TYPE_PROG_ARRAY, "l3afd_staging", 4, 4, 1, &opts));
  if (!fd) {
    const int err = errno;
    remove_dirs_if_empty(*dirs);
    return fail(Errc::Kernel, "create staging array for " + pin.string(), err);
  }
  // A plain pin (no rename over the target): a concurrent pin at the same path is an EEXIST.
  if (bpf_obj_pin(fd.get(), pin.c_str()) != 0) {
    const int err = errno;
    remove_dirs_if_empty(*dirs);
    if (err == EEXIST) {
      return fail(Errc::Conflict, "cannot create a staging array at " + pin.string() +
                                      ": something is pinned there already");
    }
    return fail(Errc::Io, "pin staging array at " + pin.string(), err);
  }
  bpf_map_info info{};
  uint32_t len = sizeof(info);
  (void)bpf_obj_get_info_by_fd(fd.get(), &info, &len);
  spdlog::info("op=create_staging pin={} map_id={}", pin.string(), info.id);
  return ok();  // the pin holds the array; our fd goes
}

Status LibbpfKernel::remove_staging(const fs::path& pin) {
  if (!present(pin)) return ok();
  bpf_map_info info{};
  UniqueFd fd = open_map(pin, info);
  if (fd && !is_staging_array(info)) {
    return fail(Errc::Conflict, "refusing to remove " + pin.string() +
                                    ": it does not pin a 1-slot program array (not a staging "
                                    "array)");
  }
  if (auto s = unpin(pin); !s) return s;
  spdlog::info("op=remove_staging pin={}", pin.string());
  return ok();
}

Result<LoadedObject> LibbpfKernel::take_self_loaded(const SelfLoadedSpec& spec) {
  {
    std::lock_guard lock(mutex_);
    if (find(spec.key) != nullptr) return fail(Errc::Conflict, "key " + spec.key + " is loaded");
  }
  const std::string waited = " within " + std::to_string(spec.wait.count()) + " ms";

  // 1. The binary pins its own next array at MapNamePath. Waited for without the adapter's
  //    mutex, so map_reader() of other keys is not blocked meanwhile.
  if (!spec.private_map.empty()) {
    auto pinned = poll(spec.wait, [&]() -> Result<bool> { return present(spec.next_array_pin); });
    if (!*pinned) {
      return fail(Errc::Timeout, "the program's binary did not pin its next array " +
                                     spec.private_map + " at " + spec.next_array_pin.string() +
                                     waited);
    }
  }

  // 2. ... and writes its program into slot 0 of the staging array (K9: a lookup gives the id).
  bpf_map_info sinfo{};
  UniqueFd staging = open_map(spec.staging_pin, sinfo);
  if (!staging) {
    return fail(Errc::NotFound, "no staging array pinned at " + spec.staging_pin.string(), errno);
  }
  if (sinfo.type != BPF_MAP_TYPE_PROG_ARRAY) {
    return fail(Errc::Conflict, "the map pinned at " + spec.staging_pin.string() +
                                    " is not a program array (not a staging array)");
  }
  UniqueFd prog;
  uint32_t prog_id = 0;
  auto written = poll(spec.wait, [&]() -> Result<bool> {
    const uint32_t slot = 0;
    if (bpf_map_lookup_elem(staging.get(), &slot, &prog_id) != 0) {
      if (errno == ENOENT) return false;
      return fail(Errc::Kernel, "read slot 0 of the staging array " + spec.staging_pin.string(),
                  errno);
    }
    prog.reset(bpf_prog_get_fd_by_id(prog_id));
    if (prog) return true;
    // The program went away between the lookup and the open (the binary replaced or removed
    // it): look again.
    if (errno == ENOENT) return false;
    return fail(Errc::Kernel, "open program id " + std::to_string(prog_id), errno);
  });
  if (!written) return fail(std::move(written.error()));
  if (!*written) {
    return fail(Errc::Timeout,
                "the program's binary did not write its program into slot 0 of "
                "the staging array " +
                    spec.staging_pin.string() + waited);
  }

  // 3. Take the instance over like adopt(), then pin the program (temp pin + rename).
  std::lock_guard lock(mutex_);
  if (find(spec.key) != nullptr) return fail(Errc::Conflict, "key " + spec.key + " is loaded");
  auto entry = std::make_unique<Entry>();
  Entry& e = *entry;
  e.spec.key = spec.key;
  e.spec.hook = spec.hook;
  e.spec.map_pin_dir = spec.map_pin_dir;
  e.spec.prog_pin_path = spec.prog_pin_path;
  e.spec.private_map = spec.private_map;
  const TakeOver t{"id " + std::to_string(prog_id) + " (slot 0 of the staging array " +
                       spec.staging_pin.string() + ")",
                   prog_type_of(spec.hook),
                   "",
                   spec.map_pin_dir,
                   spec.private_map,
                   spec.next_array_pin};
  if (auto s = take_over_program(e, std::move(prog), t); !s) return fail(std::move(s.error()));
  auto dirs = make_dirs(spec.prog_pin_path.parent_path());
  if (!dirs) return fail(std::move(dirs.error()));
  if (auto s = pin_replace(e.prog_fd, spec.prog_pin_path); !s) {
    remove_dirs_if_empty(*dirs);
    return fail(std::move(s.error()));
  }
  // The rollback (discard) leaves no pin of the instance: the program pin made here and the
  // pins the binary made (its maps, its next array), and the map directory if it is then empty.
  // Pins another loaded key also uses (its maps: a binary that reused them by name) stay out.
  std::set<fs::path> shared;
  for (const auto& [k, other] : entries_) {
    for (const auto& m : other->loaded.maps) {
      if (!m.pin.empty()) shared.insert(m.pin);
    }
  }
  e.dirs_created.push_back(spec.map_pin_dir);
  e.dirs_created.insert(e.dirs_created.end(), dirs->begin(), dirs->end());
  e.loaded.pins_created.push_back(spec.prog_pin_path);
  for (const auto& m : e.loaded.maps) {
    if (!m.pin.empty() && !shared.contains(m.pin)) e.loaded.pins_created.push_back(m.pin);
  }
  spdlog::info("op=take_self_loaded key={} prog_id={} maps={} staging={} prog_pin={}", spec.key,
               e.loaded.prog_id, e.maps.size(), spec.staging_pin.string(),
               spec.prog_pin_path.string());
  LoadedObject out = e.loaded;
  entries_.emplace(spec.key, std::move(entry));
  return out;
}

}  // namespace l3afd::kernel::libbpf
