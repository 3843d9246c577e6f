// Probes of LibbpfKernel (bpf_programs.probes, docs/packages.md §1.4): probe_sections(),
// load_probes() and adopt_probes(), and the LoadSession stages of a probe load. A probe key is
// an Entry like any other: its links are the entry's companion links (owned, pinned, listed by
// id), so discard(), unload() and map_reader() need nothing of their own (README.md).
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <system_error>

#include "core/log.h"
#include "core/unique_fd.h"
#include "kernel/libbpf/libbpf_errors.h"
#include "kernel/libbpf/libbpf_kernel.h"
#include "kernel/libbpf/load_session.h"
#include "kernel/libbpf/pins.h"
#include "kernel/probe_sections.h"

namespace l3afd::kernel::libbpf {

namespace fs = std::filesystem;

namespace {

constexpr size_t kVerifierLogSize = 1 << 20;

/// Kprobe support: libbpf 1.1 attaches a kprobe through the kprobe PMU
/// (/sys/bus/event_source/devices/kprobe/type) or, without it, through tracefs's legacy
/// kprobe_events; a kernel with neither has no kprobe events at all (CONFIG_KPROBE_EVENTS off).
KprobeSupport detect_kprobe_support(const std::optional<bool>& assumed) {
  if (assumed) return {*assumed, "as configured (LibbpfKernelOptions::kprobes)"};
  std::error_code ec;
  const fs::path pmu = "/sys/bus/event_source/devices/kprobe";
  if (fs::exists(pmu, ec)) return {true, "kprobe PMU " + pmu.string()};
  for (const char* legacy :
       {"/sys/kernel/tracing/kprobe_events", "/sys/kernel/debug/tracing/kprobe_events"}) {
    if (fs::exists(legacy, ec)) return {true, std::string("tracefs ") + legacy};
  }
  return {false,
          "detected: no kprobe PMU at /sys/bus/event_source/devices/kprobe and no kprobe_events "
          "in tracefs"};
}

/// The object file must be a readable regular file (InvalidPayload on object_file otherwise).
Status check_object_file(const fs::path& file) {
  std::error_code ec;
  if (!fs::is_regular_file(file, ec)) {
    return invalid_object_file("object_file " + file.filename().string() +
                               " cannot be read: no such file (" + file.parent_path().string() +
                               ")");
  }
  if (::access(file.c_str(), R_OK) != 0) {
    const int err = errno;
    return invalid_object_file("object_file " + file.filename().string() +
                               " cannot be read: " + error_words(err));
  }
  return ok();
}

/// Every program of an opened object, in the object's order.
std::vector<ObjectProgram> programs_of(bpf_object* obj) {
  std::vector<ObjectProgram> out;
  bpf_program* prog = nullptr;
  bpf_object__for_each_program(prog, obj) {
    out.push_back(ObjectProgram{bpf_program__name(prog), bpf_program__section_name(prog)});
  }
  return out;
}

/// The probe sections of `file` (opened without loading anything).
Result<std::vector<ProbeSection>> read_probe_sections(const fs::path& file,
                                                      const KprobeSupport& kprobes) {
  if (auto s = check_object_file(file); !s) return fail(std::move(s.error()));
  const BpfObject obj(bpf_object__open_file(file.c_str(), nullptr));
  if (!obj) {
    const int err = errno;
    if (err == ENOMEM || err == EMFILE || err == ENFILE) {
      return libbpf_fail(Errc::Io, "open bpf object " + file.string(), err);
    }
    return invalid_object_file("object_file " + file.filename().string() +
                               " is not a valid BPF ELF object: " + error_words(err));
  }
  return classify_probe_programs(file, programs_of(obj.get()), kprobes);
}

uint32_t link_id_of(int fd) {
  bpf_link_info info{};
  uint32_t len = sizeof(info);
  return bpf_obj_get_info_by_fd(fd, &info, &len) == 0 ? info.id : 0;
}

/// True if `fd` is a bpf object of the given anon-inode kind ("bpf-link", "bpf-map",
/// "bpf-prog"): bpf_obj_get_info_by_fd() answers any bpf fd with its own info layout, so the
/// kind must be known before the info is trusted.
bool fd_is(int fd, std::string_view kind) {
  std::array<char, 64> buf{};
  const std::string link = "/proc/self/fd/" + std::to_string(fd);
  const ssize_t n = ::readlink(link.c_str(), buf.data(), buf.size() - 1);
  return n > 0 &&
         std::string_view(buf.data(), static_cast<size_t>(n)) == "anon_inode:" + std::string(kind);
}

/// The ids of the maps program `prog_fd` uses, and its info.
bool program_info(int prog_fd, bpf_prog_info& info, std::vector<uint32_t>& map_ids) {
  info = bpf_prog_info{};
  uint32_t len = sizeof(info);
  if (bpf_obj_get_info_by_fd(prog_fd, &info, &len) != 0) return false;
  map_ids.assign(info.nr_map_ids, 0);
  if (map_ids.empty()) return true;
  bpf_prog_info again{};
  again.nr_map_ids = static_cast<uint32_t>(map_ids.size());
  again.map_ids = reinterpret_cast<uint64_t>(map_ids.data());
  uint32_t alen = sizeof(again);
  if (bpf_obj_get_info_by_fd(prog_fd, &again, &alen) != 0) return false;
  map_ids.resize(std::min<std::size_t>(map_ids.size(), again.nr_map_ids));
  return true;
}

std::string joined_functions(const std::vector<ProbeSection>& probes) {
  std::string out;
  for (const auto& p : probes) out += (out.empty() ? "" : ", ") + p.function;
  return out;
}

}  // namespace

// --- LoadSession stages of a probe load ---

Status LoadSession::create_probe_directories() {
  for (const fs::path& dir : {entry_->spec.map_pin_dir, entry_->spec.companion_link_dir}) {
    if (auto s = add_dirs(dir); !s) return s;
  }
  return ok();
}

Status LoadSession::select_probe_programs(const std::vector<ProbeSection>& probes) {
  LibbpfKernel::Entry& e = *entry_;
  verifier_log_.assign(kVerifierLogSize, '\0');
  bpf_program* prog = nullptr;
  bpf_object__for_each_program(prog, e.object.get()) {
    const std::string name = bpf_program__name(prog);
    const bool probe = std::any_of(probes.begin(), probes.end(),
                                   [&](const ProbeSection& p) { return p.function == name; });
    if (bpf_program__set_autoload(prog, probe) != 0) {
      return libbpf_fail(Errc::Internal, "set autoload of " + name, errno);
    }
    // Programs load one after the other and the first failure ends the load, so one buffer
    // serves them all; libbpf fills it only for a failed program (log level 0 otherwise).
    if (probe) (void)bpf_program__set_log_buf(prog, verifier_log_.data(), verifier_log_.size());
  }
  // Names the programs in load_into_kernel()'s failure message.
  e.spec.entry_function = "probes " + joined_functions(probes);
  return ok();
}

Result<std::vector<AttachedProbe>> LoadSession::attach_probes(
    const std::vector<ProbeSection>& probes) {
  LibbpfKernel::Entry& e = *entry_;
  std::vector<AttachedProbe> out;
  for (const ProbeSection& p : probes) {
    bpf_program* prog = bpf_object__find_program_by_name(e.object.get(), p.function.c_str());
    if (prog == nullptr) return fail(Errc::Internal, "probe program " + p.function + " vanished");
    BpfLink link(bpf_program__attach(prog));
    if (!link) {
      return libbpf_fail(Errc::Kernel, "attach probe " + p.function + " (" + p.section + ")",
                         errno);
    }
    const int link_fd = bpf_link__fd(link.get());
    e.companion_links.push_back(std::move(link));
    AttachedProbe a;
    a.section = p;
    bpf_prog_info pinfo{};
    uint32_t plen = sizeof(pinfo);
    if (bpf_obj_get_info_by_fd(bpf_program__fd(prog), &pinfo, &plen) == 0) a.prog_id = pinfo.id;
    a.link_id = link_id_of(link_fd);
    e.companion_link_ids.push_back(a.link_id);
    a.link_pin = e.spec.companion_link_dir / probe_link_pin_name(p);
    if (auto s = pin_replace(link_fd, a.link_pin); !s) return fail(std::move(s.error()));
    e.companion_pins.push_back(a.link_pin);
    e.loaded.pins_created.push_back(a.link_pin);
    spdlog::info("op=attach_probe key={} program={} section={} prog_id={} link_id={}", e.spec.key,
                 p.function, p.section, a.prog_id, a.link_id);
    out.push_back(std::move(a));
  }
  return out;
}

// --- The port's probe operations ---

Result<std::vector<ProbeSection>> LibbpfKernel::probe_sections(const fs::path& object_file) {
  // Reads only the file and the options (constant): no adapter state, so no mutex.
  return read_probe_sections(object_file, detect_kprobe_support(options_.kprobes));
}

Result<LoadedProbes> LibbpfKernel::load_probes(const ProbeSpec& spec) {
  std::lock_guard lock(mutex_);
  if (find(spec.key) != nullptr)
    return fail(Errc::Conflict, "key " + spec.key + " is already loaded");
  if (spec.link_dir.empty() || spec.map_pin_dir.empty()) {
    return fail(Errc::Internal, "load_probes " + spec.key + ": map and link directories needed");
  }
  if (auto s = check_object_file(spec.object_file); !s) return fail(std::move(s.error()));
  LoadSpec ls;
  ls.key = spec.key;
  ls.object_file = spec.object_file;
  ls.map_pin_dir = spec.map_pin_dir;
  ls.companion_link_dir = spec.link_dir;
  // Stages in order; the first failure ends the load and the session rolls back (README.md).
  LoadSession session(ls);
  if (auto s = session.open_object(); !s) return fail(std::move(s.error()));
  // Refusals (no probe, kprobes on a kernel without them, a section libbpf cannot attach)
  // come before anything is created.
  auto probes = classify_probe_programs(spec.object_file, programs_of(session.entry().object.get()),
                                        detect_kprobe_support(options_.kprobes));
  if (!probes) return fail(std::move(probes.error()));
  if (auto s = session.create_probe_directories(); !s) return fail(std::move(s.error()));
  if (auto s = session.select_probe_programs(*probes); !s) return fail(std::move(s.error()));
  for (auto stage : {&LoadSession::decide_map_pins, &LoadSession::load_into_kernel,
                     &LoadSession::collect_maps}) {
    if (auto s = (session.*stage)(); !s) return fail(std::move(s.error()));
  }
  auto attached = session.attach_probes(*probes);
  if (!attached) return fail(std::move(attached.error()));
  std::unique_ptr<Entry> entry = session.commit();
  LoadedProbes out{std::move(*attached), entry->loaded.maps, entry->loaded.pins_created};
  spdlog::info("op=load_probes key={} probes={} maps={} pins_created={}", spec.key,
               out.probes.size(), out.maps.size(), out.pins_created.size());
  entries_.emplace(spec.key, std::move(entry));
  return out;
}

Result<LoadedProbes> LibbpfKernel::adopt_probes(const ProbeSpec& spec) {
  std::lock_guard lock(mutex_);
  if (find(spec.key) != nullptr) return fail(Errc::Conflict, "key " + spec.key + " is loaded");
  // The object's sections, if it can still be read, name each adopted probe's section.
  std::vector<ProbeSection> known;
  if (auto s = read_probe_sections(spec.object_file, detect_kprobe_support(options_.kprobes))) {
    known = std::move(*s);
  }
  auto entry = std::make_unique<Entry>();
  Entry& e = *entry;
  e.spec.key = spec.key;
  e.spec.object_file = spec.object_file;
  e.spec.map_pin_dir = spec.map_pin_dir;
  e.spec.companion_link_dir = spec.link_dir;

  std::error_code ec;
  std::vector<fs::path> files;
  for (const auto& f : fs::directory_iterator(spec.link_dir, ec)) files.push_back(f.path());
  std::sort(files.begin(), files.end());
  LoadedProbes out;
  std::vector<uint32_t> used_maps;
  for (const fs::path& path : files) {
    const std::string name = path.filename().string();
    const auto candidates = parse_probe_link_pin_name(name);
    if (candidates.empty() || name.find("_l3afd_tmp_") != std::string::npos) continue;
    UniqueFd link(bpf_obj_get(path.c_str()));
    if (!link || !fd_is(link.get(), "bpf-link")) continue;
    bpf_link_info li{};
    uint32_t len = sizeof(li);
    if (bpf_obj_get_info_by_fd(link.get(), &li, &len) != 0) continue;
    UniqueFd prog(bpf_prog_get_fd_by_id(li.prog_id));
    bpf_prog_info pi{};
    std::vector<uint32_t> map_ids;
    if (!prog || !program_info(prog.get(), pi, map_ids)) {
      spdlog::warn("op=adopt_probes key={} pin={} program {} cannot be read", spec.key,
                   path.string(), li.prog_id);
      continue;
    }
    // The pin name's function must be the linked program's (kernel names are truncated).
    const std::string prog_name = pi.name;
    auto is_prog = [&](const auto& c) {
      return c.first.substr(0, BPF_OBJ_NAME_LEN - 1) == prog_name;
    };
    auto in_object = [&](const auto& c) {
      return std::any_of(known.begin(), known.end(), [&](const ProbeSection& k) {
        return k.function == c.first && k.kind == c.second;
      });
    };
    auto pick = std::find_if(candidates.begin(), candidates.end(),
                             [&](const auto& c) { return is_prog(c) && in_object(c); });
    if (pick == candidates.end())
      pick = std::find_if(candidates.begin(), candidates.end(), is_prog);
    if (pick == candidates.end()) {
      spdlog::warn("op=adopt_probes key={} pin={} links program {}, not a probe of that name",
                   spec.key, path.string(), prog_name);
      continue;
    }
    AttachedProbe a;
    a.section.function = pick->first;
    a.section.kind = pick->second;
    for (const ProbeSection& k : known) {
      if (k.function == a.section.function && k.kind == a.section.kind)
        a.section.section = k.section;
    }
    a.prog_id = pi.id;
    a.link_id = li.id;
    a.link_pin = path;
    used_maps.insert(used_maps.end(), map_ids.begin(), map_ids.end());
    e.companion_pins.push_back(path);
    e.companion_link_ids.push_back(li.id);
    e.owned_fds.push_back(std::move(link));
    e.owned_fds.push_back(std::move(prog));
    out.probes.push_back(std::move(a));
  }
  if (out.probes.empty()) {
    return fail(Errc::NotFound, "no probe link pinned in " + spec.link_dir.string());
  }
  // State maps: every map pinned in the map directory that one of the probes uses.
  for (const auto& f : fs::directory_iterator(spec.map_pin_dir, ec)) {
    const std::string name = f.path().filename().string();
    if (name.find("_l3afd_tmp_") != std::string::npos) continue;
    UniqueFd fd(bpf_obj_get(f.path().c_str()));
    if (!fd || !fd_is(fd.get(), "bpf-map")) continue;
    bpf_map_info mi{};
    uint32_t len = sizeof(mi);
    if (bpf_obj_get_info_by_fd(fd.get(), &mi, &len) != 0) continue;
    if (std::find(used_maps.begin(), used_maps.end(), mi.id) == used_maps.end()) continue;
    e.maps[name] = MapHandle{fd.get(),       mi.type,      mi.key_size, mi.value_size,
                             mi.max_entries, mi.map_flags, false};
    e.loaded.maps.push_back(
        MapInfo{name, mi.id, mi.type, mi.key_size, mi.value_size, mi.max_entries, f.path()});
    e.owned_fds.push_back(std::move(fd));
  }
  out.maps = e.loaded.maps;
  spdlog::info("op=adopt_probes key={} probes={} maps={}", spec.key, out.probes.size(),
               out.maps.size());
  entries_.emplace(spec.key, std::move(entry));
  return out;
}

}  // namespace l3afd::kernel::libbpf
