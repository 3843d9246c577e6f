#include "kernel/libbpf/libbpf_kernel.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstdarg>
#include <cstring>
#include <set>

#include "core/log.h"
#include "core/unique_fd.h"
#include "kernel/libbpf/dir_lock.h"
#include "kernel/libbpf/load_session.h"
#include "kernel/libbpf/pins.h"

namespace l3afd::kernel::libbpf {
namespace fs = std::filesystem;

namespace {

int print_to_spdlog(enum libbpf_print_level level, const char* format, va_list args) {
  char buf[1024];
  const int n = std::vsnprintf(buf, sizeof(buf), format, args);
  if (n < 0) return n;
  std::string_view line(buf);
  while (!line.empty() && line.back() == '\n') line.remove_suffix(1);
  switch (level) {
    case LIBBPF_WARN: spdlog::warn("libbpf: {}", line); break;
    case LIBBPF_INFO: spdlog::info("libbpf: {}", line); break;
    case LIBBPF_DEBUG: spdlog::debug("libbpf: {}", line); break;
  }
  return n;
}

/// Kernel id of the object pinned at `path`, 0 if none can be read.
uint32_t pinned_id(const fs::path& path) {
  UniqueFd fd(bpf_obj_get(path.c_str()));
  if (!fd) return 0;
  struct {
    uint32_t type;
    uint32_t id;
  } head{};
  uint32_t len = sizeof(head);
  if (bpf_obj_get_info_by_fd(fd.get(), &head, &len) != 0) return 0;
  return head.id;
}

}  // namespace

LibbpfKernel::LibbpfKernel(LibbpfKernelOptions options) : options_(std::move(options)) {
  static std::once_flag once;
  std::call_once(once, [] { libbpf_set_print(print_to_spdlog); });
}

Result<ChangeLock> LibbpfKernel::lock_for_change() {
  if (options_.lock_dir.empty()) return ChangeLock();
  return lock_directory(options_.lock_dir, options_.lock_timeout);
}

LibbpfKernel::Entry* LibbpfKernel::find(const std::string& key) {
  auto it = entries_.find(key);
  return it == entries_.end() ? nullptr : it->second.get();
}

Result<InterfaceInfo> LibbpfKernel::interface(const std::string& name) {
  if (name.empty() || name.size() >= IFNAMSIZ) {
    return fail(Errc::NotFound, "interface " + name + " does not exist");
  }
  const unsigned ifindex = ::if_nametoindex(name.c_str());
  if (ifindex == 0) return fail(Errc::NotFound, "interface " + name + " does not exist", errno);
  UniqueFd sock(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!sock) return fail(Errc::Kernel, "open socket for interface flags", errno);
  ifreq req{};
  std::memcpy(req.ifr_name, name.c_str(), name.size());
  if (::ioctl(sock.get(), SIOCGIFFLAGS, &req) != 0) {
    if (errno == ENODEV)
      return fail(Errc::NotFound, "interface " + name + " does not exist", errno);
    return fail(Errc::Kernel, "read flags of interface " + name, errno);
  }
  return InterfaceInfo{name, ifindex, (req.ifr_flags & IFF_LOOPBACK) != 0};
}

Result<LoadedObject> LibbpfKernel::load(const LoadSpec& spec) {
  std::lock_guard lock(mutex_);
  if (find(spec.key) != nullptr)
    return fail(Errc::Conflict, "key " + spec.key + " is already loaded");
  std::error_code ec;
  if (!fs::is_regular_file(spec.object_file, ec)) {
    Error err{Errc::NotFound,
              0,
              "object_file " + spec.object_file.filename().string() + " is not in the package (" +
                  spec.object_file.parent_path().string() + ")",
              {},
              {},
              {}};
    err.items.push_back(ErrorItem{"", "", "", "object_file", err.message});
    return fail(std::move(err));
  }
  // Stages in order; the first failure ends the load and the session rolls back (README.md).
  LoadSession session(spec);
  for (auto stage :
       {&LoadSession::open_object, &LoadSession::create_directories, &LoadSession::select_programs,
        &LoadSession::decide_map_pins, &LoadSession::load_into_kernel, &LoadSession::collect_maps,
        &LoadSession::pin_entry_program, &LoadSession::start_companions}) {
    if (auto s = (session.*stage)(); !s) return fail(std::move(s.error()));
  }
  std::unique_ptr<Entry> entry = session.commit();
  spdlog::info("op=load key={} prog_id={} maps={} pins_created={}", spec.key, entry->loaded.prog_id,
               entry->loaded.maps.size(), entry->loaded.pins_created.size());
  LoadedObject out = entry->loaded;
  entries_.emplace(spec.key, std::move(entry));
  return out;
}

Status LibbpfKernel::discard(const std::string& key) {
  std::lock_guard lock(mutex_);
  Entry* e = find(key);
  if (e == nullptr) return fail(Errc::NotFound, "key " + key + " is not loaded");
  if (e->attachment) {
    if (auto s = drop_attachment(*e); !s) return s;
  }
  // Only remove a created pin if it still holds one of our objects (another instance may have
  // replaced it since).
  std::vector<std::pair<fs::path, uint32_t>> pins;
  for (const auto& p : e->loaded.pins_created) pins.emplace_back(p, pinned_id(p));
  std::vector<uint32_t> ours{e->loaded.prog_id};
  for (const auto& m : e->loaded.maps) ours.push_back(m.id);
  ours.insert(ours.end(), e->companion_link_ids.begin(), e->companion_link_ids.end());
  const std::vector<fs::path> dirs = e->dirs_created;
  entries_.erase(key);  // releases every fd of the key; pins are removed below
  for (auto it = pins.rbegin(); it != pins.rend(); ++it) {
    if (std::find(ours.begin(), ours.end(), it->second) == ours.end()) continue;
    if (auto s = unpin(it->first); !s) return s;
  }
  remove_dirs_if_empty(dirs);
  spdlog::info("op=discard key={}", key);
  return ok();
}

Status LibbpfKernel::unload(const std::string& key) {
  std::lock_guard lock(mutex_);
  Entry* e = find(key);
  if (e == nullptr) return fail(Errc::NotFound, "key " + key + " is not loaded");
  if (e->attachment) {
    if (auto s = drop_attachment(*e); !s) return s;
  }
  const LoadSpec spec = e->spec;
  const LoadedObject loaded = e->loaded;
  const auto companion_pins = e->companion_pins;
  const auto companion_ids = e->companion_link_ids;
  entries_.erase(key);  // releases every fd of the key; pins are removed below

  // A pin another loaded key uses stays while it names that key's object (TC ingress and egress
  // of one package share their map directory, program pin path and MapNamePath; a replacement
  // of the same version shares maps and program pin). At such a shared path, a pin naming an
  // object no loaded key holds any more is the leftover of an earlier unload of the pair and
  // goes with the last one, so the pair's removal leaves nothing whatever the order.
  std::set<fs::path> shared;
  std::set<uint32_t> held_progs, held_maps, held_links;
  for (const auto& [k, other] : entries_) {
    shared.insert(other->spec.prog_pin_path);
    held_progs.insert(other->loaded.prog_id);
    for (const auto& m : other->loaded.maps) {
      if (!m.pin.empty()) shared.insert(m.pin);
      held_maps.insert(m.id);
    }
    shared.insert(other->companion_pins.begin(), other->companion_pins.end());
    held_links.insert(other->companion_link_ids.begin(), other->companion_link_ids.end());
  }
  auto release_pin = [&](const fs::path& path, uint32_t own, const std::set<uint32_t>& held) {
    if (path.empty()) return;
    const uint32_t id = pinned_id(path);
    if (id == 0 || held.contains(id)) return;         // gone, or another loaded key's object
    if (id != own && !shared.contains(path)) return;  // not ours
    if (auto s = unpin(path); !s) spdlog::warn("op=unpin {}", s.error().to_string());
  };
  // Removing a companion's pin detaches it (our fd is already closed).
  for (std::size_t i = 0; i < companion_pins.size() && i < companion_ids.size(); ++i) {
    release_pin(companion_pins[i], companion_ids[i], held_links);
  }
  // Pins stay valid after the fds are closed, so identities can still be compared. Only the
  // program pin and pins directly in the map directory are candidates.
  release_pin(spec.prog_pin_path, loaded.prog_id, held_progs);
  for (const auto& m : loaded.maps) {
    if (m.pin.empty() || m.pin.parent_path() != spec.map_pin_dir) continue;
    release_pin(m.pin, m.id, held_maps);
  }
  remove_empty_ancestors(spec.map_pin_dir);
  remove_empty_ancestors(spec.prog_pin_path.parent_path());
  if (!spec.companion_link_dir.empty()) remove_empty_ancestors(spec.companion_link_dir);
  spdlog::info("op=unload key={} prog_id={}", key, loaded.prog_id);
  return ok();
}

bool LibbpfKernel::program_exists(uint32_t prog_id) {
  UniqueFd fd(bpf_prog_get_fd_by_id(prog_id));
  if (fd) return true;
  if (errno != ENOENT) spdlog::warn("op=program_exists id={} errno={}", prog_id, errno);
  return false;
}

}  // namespace l3afd::kernel::libbpf
