#include "kernel/libbpf/load_session.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include <algorithm>
#include <cerrno>
#include <deque>
#include <optional>
#include <sstream>
#include <system_error>

#include "core/log.h"
#include "kernel/libbpf/companions.h"
#include "kernel/libbpf/libbpf_errors.h"
#include "kernel/libbpf/pins.h"

namespace l3afd::kernel::libbpf {
namespace fs = std::filesystem;

namespace {

constexpr size_t kVerifierLogSize = 1 << 20;
constexpr size_t kVerifierLogTailLines = 20;

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

/// Program type of a non-entry program from its section name (docs/packages.md §1).
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

/// Errnos of bpf_object__open_file() that are the host's fault, not the file's.
bool host_failure(int err) {
  return err == ENOMEM || err == EMFILE || err == ENFILE || err == EIO || err == EACCES ||
         err == EPERM || err == ENOENT;
}

}  // namespace

LoadSession::LoadSession(const LoadSpec& spec) : entry_(std::make_unique<LibbpfKernel::Entry>()) {
  entry_->spec = spec;
}

LoadSession::~LoadSession() {
  if (!entry_) return;
  LibbpfKernel::Entry& e = *entry_;
  e.companion_links.clear();  // released before their pins go, so nothing is left attached
  for (auto it = e.loaded.pins_created.rbegin(); it != e.loaded.pins_created.rend(); ++it) {
    (void)unpin(*it);
  }
  remove_dirs_if_empty(e.dirs_created);
  entry_.reset();  // releases the object's fds
}

Status LoadSession::add_dirs(const fs::path& dir) {
  auto created = make_dirs(dir);
  if (!created) return fail(std::move(created.error()));
  entry_->dirs_created.insert(entry_->dirs_created.end(), created->begin(), created->end());
  return ok();
}

Status LoadSession::open_object() {
  const LoadSpec& spec = entry_->spec;
  const std::string pin_root = spec.map_pin_dir.string();
  LIBBPF_OPTS(bpf_object_open_opts, open_opts, .pin_root_path = pin_root.c_str());
  entry_->object.reset(bpf_object__open_file(spec.object_file.c_str(), &open_opts));
  if (entry_->object) return ok();
  const int err = errno;
  if (host_failure(err)) {
    return libbpf_fail(Errc::Io, "open bpf object " + spec.object_file.string(), err);
  }
  Error bad{Errc::InvalidPayload,
            0,
            "object_file " + spec.object_file.filename().string() +
                " is not a valid BPF ELF object: " + error_words(err),
            {},
            {},
            {}};
  bad.items.push_back(ErrorItem{"", "", "", "object_file", bad.message});
  return fail(std::move(bad));
}

Status LoadSession::create_directories() {
  const LoadSpec& spec = entry_->spec;
  for (const fs::path& dir : {spec.map_pin_dir, spec.prog_pin_path.parent_path()}) {
    if (auto s = add_dirs(dir); !s) return s;
  }
  return ok();
}

Status LoadSession::select_programs() {
  LibbpfKernel::Entry& e = *entry_;
  const LoadSpec& spec = e.spec;
  e.entry = bpf_object__find_program_by_name(e.object.get(), spec.entry_function.c_str());
  if (e.entry == nullptr) {
    return fail(Errc::NotFound, "object " + spec.object_file.filename().string() +
                                    " has no function " + spec.entry_function);
  }
  // The entry program, companion programs (tracepoint family, attached later) and iterators
  // are loaded; the others (kprobes, uprobes, other XDP/TC programs) keep a type but are not
  // loaded (README.md).
  bpf_program* prog = nullptr;
  bpf_object__for_each_program(prog, e.object.get()) {
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
    return libbpf_fail(Errc::Internal, "set program type of " + spec.entry_function, errno);
  }
  verifier_log_.assign(kVerifierLogSize, '\0');
  (void)bpf_program__set_log_buf(e.entry, verifier_log_.data(), verifier_log_.size());
  return ok();
}

bool LoadSession::is_private(const bpf_map* m) const {
  const std::string& priv = entry_->spec.private_map;
  auto it = elf_name_.find(m);
  return !priv.empty() && it != elf_name_.end() && it->second == priv;
}

bool LoadSession::is_preexisting(const std::string& pin) const {
  return std::find(preexisting_.begin(), preexisting_.end(), pin) != preexisting_.end();
}

Status LoadSession::decide_map_pins() {
  LibbpfKernel::Entry& e = *entry_;
  const LoadSpec& spec = e.spec;
  bpf_map* map = nullptr;
  bpf_object__for_each_map(map, e.object.get()) {
    elf_name_[map] = bpf_map__name(map);
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
      return libbpf_fail(Errc::Internal, "clear pin path of map " + spec.private_map, errno);
    }
  }
  // Every map except internal ones (.bss/.data/.rodata: bpffs refuses dotted names) is
  // treated as pinned by name in the map directory, so that a map pinned by an earlier load
  // (a restart after a crash, another instance of the same version) is reused instead of
  // being replaced by a fresh, empty copy behind the back of the pin. libbpf refuses a pinned
  // map whose definition differs, which fails the load with a clear error.
  bpf_object__for_each_map(map, e.object.get()) {
    if (is_private(map)) continue;
    if (bpf_map__pin_path(map) != nullptr || pin_name(map).find('.') != std::string::npos) continue;
    const fs::path path = spec.map_pin_dir / pin_name(map);
    if (bpf_map__set_pin_path(map, path.c_str()) != 0) {
      return libbpf_fail(Errc::Internal, "set pin path of map " + pin_name(map), errno);
    }
  }
  // Maps that already exist are reused by libbpf; remember them so that only pins this load
  // creates are listed as created.
  std::error_code ec;
  bpf_object__for_each_map(map, e.object.get()) {
    const char* pp = bpf_map__pin_path(map);
    if (pp != nullptr && fs::exists(pp, ec)) preexisting_.emplace_back(pp);
  }
  return ok();
}

