// FakeKernel: a model of the parts of the kernel the engine uses — loaded objects with their
// maps, one attachment per (interface, hook), and bpffs pins — with failure injection.
//
// What a green component test with it proves: the engine's plans, undo actions and store
// writes leave the *model* exactly as before when any step fails, and reach the requested
// model when none does. It does NOT prove that the real kernel behaves like the model
// (verifier, link semantics, pin reuse): the kernel tests in tests/kernel/ cover that.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "kernel/fake/injector.h"
#include "kernel/kernel.h"
#include "kernel/probe_sections.h"

namespace l3afd::kernel::fake {

/// What the fake knows about an object file (by file name): its entry function and maps.
struct ObjectDef {
  std::string entry_function;
  std::vector<MapInfo> maps;  ///< name, type, key/value sizes; ids are assigned at load
  /// Every program of the object by section (the entry one may be left out): probe_sections()
  /// classifies them with the real adapter's rules (kernel/probe_sections.h).
  std::vector<ObjectProgram> programs;
};

/// What a package binary started with `--map-name=<staging_pin>` does, as the fake models it
/// (FakeKernel::simulate_self_load(), fake_self_loaded.cpp).
struct SelfLoad {
  std::filesystem::path staging_pin;     ///< the array it was given (must exist)
  std::filesystem::path next_array_pin;  ///< where it pins its next array; empty: it does not
  std::string next_array = "next";       ///< the next array's map name
  std::filesystem::path map_pin_dir;     ///< where it pins `maps`
  std::vector<MapInfo> maps;             ///< its state maps (ids assigned by the fake)
  bool tc = false;                       ///< program type: SCHED_CLS if true, XDP otherwise
  bool write_slot = true;                ///< false: it never writes the staging slot
  bool uses_next_array = true;           ///< false: its program does not use that array
};

class FakeKernel final : public Kernel {
 public:
  explicit FakeKernel(Injector& inj) : inj_(inj) {}

  void add_interface(std::string name, uint32_t ifindex, bool loopback = false);
  /// Models `ip link del`: the interface is gone and the kernel has detached whatever was
  /// attached to it; the link pins stay (defunct links: a replace_link_pin naming one attaches
  /// anew, as the real adapter does). add_interface() with another ifindex re-creates it. Not a
  /// mutating call of the daemon (no Injector hit). False if there was no such interface.
  bool remove_interface(const std::string& name);
  void define_object(std::string file_name, ObjectDef def);
  /// Whether the modelled kernel can attach kprobes (default: yes). Without, probe_sections()
  /// and load_probes() refuse kprobe/kretprobe sections as the real adapter does.
  void set_kprobe_support(bool supported) { kprobes_ = supported; }
  /// What program_run_stats(key) answers while `key` is loaded (a value or an error); a
  /// loaded key without a script answers {0, 0}. Scripts outlive unload/reload of the key.
  void set_run_stats(const std::string& key, Result<RunStats> answer);
  /// Models the death of the daemon holding `key`: the key is forgotten (its fds closed) but
  /// every pin stays, so pinned probe links keep running and adopt_probes() can take them over.
  void forget(const std::string& key);

  /// The observable model: compared before/after a failed operation.
  struct Model {
    std::map<std::string, std::vector<std::string>> objects;           ///< key -> its pins
    std::map<std::string, std::string> attachments;                    ///< "iface/dir" -> key
    std::set<std::string> pins;                                        ///< bpffs
    std::map<std::string, std::map<uint64_t, uint64_t>> map_contents;  ///< "pin" -> entries
    std::map<std::string, std::string> slots;     ///< "owner_key/map" -> key in its slot 0
    std::map<std::string, std::string> map_pins;  ///< pin_map() path -> "key/map" it names
    bool operator==(const Model&) const = default;
  };
  Model model() const;
  std::size_t live_programs() const { return objects_.size(); }

  /// Plays the package binary of a self-loading program (docs/chain-protocol.md §4.6): pins its
  /// maps and next array and writes its program into the staging slot, as `s` says. It is the
  /// binary's doing, not the daemon's: not a mutating call (no Injector hit). Returns the
  /// program's id. Errors: NotFound (no staging array at s.staging_pin).
  Result<uint32_t> simulate_self_load(const SelfLoad& s);

  /// Change-lock bookkeeping, so tests can assert that a plan ran under the lock.
  /// How many times lock_for_change() succeeded.
  int lock_acquisitions() const { return lock_acquisitions_; }
  /// True while a ChangeLock from lock_for_change() is alive.
  bool lock_held() const { return lock_held_; }
  /// Every mutating call (as logged by the Injector) made while no change lock was held.
  const std::vector<std::string>& unlocked_changes() const { return unlocked_changes_; }

