// Internal to the libbpf adapter: one run of LibbpfKernel::load(), split into named stages.
// LibbpfKernel::load() calls the stages in the order they are declared and stops at the first
// failure; the session then rolls back in its destructor (pins it created removed, directories
// it created removed if empty, every fd released), so a failed load leaves nothing.
//
// Thread-safety: none; the adapter's mutex is held for the whole session.
#pragma once

#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/result.h"
#include "kernel/libbpf/libbpf_kernel.h"

namespace l3afd::kernel::libbpf {

class LoadSession {
 public:
  explicit LoadSession(const LoadSpec& spec);
  /// Rolls back unless commit() was called.
  ~LoadSession();
  LoadSession(const LoadSession&) = delete;
  LoadSession& operator=(const LoadSession&) = delete;

  /// Opens the ELF object with the map directory as libbpf's pin root (by-name maps are reused
  /// or pinned there at load). A file libbpf cannot parse as a BPF ELF object is the request's
  /// fault: InvalidPayload with an ErrorItem for "object_file" and libbpf's reason in words;
  /// running out of memory or fds is Io.
  Status open_object();

  /// Creates the map directory and the program pin's directory (mode 0750); remembers the
  /// directories it created for the rollback. Errors: Io.
  Status create_directories();

  /// Finds the entry program (NotFound if the object has no such function) and decides what
  /// is loaded: the entry program typed by the hook (XDP or SCHED_CLS), companion programs and
  /// iterators; every other program keeps a type from its section but is not loaded. Attaches
  /// a verifier log buffer to the entry program.
  Status select_programs();

  /// Decides every map's pin before the load: the private next array (NotFound if the object
  /// lacks it) is never pinned nor reused; every other map except internal ones (dotted names,
  /// refused by bpffs) is pinned by name in the map directory, so libbpf reuses a map an
  /// earlier load pinned there. Remembers which pins already existed.
  Status decide_map_pins();

  /// Loads the object into the kernel (libbpf reuses or pins the by-name maps). On failure,
  /// removes the map pins libbpf may have created and answers Kernel with the verifier log's
  /// tail in the message.
  Status load_into_kernel();

  /// Reads every created map's kernel info into LoadedObject::maps and Entry::maps; pins the
  /// maps libbpf did not pin (unless a file of that name exists) and lists the pins this load
  /// created. Errors: Kernel (map info), Io (pin).
  Status collect_maps();

  /// Records the entry program's id and fd and pins it at prog_pin_path through a temporary pin
  /// renamed over the target (atomic replacement). Errors: Kernel, Io.
  Status pin_entry_program();

  /// Attaches the companion programs and pins their links in companion_link_dir (created if
  /// set). Errors: Kernel (attach), Io (pin, directory).
  Status start_companions();

  /// Ends the session successfully and hands over the loaded entry (no rollback any more).
  std::unique_ptr<LibbpfKernel::Entry> commit();

  // --- Probe loads (LibbpfKernel::load_probes(), libbpf_probes.cpp): open_object,
  // decide_map_pins, load_into_kernel and collect_maps as above, with these stages instead of
  // create_directories, select_programs, pin_entry_program and start_companions. ---

  /// The entry being built (its object is open after open_object()).
  LibbpfKernel::Entry& entry() { return *entry_; }

  /// Creates the map directory and the link directory (spec.companion_link_dir), mode 0750;
  /// remembers the directories it created for the rollback. Errors: Io.
  Status create_probe_directories();

  /// Autoloads exactly the programs of `probes` (libbpf types them from their sections), every
  /// other program off; one verifier log buffer shared by them (only a failed load writes it).
  Status select_probe_programs(const std::vector<ProbeSection>& probes);

  /// Attaches each probe (bpf_program__attach) and pins its link at
  /// `<link dir>/<function>_<kind>` (replacing a pin of that name); links, pins and ids are
  /// recorded in the entry (companion_links/_pins/_link_ids, pins_created) so the rollback,
  /// discard() and unload() handle them. Errors: Kernel (attach, with the reason), Io (pin).
  Result<std::vector<AttachedProbe>> attach_probes(const std::vector<ProbeSection>& probes);

 private:
  bool is_private(const bpf_map* m) const;
  bool is_preexisting(const std::string& pin) const;
  Status add_dirs(const std::filesystem::path& dir);

  std::unique_ptr<LibbpfKernel::Entry> entry_;
  std::vector<char> verifier_log_;
  /// ELF names captured after open: libbpf 1.1 renames a reused map (see Entry::maps_by_name).
  std::map<const bpf_map*, std::string> elf_name_;
  /// Pin paths that existed before the load (reused maps): never listed as created.
  std::vector<std::string> preexisting_;
};

}  // namespace l3afd::kernel::libbpf