Status LoadSession::load_into_kernel() {
  LibbpfKernel::Entry& e = *entry_;
  const int err = bpf_object__load(e.object.get());
  if (err == 0) return ok();
  // libbpf unpins the by-name maps it pinned during a failed load; make sure of it.
  bpf_map* map = nullptr;
  bpf_object__for_each_map(map, e.object.get()) {
    const char* pp = bpf_map__pin_path(map);
    if (pp != nullptr && !is_preexisting(pp)) (void)unpin(pp);
  }
  std::string msg =
      "load " + e.spec.object_file.filename().string() + " (" + e.spec.entry_function + ")";
  if (verifier_log_[0] != '\0') msg += ": verifier log: " + log_tail(verifier_log_.data());
  return libbpf_fail(Errc::Kernel, msg, err);
}

Status LoadSession::collect_maps() {
  LibbpfKernel::Entry& e = *entry_;
  const LoadSpec& spec = e.spec;
  std::error_code ec;
  bpf_map* map = nullptr;
  bpf_object__for_each_map(map, e.object.get()) {
    const int fd = bpf_map__fd(map);
    if (fd < 0) continue;
    MapInfo info;
    info.name = elf_name_.at(map);
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
  for (const auto& [name, m] : e.maps_by_name) {
    e.maps[name] = LibbpfKernel::MapHandle{bpf_map__fd(m),          bpf_map__type(m),
                                           bpf_map__key_size(m),    bpf_map__value_size(m),
                                           bpf_map__max_entries(m), bpf_map__map_flags(m),
                                           bpf_map__is_internal(m)};
  }
  return ok();
}

Status LoadSession::pin_entry_program() {
  LibbpfKernel::Entry& e = *entry_;
  const int prog_fd = bpf_program__fd(e.entry);
  bpf_prog_info pinfo{};
  uint32_t plen = sizeof(pinfo);
  if (bpf_obj_get_info_by_fd(prog_fd, &pinfo, &plen) != 0) {
    return fail(Errc::Kernel, "read info of program " + e.spec.entry_function, errno);
  }
  e.loaded.prog_id = pinfo.id;
  e.prog_fd = prog_fd;
  if (auto s = pin_replace(prog_fd, e.spec.prog_pin_path); !s) return s;
  e.loaded.pins_created.push_back(e.spec.prog_pin_path);
  return ok();
}

Status LoadSession::start_companions() {
  if (!entry_->spec.companion_link_dir.empty()) {
    if (auto s = add_dirs(entry_->spec.companion_link_dir); !s) return s;
  }
  return attach_companions(*entry_);
}

std::unique_ptr<LibbpfKernel::Entry> LoadSession::commit() {
  return std::move(entry_);
}

}  // namespace l3afd::kernel::libbpf