  /// Models the flock: exclusive (a second call while a lock is alive answers Timeout, as the
  /// real adapter does after its timeout); counted as a mutating call, so the Injector can fail
  /// it. The returned lock must not outlive the fake.
  Result<ChangeLock> lock_for_change() override;
  Result<InterfaceInfo> interface(const std::string& name) override;
  Result<LoadedObject> load(const LoadSpec& spec) override;
  Status discard(const std::string& key) override;
  Status unload(const std::string& key) override;
  Status configure_maps(const std::string& key, const std::vector<model::MapArg>& map_args,
                        const std::vector<model::MonitorMap>& monitor_maps) override;
  Result<AttachInfo> attach(const AttachSpec& spec) override;
  Status detach(const std::string& key) override;
  /// Readers see the fake's map contents by pin at each read; they must not outlive the fake.
  Result<std::shared_ptr<const MapReader>> map_reader(const std::string& key,
                                                      const std::string& map_name) override;
  bool program_exists(uint32_t prog_id) override;
  /// Models the kernel's rule: the target's program type must match the owner's (EINVAL).
  Status write_slot(const std::string& owner_key, const std::string& array_map,
                    const std::optional<std::string>& target_key) override;
  Result<uint32_t> read_slot(const std::string& owner_key, const std::string& array_map) override;
  Status pin_map(const std::string& key, const std::string& map_name,
                 const std::filesystem::path& path) override;
  Status unpin_map(const std::string& key, const std::string& map_name) override;
  /// Not modelled: always NotFound, so the engine takes its rebuild path (the kernel and e2e
  /// tests cover adoption).
  Result<LoadedObject> adopt(const AdoptSpec& spec) override;
  /// Probes (fake_probes.cpp): sections from ObjectDef::programs; a probe key's pins (model()
  /// objects) are its link pins then its map pins; load and adopt are injectable (adopt is not
  /// listed as an unlocked change: it changes nothing).
  Status run_iterators(const std::string& key) override;
  Status create_staging(const std::filesystem::path& pin) override;
  Status remove_staging(const std::filesystem::path& pin) override;
  Result<LoadedObject> take_self_loaded(const SelfLoadedSpec& spec) override;
  Result<std::vector<ProbeSection>> probe_sections(
      const std::filesystem::path& object_file) override;
  Result<LoadedProbes> load_probes(const ProbeSpec& spec) override;
  Result<LoadedProbes> adopt_probes(const ProbeSpec& spec) override;
  Result<std::vector<std::string>> carry_maps(const std::string& from_key,
                                              const std::string& to_key) override;
  /// The set_run_stats() script of a loaded key; NotFound if `key` is not loaded. Not a
  /// mutating call (no Injector hit).
  Result<RunStats> program_run_stats(const std::string& key) override;

  // --- Health (fake_health.cpp) ---
  /// False for an unknown key and for a key lose_program() was called for.
  bool program_loaded(const std::string& key) override;
  /// Failure injection for the health check: the kernel no longer has the programs of `key`
  /// (as if it had freed them: an adopted program whose pins were removed, say).
  /// program_loaded(key) and program_exists() of its ids answer false from then on; its pins,
  /// maps, slots and attachment stay in the model, so the engine must replace the instance. A
  /// new object loaded under the key later is loaded again. Not a mutating call of the daemon
  /// (no Injector hit). False if `key` is not loaded.
  bool lose_program(const std::string& key);

 private:
  struct Obj {
    uint32_t prog_id = 0;
    std::filesystem::path prog_pin;
    std::vector<std::string> map_pins;  ///< pins of its maps
    std::vector<std::filesystem::path> created;
    std::vector<MapInfo> maps;
    bool tc = false;                    ///< program type: SCHED_CLS if true, XDP otherwise
    std::vector<AttachedProbe> probes;  ///< a probe key's links (prog_pin empty then)
    bool lost = false;                  ///< lose_program(): the kernel freed its programs
  };
  struct Att {
    std::string key;
    std::filesystem::path link_pin;
    uint32_t link_id = 0;
  };
  static std::string hook_key(const std::string& iface, model::Hook h);
  /// Injector::hit() plus the lock bookkeeping: every mutating call goes through it.
  Status hit(const std::string& op);
  bool pin_in_use_by_other(const std::string& pin, const std::string& key) const;
  /// The slot key of PROG_ARRAY `array_map` of `owner_key` (see write_slot() for the errors).
  Result<std::string> slot_key(const std::string& owner_key, const std::string& array_map) const;
  void drop_slots_of(const std::string& key);
  /// Removes the pin_map() pins that still name a map of `key`, unless another object pinned
  /// over them.
  void drop_map_pins_of(const std::string& key);
  /// Removes a pin and what the model records for it (contents, probe link or map).
  void erase_pin(const std::string& pin);

  Injector& inj_;
  std::map<std::string, InterfaceInfo> ifaces_;
  std::map<std::string, ObjectDef> defs_;
  std::map<std::string, Obj> objects_;
  std::map<std::string, Att> attached_;  ///< hook_key -> attachment
  std::set<std::string> pins_;
  std::map<std::string, std::map<uint64_t, uint64_t>> maps_;  ///< map pin -> contents
  std::map<std::string, std::string> slots_;                  ///< "owner_key/map" -> target key
  std::map<std::string, std::string> map_pins_;               ///< pin_map() path -> "key/map"
  bool kprobes_ = true;
  /// Probe links and maps of probe keys by pin, while pinned (what adopt_probes() finds).
  std::map<std::string, AttachedProbe> probe_links_;
  std::map<std::string, MapInfo> probe_maps_;
  /// Programs binaries loaded themselves and not yet taken over, by staging pin
  /// (fake_self_loaded.cpp); prog_id is 0 while the binary has not written the slot.
  struct SelfLoaded {
    SelfLoad how;
    uint32_t prog_id = 0;
    std::vector<MapInfo> maps;  ///< with ids and pins, the next array included
  };
  std::map<std::string, SelfLoaded> self_loaded_;
  std::map<std::string, Result<RunStats>> run_stats_;  ///< set_run_stats() scripts by key
  uint32_t next_id_ = 100;
  int lock_acquisitions_ = 0;
  bool lock_held_ = false;
  std::vector<std::string> unlocked_changes_;
};

}  // namespace l3afd::kernel::fake
