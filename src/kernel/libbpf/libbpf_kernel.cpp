#include "kernel/libbpf/libbpf_kernel.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstdarg>
#include <cstring>
#include <deque>
#include <set>
#include <sstream>

#include "core/log.h"
#include "core/unique_fd.h"
#include "kernel/libbpf/companions.h"
#include "kernel/libbpf/pins.h"

namespace l3afd::kernel::libbpf {
namespace fs = std::filesystem;

namespace {

constexpr size_t kVerifierLogSize = 1 << 20;
constexpr size_t kVerifierLogTailLines = 20;

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

/// The last lines of a verifier log, joined with " | ".
std::string log_tail(const char* log) {
  std::deque<std::string> lines;
  std::istringstream in(log);
  for (std::string line; std::getline(in, line);) {
    if (line.empty()) continue;
    lines.push_back(line);
    if (lines.size() > kVerifierLogTailLines) lines.pop_front();
  }
  std::string out;
  for (const auto& l : lines) out += (out.empty() ? "" : " | ") + l;
  return out;
}

/// Program type of a non-entry program from its section name (programs.md §1).
std::optional<bpf_prog_type> type_from_section(std::string_view sec) {
  auto starts = [&](std::string_view p) { return sec.substr(0, p.size()) == p; };
  if (starts("tracepoint/") || starts("tp/")) return BPF_PROG_TYPE_TRACEPOINT;
  if (starts("kprobe/") || starts("kretprobe/") || starts("uprobe/") || starts("uretprobe/")) {
    return BPF_PROG_TYPE_KPROBE;
  }
  if (starts("xdp")) return BPF_PROG_TYPE_XDP;
  if (starts("tc") || starts("classifier")) return BPF_PROG_TYPE_SCHED_CLS;
  return std::nullopt;
}

/// The pin file name of a map: its ELF name, or for internal maps (`<obj>.rodata`) the section
/// name (`.rodata`), as the original daemon pins them.
std::string pin_name(const bpf_map* m) {
  std::string name = bpf_map__name(m);
  if (bpf_map__is_internal(m)) {
    if (auto dot = name.find('.'); dot != std::string::npos) name = name.substr(dot);
  }
  return name;
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

/// Removes `path` only if it pins the object with id `id`.
void unpin_if(const fs::path& path, uint32_t id) {
  if (path.empty() || pinned_id(path) != id) return;
  if (auto s = unpin(path); !s) spdlog::warn("op=unpin {}", s.error().to_string());
}

/// Undoes a partial load() unless dismissed.
class LoadRollback {
 public:
  explicit LoadRollback(LibbpfKernel::Entry& e) : e_(e) {}
  LoadRollback(const LoadRollback&) = delete;
  LoadRollback& operator=(const LoadRollback&) = delete;
  ~LoadRollback() {
    if (dismissed_) return;
    destroy_companions(e_);  // before their pins go, so nothing is left attached
    for (auto it = e_.loaded.pins_created.rbegin(); it != e_.loaded.pins_created.rend(); ++it) {
      (void)unpin(*it);
    }
    if (e_.object != nullptr) bpf_object__close(e_.object);
    e_.object = nullptr;
    remove_dirs_if_empty(e_.dirs_created);
  }
  void dismiss() { dismissed_ = true; }

 private:
  LibbpfKernel::Entry& e_;
  bool dismissed_ = false;
};

}  // namespace

LibbpfKernel::LibbpfKernel(LibbpfKernelOptions options) : options_(options) {
  static std::once_flag once;
  std::call_once(once, [] { libbpf_set_print(print_to_spdlog); });
}

LibbpfKernel::~LibbpfKernel() {
  // Closing fds does not remove pins: pinned programs, maps and links survive the daemon
  // (chaining.md K11), which is what a restart relies on.
  for (auto& [key, e] : entries_) {
    destroy_companions(*e);
    if (e->attachment && e->attachment->link_fd >= 0) ::close(e->attachment->link_fd);
    if (e->object != nullptr) bpf_object__close(e->object);
  }
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
  auto entry = std::make_unique<Entry>();
  Entry& e = *entry;
  e.spec = spec;
  LoadRollback rollback(e);

  for (const fs::path& dir : {spec.map_pin_dir, spec.prog_pin_path.parent_path()}) {
    auto created = make_dirs(dir);
    if (!created) return fail(std::move(created.error()));
    e.dirs_created.insert(e.dirs_created.end(), created->begin(), created->end());
  }

  const std::string pin_root = spec.map_pin_dir.string();
  LIBBPF_OPTS(bpf_object_open_opts, open_opts, .pin_root_path = pin_root.c_str());
  e.object = bpf_object__open_file(spec.object_file.c_str(), &open_opts);
  if (e.object == nullptr) {
    const int err = errno;
    e.object = nullptr;
    return fail(Errc::Io, "open bpf object " + spec.object_file.string(), err);
  }
  e.entry = bpf_object__find_program_by_name(e.object, spec.entry_function.c_str());
  if (e.entry == nullptr) {
    return fail(Errc::NotFound, "object " + spec.object_file.filename().string() +
                                    " has no function " + spec.entry_function);
  }

  // The entry program, companion programs (tracepoint family, attached below) and iterators
  // are loaded; the others (kprobes, uprobes, other XDP/TC programs) keep a type but are not
  // loaded (README.md).
  bpf_program* prog = nullptr;
  bpf_object__for_each_program(prog, e.object) {
    if (prog == e.entry) continue;
    const char* sec = bpf_program__section_name(prog);
    const bool companion = is_companion_section(sec);
    const bool iterator = is_iterator_section(sec);
    (void)bpf_program__set_autoload(prog, companion || iterator);
    if (iterator) e.iterators.push_back(prog);
    if (auto t = type_from_section(sec)) (void)bpf_program__set_type(prog, *t);
  }
  const bool xdp = spec.hook == model::Hook::XdpIngress;
  if (bpf_program__set_type(e.entry, xdp ? BPF_PROG_TYPE_XDP : BPF_PROG_TYPE_SCHED_CLS) != 0 ||
      (xdp && bpf_program__set_expected_attach_type(e.entry, BPF_XDP) != 0)) {
    return fail(Errc::Internal, "set program type of " + spec.entry_function, errno);
  }
  std::vector<char> log(kVerifierLogSize, '\0');
  (void)bpf_program__set_log_buf(e.entry, log.data(), log.size());

  // Every map except internal ones (.bss/.data/.rodata: bpffs refuses dotted names) is
  // treated as pinned by name in the map directory, so that a map pinned by an earlier load
  // (a restart after a crash, another instance of the same version) is reused instead of
  // being replaced by a fresh, empty copy behind the back of the pin. libbpf refuses a pinned
  // map whose definition differs, which fails the load with a clear error.
  bpf_map* map = nullptr;
  std::map<const bpf_map*, std::string> elf_name;
  bpf_object__for_each_map(map, e.object) {
    elf_name[map] = bpf_map__name(map);
    e.maps_by_name[bpf_map__name(map)] = map;
  }
  if (!spec.private_map.empty()) {
    auto it = e.maps_by_name.find(spec.private_map);
    if (it == e.maps_by_name.end()) {
      return fail(Errc::NotFound, "object " + spec.object_file.filename().string() +
                                      " has no map " + spec.private_map);
    }
    // The ELF may declare it pinned by name; a fresh array per load must not reuse that pin.
    if (bpf_map__set_pin_path(it->second, nullptr) != 0) {
      return fail(Errc::Internal, "clear pin path of map " + spec.private_map, errno);
    }
  }
  auto is_private = [&](const bpf_map* m) {
    return !spec.private_map.empty() && elf_name[m] == spec.private_map;
  };
  bpf_object__for_each_map(map, e.object) {
    if (is_private(map)) continue;
    if (bpf_map__pin_path(map) != nullptr || pin_name(map).find('.') != std::string::npos) continue;
    const fs::path path = spec.map_pin_dir / pin_name(map);
    if (bpf_map__set_pin_path(map, path.c_str()) != 0) {
      return fail(Errc::Internal, "set pin path of map " + pin_name(map), errno);
    }
  }
  // Maps that already exist are reused by libbpf; remember them so that only pins this load
  // creates are listed as created.
  std::vector<std::string> preexisting;
  bpf_object__for_each_map(map, e.object) {
    const char* pp = bpf_map__pin_path(map);
    if (pp != nullptr && fs::exists(pp, ec)) preexisting.emplace_back(pp);
  }
  auto is_preexisting = [&](const std::string& p) {
    return std::find(preexisting.begin(), preexisting.end(), p) != preexisting.end();
  };

  if (int err = bpf_object__load(e.object); err != 0) {
    // libbpf unpins the by-name maps it pinned during a failed load; make sure of it.
    bpf_object__for_each_map(map, e.object) {
      const char* pp = bpf_map__pin_path(map);
      if (pp != nullptr && !is_preexisting(pp)) (void)unpin(pp);
    }
    std::string msg =
        "load " + spec.object_file.filename().string() + " (" + spec.entry_function + ")";
    if (log[0] != '\0') msg += ": verifier log: " + log_tail(log.data());
    return fail(Errc::Kernel, msg, -err);
  }

  bpf_object__for_each_map(map, e.object) {
    const int fd = bpf_map__fd(map);
    if (fd < 0) continue;
    MapInfo info;
    info.name = elf_name[map];
    bpf_map_info kinfo{};
    uint32_t len = sizeof(kinfo);
    if (bpf_obj_get_info_by_fd(fd, &kinfo, &len) != 0) {
      return fail(Errc::Kernel, "read info of map " + info.name, errno);
    }
    info.id = kinfo.id;
    info.type = kinfo.type;
    info.key_size = kinfo.key_size;
    info.value_size = kinfo.value_size;
    info.max_entries = kinfo.max_entries;
    if (const char* pp = bpf_map__pin_path(map); pp != nullptr) {
      info.pin = pp;
      if (!is_preexisting(pp)) e.loaded.pins_created.push_back(info.pin);
    } else if (is_private(map)) {
      spdlog::debug("op=load key={} map={} not pinned (private)", spec.key, info.name);
    } else if (pin_name(map).find('.') != std::string::npos) {
      // .bss is excluded by the layout rule; .rodata/.data cannot be pinned under their section
      // name because bpffs refuses names containing a dot (EPERM), so internal maps stay
      // unpinned (README.md).
      spdlog::debug("op=load key={} map={} not pinned (internal)", spec.key, info.name);
    } else {
      const fs::path path = spec.map_pin_dir / pin_name(map);
      if (!fs::exists(path, ec)) {
        if (bpf_obj_pin(fd, path.c_str()) != 0) {
          return fail(Errc::Io, "pin map " + info.name + " at " + path.string(), errno);
        }
        info.pin = path;
        e.loaded.pins_created.push_back(path);
      } else {
        spdlog::info("op=load key={} map={} pin={} exists, not pinned", spec.key, info.name,
                     path.string());
      }
    }
    e.loaded.maps.push_back(std::move(info));
  }

  const int prog_fd = bpf_program__fd(e.entry);
  bpf_prog_info pinfo{};
  uint32_t plen = sizeof(pinfo);
  if (bpf_obj_get_info_by_fd(prog_fd, &pinfo, &plen) != 0) {
    return fail(Errc::Kernel, "read info of program " + spec.entry_function, errno);
  }
  e.loaded.prog_id = pinfo.id;
  e.prog_fd = prog_fd;
  for (const auto& [name, m] : e.maps_by_name) {
    e.maps[name] = MapHandle{bpf_map__fd(m),         bpf_map__type(m),        bpf_map__key_size(m),
                             bpf_map__value_size(m), bpf_map__max_entries(m), bpf_map__map_flags(m),
                             bpf_map__is_internal(m)};
  }
  if (auto s = pin_replace(prog_fd, spec.prog_pin_path); !s) return fail(std::move(s.error()));
  e.loaded.pins_created.push_back(spec.prog_pin_path);
  if (!spec.companion_link_dir.empty()) {
    auto created = make_dirs(spec.companion_link_dir);
    if (!created) return fail(std::move(created.error()));
    e.dirs_created.insert(e.dirs_created.end(), created->begin(), created->end());
  }
  if (auto s = attach_companions(e); !s) return fail(std::move(s.error()));

  rollback.dismiss();
  spdlog::info("op=load key={} prog_id={} maps={} pins_created={}", spec.key, e.loaded.prog_id,
               e.loaded.maps.size(), e.loaded.pins_created.size());
  LoadedObject out = e.loaded;
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
  destroy_companions(*e);
  bpf_object__close(e->object);
  e->object = nullptr;
  for (auto it = pins.rbegin(); it != pins.rend(); ++it) {
    if (std::find(ours.begin(), ours.end(), it->second) == ours.end()) continue;
    if (auto s = unpin(it->first); !s) return s;
  }
  remove_dirs_if_empty(e->dirs_created);
  entries_.erase(key);
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
  destroy_companions(*e);
  bpf_object__close(e->object);
  e->object = nullptr;
  entries_.erase(key);

  // Pins another loaded object also uses stay (TC ingress and egress of one package share
  // their map directory; a replacement of the same version shares maps and program pin).
  std::set<fs::path> shared;
  for (const auto& [k, other] : entries_) {
    shared.insert(other->spec.prog_pin_path);
    for (const auto& m : other->loaded.maps) {
      if (!m.pin.empty()) shared.insert(m.pin);
    }
    shared.insert(other->companion_pins.begin(), other->companion_pins.end());
  }
  // Removing a companion's pin detaches it (our fd is already closed).
  for (std::size_t i = 0; i < companion_pins.size() && i < companion_ids.size(); ++i) {
    if (!shared.contains(companion_pins[i])) unpin_if(companion_pins[i], companion_ids[i]);
  }
  // Pins stay valid after the fds are closed, so identities can still be compared. Only the
  // program pin and pins directly in the map directory are candidates.
  if (!shared.contains(spec.prog_pin_path)) unpin_if(spec.prog_pin_path, loaded.prog_id);
  for (const auto& m : loaded.maps) {
    if (m.pin.empty() || m.pin.parent_path() != spec.map_pin_dir || shared.contains(m.pin))
      continue;
    unpin_if(m.pin, m.id);
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
