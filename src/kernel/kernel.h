// The kernel port: everything the engine asks of the kernel, as one abstract class.
// Adapters: kernel/libbpf (the real kernel, libbpf + rtnetlink) and kernel/fake (a model with
// failure injection, for component tests). The engine never includes libbpf headers.
//
// Objects are named by a `key` the engine chooses (unique per loaded instance, e.g.
// "eth0/xdpingress/ratelimiting/1_0"). The adapter owns every kernel handle (object fds,
// link fds) for as long as the key is loaded, so maps and prog arrays are never emptied
// under a running program.
//
// Thread-safety: not thread-safe. Only the engine thread calls it (DESIGN.md §5), except
// the readers of map_reader(), which read from the metrics thread without adapter state, and
// program_run_stats(), which adapters make safe to call from the metrics thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/result.h"
#include "core/unique_fd.h"
#include "model/hook.h"
#include "model/l3af_types.h"

namespace l3afd::kernel {

struct InterfaceInfo {
  std::string name;
  uint32_t ifindex = 0;
  bool loopback = false;
};

/// What to load. Paths come from layout::BpffsLayout; the adapter creates missing
/// directories with mode 0750.
struct LoadSpec {
  std::string key;
  std::filesystem::path object_file;    ///< absolute path of the ELF object in the package dir
  std::string entry_function;           ///< C function name of the program to attach/chain
  model::Hook hook;                     ///< sets the entry program's type (XDP or SCHED_CLS)
  std::filesystem::path map_pin_dir;    ///< pin root: by-name maps reused/pinned here, then every
                                        ///< other map except .bss pinned here unless present
  std::filesystem::path prog_pin_path;  ///< entry program pin (replaced if present)
  /// Name of a map (the program's next-program PROG_ARRAY) that is neither pinned nor reused
  /// by name: every load gets a fresh, empty, unpinned copy (docs/chain-protocol.md §4.2); the
  /// engine pins it later. Empty = none.
  std::string private_map;
  /// Companion programs of the object (sections tracepoint/, tp/, tp_btf/, raw_tracepoint/,
  /// raw_tp/; docs/packages.md §1 "attached automatically"): they are loaded with the entry program
  /// and attached at load, sharing the object's maps, and their links are pinned in this
  /// directory as `<function>_tp` (replacing a pin of the same name), so they keep running
  /// across a daemon restart like the data-path links. Empty: attached but not pinned.
  /// iter/ programs are loaded too and run by run_iterators().
  std::filesystem::path companion_link_dir;
};

/// What to take over from bpffs instead of loading (docs/chain-protocol.md §4.8): the pins a
/// previous run of the daemon left for one program instance (or root).
struct AdoptSpec {
  std::string key;
  std::string entry_function;             ///< checked against the pinned program's name
  model::Hook hook;                       ///< checked against the pinned program's type
  std::filesystem::path map_pin_dir;      ///< its maps (those the program uses) are taken over
  std::filesystem::path prog_pin_path;    ///< the entry program
  std::string private_map;                ///< the next array's name ("" = none) ...
  std::filesystem::path private_map_pin;  ///< ... and its pin (MapNamePath)
  /// Companion links (`*_tp`) pinned here are taken over too (unload removes them).
  std::filesystem::path companion_link_dir;
};

struct MapInfo {
  std::string name;
  uint32_t id = 0;
  uint32_t type = 0;  ///< kernel enum bpf_map_type
  uint32_t key_size = 0;
  uint32_t value_size = 0;
  uint32_t max_entries = 0;
  std::filesystem::path pin;  ///< where it is pinned (empty if not)
  bool operator==(const MapInfo&) const = default;
};

struct LoadedObject {
  uint32_t prog_id = 0;  ///< kernel id of the entry program
  std::vector<MapInfo> maps;
  /// Pins that load() created (those that already existed are not listed). discard() removes
  /// exactly these.
  std::vector<std::filesystem::path> pins_created;
};

enum class TcMode { Auto, Tcx, Classic };
enum class AttachMode { XdpNative, XdpGeneric, Tcx, TcClassic };
const char* attach_mode_name(AttachMode m) noexcept;

struct AttachSpec {
  std::string key;  ///< a loaded object; its entry program is attached
  std::string iface;
  model::Hook hook;
  std::filesystem::path link_pin_path;  ///< where the link is pinned (XDP, TCX); unused for classic
  TcMode tc_mode = TcMode::Auto;        ///< Auto: TCX when the kernel has it, classic otherwise
  /// If set and a link is pinned there (or our classic filter exists on the hook), the attached
  /// program is replaced atomically (BPF_LINK_UPDATE / filter replace) instead of attaching anew,
  /// and the link pin moves to link_pin_path. Used to restore after a crash and to upgrade a
  /// program without a gap (docs/chain-protocol.md §4.10).
  std::optional<std::filesystem::path> replace_link_pin;
};

struct AttachInfo {
  AttachMode mode = AttachMode::XdpNative;
  uint32_t link_id = 0;  ///< 0 for classic TC
  uint32_t ifindex = 0;
  /// True when an existing attachment (replace_link_pin) was switched to this program; the
  /// previous program's key no longer owns an attachment.
  bool replaced = false;
  bool operator==(const AttachInfo&) const = default;
};

/// A program a package binary loads itself (`object_file` empty, docs/chain-protocol.md §4.6):
/// the binary got `--map-name=<staging_pin>`, writes its program into slot 0 of that staging
/// array and pins its own next array at `next_array_pin` (MapNamePath). The daemon then takes
/// the instance over like adopt() and pins the program at `prog_pin_path`, so that from then on
/// it is an instance like any other (chain writes, unload, adoption after a restart).
struct SelfLoadedSpec {
  std::string key;
  model::Hook hook;                      ///< the program's type must match the hook
  std::filesystem::path staging_pin;     ///< the staging PROG_ARRAY (create_staging())
  std::string private_map;               ///< map_name: the binary's next array ...
  std::filesystem::path next_array_pin;  ///< ... pinned by the binary at MapNamePath
  std::filesystem::path map_pin_dir;     ///< the binary's maps (those its program uses)
  std::filesystem::path prog_pin_path;   ///< where the daemon pins the program
  /// How long to wait for the next-array pin, then (again) for the staging slot, polling
  /// (l3afd v2.1.0: 10 x 1 s each, docs/compatibility.md §11.1).
  std::chrono::milliseconds wait{10000};
};

/// A probe program of an object in `bpf_programs.probes` (docs/packages.md §1, §7): what its
/// section name attaches it to.
enum class ProbeKind { Tracepoint, RawTracepoint, TpBtf, Uprobe, Uretprobe, Kprobe, Kretprobe };
const char* probe_kind_name(ProbeKind k) noexcept;

struct ProbeSection {
  std::string function;  ///< C function name
  std::string section;   ///< e.g. "tracepoint/sock/inet_sock_set_state", "uprobe//bin/x:f"
  ProbeKind kind = ProbeKind::Tracepoint;
  bool operator==(const ProbeSection&) const = default;
};

/// What to load for one entry of `probes`: every probe program of the object is loaded and
/// attached from its section name; maps as in LoadSpec (by-name reuse in map_pin_dir, the
/// others pinned there); each link pinned in `link_dir` as `<function>_<kind>` so probes keep
/// running across a daemon restart and can be adopted.
struct ProbeSpec {
  std::string key;
  std::filesystem::path object_file;
  std::filesystem::path map_pin_dir;
  std::filesystem::path link_dir;
};

struct AttachedProbe {
  ProbeSection section;
  uint32_t prog_id = 0;
  uint32_t link_id = 0;
  std::filesystem::path link_pin;
  bool operator==(const AttachedProbe&) const = default;
};

struct LoadedProbes {
  std::vector<AttachedProbe> probes;
  std::vector<MapInfo> maps;
  std::vector<std::filesystem::path> pins_created;  ///< as LoadedObject::pins_created
};

/// The kernel's run statistics of a program (bpf_prog_info run_cnt, run_time_ns). The kernel
/// counts only while BPF stats are enabled machine-wide (an fd from BPF_ENABLE_STATS held by
/// anyone, or sysctl kernel.bpf_stats_enabled = 1); both counters are cumulative since the
/// program was loaded and never reset, so they are counters in the Prometheus sense.
struct RunStats {
  uint64_t run_count = 0;    ///< runs counted while stats were on
  uint64_t run_time_ns = 0;  ///< time spent in those runs, ns
  bool operator==(const RunStats&) const = default;
};

/// Proof that this process holds the exclusive bpffs change lock (Kernel::lock_for_change()).
/// Move-only; destruction (or assigning over it) releases the lock. A default-constructed
/// ChangeLock holds nothing. Adapters wrap what they hold: an fd with a flock() (the lock goes
/// with the fd's close), or a release action (the fake).
class ChangeLock {
 public:
  ChangeLock() = default;
  /// Holds the lock as long as `fd` is open.
  explicit ChangeLock(UniqueFd fd) noexcept : fd_(std::move(fd)) {}
  /// Holds a lock that `on_release` gives back (called once, at destruction).
  explicit ChangeLock(std::function<void()> on_release) : on_release_(std::move(on_release)) {}
  ChangeLock(const ChangeLock&) = delete;
  ChangeLock& operator=(const ChangeLock&) = delete;
  ChangeLock(ChangeLock&& o) noexcept
      : fd_(std::move(o.fd_)), on_release_(std::exchange(o.on_release_, nullptr)) {}
  ChangeLock& operator=(ChangeLock&& o) noexcept {
    if (this != &o) {
      release();
      fd_ = std::move(o.fd_);
      on_release_ = std::exchange(o.on_release_, nullptr);
    }
    return *this;
  }
  ~ChangeLock() { release(); }

  /// True while something is held (false for "no lock configured" and after a move).
  bool held() const noexcept { return fd_.valid() || static_cast<bool>(on_release_); }

 private:
  void release() noexcept {
    fd_.reset();
    if (auto f = std::exchange(on_release_, nullptr)) f();
  }

  UniqueFd fd_;
  std::function<void()> on_release_;
};

/// Reads values of one map (Kernel::map_reader). Thread-safety: read() may run on any thread,
/// concurrently with every Kernel method.
class MapReader {
 public:
  virtual ~MapReader() = default;
  /// `key` as an unsigned integer of the map's key size; the value as an unsigned integer of
  /// the map's value size, summed over CPUs for per-CPU maps. Works for array and hash maps.
  /// Errors: NotFound (no such key), InvalidPayload (the key does not fit the key size),
  /// Kernel (errno).
  virtual Result<uint64_t> read(uint64_t key) const = 0;
};

class Kernel {
 public:
  virtual ~Kernel() = default;

  /// Takes the bpffs change lock: exclusive across processes (as libxdp flocks its bpffs
  /// directory), so two daemons, or the daemon and a tool following the same rule, never change
  /// the same pins, links and program arrays at once. The engine holds it for the duration of
  /// one plan run and drops it afterwards; it is not reentrant (a second call while the first
  /// lock is held waits like another process would). Waits up to the adapter's timeout.
  /// Errors: Timeout (another process holds it; the message names the directory), Io (the
  /// directory cannot be opened). An adapter configured without a lock directory returns a
  /// ChangeLock that holds nothing.
  virtual Result<ChangeLock> lock_for_change() = 0;

  /// Looks up an interface. NotFound if it does not exist.
  virtual Result<InterfaceInfo> interface(const std::string& name) = 0;

  /// Loads `spec.object_file`, pins maps and the entry program. Errors: NotFound (object file —
  /// with an ErrorItem whose field is "object_file" —, or entry function), Kernel (verifier, with
  /// the log tail in the message), Io (pinning, unreadable object).
  /// On failure nothing remains (no pins, no fds). Conflict if `spec.key` is already loaded.
  virtual Result<LoadedObject> load(const LoadSpec& spec) = 0;

  /// Undo of load(): closes the object's fds and removes exactly the pins load() created
  /// (and directories it created, if now empty). NotFound if `key` is not loaded.
  virtual Status discard(const std::string& key) = 0;

  /// Final removal of a program: closes fds and removes all of the object's pins (program pin,
  /// map pins of its maps, empty directories up to the layout roots) EXCEPT pins that another
  /// loaded object also uses (same path: a replacement of the same name and version shares its
  /// map pins and re-pinned the program). NotFound if not loaded.
  virtual Status unload(const std::string& key) = 0;

  /// Creates `monitor_maps` entries (value 0 at the configured key, BPF_NOEXIST) and writes
  /// `map_args` (docs/compatibility.md §12.1, "Ours"): little-endian, sized to the map; values that
  /// do not fit are InvalidPayload; unknown map is InvalidPayload; write errors are Kernel.
  /// Hash-type maps are pruned of unlisted keys; arrays are never pruned.
  /// A map whose values are (or may carry) file descriptors — PROG_ARRAY, PERF_EVENT_ARRAY,
  /// CGROUP_ARRAY, ARRAY_OF_MAPS, HASH_OF_MAPS, SOCKMAP, SOCKHASH, XSKMAP, DEVMAP, DEVMAP_HASH,
  /// CPUMAP — is refused in map_args with InvalidPayload and an ErrorItem whose field is
  /// "map_args": a client could otherwise splice any object the daemon holds an fd of into its
  /// program. Every entry is validated before anything is written; a refusal writes nothing.
  /// Such maps named in monitor_maps are skipped (logged).
  virtual Status configure_maps(const std::string& key, const std::vector<model::MapArg>& map_args,
                                const std::vector<model::MonitorMap>& monitor_maps) = 0;

  /// Attaches the entry program of a loaded object (see AttachSpec). XDP: native link, generic
  /// if native is refused. TC: TCX link or clsact + direct-action bpf filter.
  virtual Result<AttachInfo> attach(const AttachSpec& spec) = 0;

  /// Detaches what attach() made for `key` and removes its link pin; a classic filter is
  /// deleted by its exact handle and priority. NotFound if `key` is not attached.
  virtual Status detach(const std::string& key) = 0;

  /// A reader of map `map_name` of loaded object `key` (monitor_maps, docs/metrics.md). It
  /// holds its own reference to the map (the libbpf adapter: a dup of the map fd), so reading
  /// takes no adapter lock and does no lookup by name or id, and it stays valid after the object
  /// is unloaded (it then reads the map as the last holder left it). Errors: NotFound (no such
  /// key or map), InvalidPayload (unsupported key/value sizes), Kernel.
  virtual Result<std::shared_ptr<const MapReader>> map_reader(const std::string& key,
                                                              const std::string& map_name) = 0;

  /// One read through a fresh map_reader() (tests and one-off reads; samplers keep readers).
  Result<uint64_t> read_map_value(const std::string& key, const std::string& map_name,
                                  uint64_t map_key) {
    auto r = map_reader(key, map_name);
    if (!r) return fail(std::move(r.error()));
    return (*r)->read(map_key);
  }

  /// True if a program with this id is loaded in the kernel.
  virtual bool program_exists(uint32_t prog_id) = 0;

  /// Writes the entry program of loaded object `target_key` into slot 0 of the PROG_ARRAY
  /// `array_map` of loaded object `owner_key`, or deletes slot 0 when `target_key` is nullopt
  /// (deleting an empty slot succeeds). Errors: NotFound (either key, or the map), InvalidPayload
  /// (the map is not a PROG_ARRAY), Kernel with errno (EINVAL: incompatible program types, K8).
  virtual Status write_slot(const std::string& owner_key, const std::string& array_map,
                            const std::optional<std::string>& target_key) = 0;

  /// Kernel id of the program in slot 0 of PROG_ARRAY `array_map` of loaded object `owner_key`
  /// (K9); 0 when the slot is empty. Errors as write_slot().
  virtual Result<uint32_t> read_slot(const std::string& owner_key,
                                     const std::string& array_map) = 0;

  /// Pins map `map_name` of loaded object `key` at `path`, atomically replacing whatever is
  /// pinned there (temporary pin in the same directory, then rename(2), K11), and records the
  /// pin as the map's own: unload() removes it while it still names this map. Used for the
  /// private next-program array once its instance is live, so MapNamePath always names the
  /// live array (docs/chain-protocol.md §4.2). Errors: NotFound (key or map), Io.
  virtual Status pin_map(const std::string& key, const std::string& map_name,
                         const std::filesystem::path& path) = 0;

  /// Takes over a program instance from its pins instead of loading it: opens the entry
  /// program, every map pinned in map_pin_dir that the program uses, and the private next
  /// array, and keeps them under `spec.key` like a loaded object (every other operation works
  /// on it; discard() closes it without removing any pin). Nothing in the kernel or bpffs
  /// changes. Errors: NotFound (a pin is missing), Conflict (the pinned program's type or name
  /// does not match, or it does not use the pinned next array / a map: the pins are not a
  /// consistent instance), Conflict if `spec.key` is already loaded.
  virtual Result<LoadedObject> adopt(const AdoptSpec& spec) = 0;

  /// Runs every iter/ program of loaded object `key` once (create the iterator, read it to
  /// the end), e.g. to seed state maps from the kernel's current sockets (docs/packages.md §4).
  /// Idempotent for well-behaved programs; nothing to undo. No-op for an object without
  /// iterators or an adopted key. Errors: NotFound (key), Kernel.
  virtual Status run_iterators(const std::string& key) = 0;

  /// State carry-over across versions (docs/chain-protocol.md §4.2, "MAY"): copies every entry of
  /// each map of `from_key` into the map of the same name of `to_key` when both have the same
  /// definition (type, key and value size, max_entries, flags) and the target map was created
  /// by to_key's load (a map that already existed keeps its own state). Only hash, array and
  /// their per-CPU/LRU variants are carried; program arrays and internal maps never are.
  /// Returns one line per map of `from_key` that was not carried, saying why (for the log).
  /// Errors: NotFound (either key), Kernel (a read or write failed; the target may be partly
  /// written, which only matters to the caller's rollback of to_key, which discards it).
  virtual Result<std::vector<std::string>> carry_maps(const std::string& from_key,
                                                      const std::string& to_key) = 0;

  /// Removes the pin pin_map() made for `map_name` of `key`, if the path still names that map
  /// (another instance may have been pinned over it since); forgets it either way.
  /// Errors: NotFound (key or map), Io.
  virtual Status unpin_map(const std::string& key, const std::string& map_name) = 0;

  // --- Programs a package binary loads itself (docs/chain-protocol.md §4.6) ---

  /// Creates a fresh, empty 1-slot PROG_ARRAY (4-byte key and value) and pins it at `pin`
  /// (directories created 0750). Conflict if something is pinned there already. The adapter
  /// keeps no fd: the pin holds the array until remove_staging().
  virtual Status create_staging(const std::filesystem::path& pin) = 0;

  /// Removes a staging pin made by create_staging(); absent is not an error.
  virtual Status remove_staging(const std::filesystem::path& pin) = 0;

  /// Waits (spec.wait for each) for the binary to pin its next array and to write its program
  /// into the staging slot, then takes the instance over under `spec.key` (fds on the program,
  /// the maps of map_pin_dir it uses, and its next array) and pins the program at
  /// prog_pin_path. pins_created lists the program pin, the next array pin and the map pins of
  /// the program's maps, so discard() (the rollback) leaves no pin of the instance behind and
  /// unload() removes them like a loaded instance's. Errors: Timeout (naming what did not
  /// appear), Conflict (program type does not match the hook, or the program does not use the
  /// pinned next array), Conflict if `spec.key` is already loaded.
  virtual Result<LoadedObject> take_self_loaded(const SelfLoadedSpec& spec) = 0;

  // --- Probes (bpf_programs.probes, docs/packages.md §1, §7) ---

  /// The probe programs of an object, from its section names, without loading anything.
  /// Errors: InvalidPayload with an ErrorItem whose field is "object_file" when the object
  /// cannot be read, holds no probe program, or holds one this kernel cannot attach (kprobe /
  /// kretprobe without kprobe support: the message says so and names the section).
  virtual Result<std::vector<ProbeSection>> probe_sections(
      const std::filesystem::path& object_file) = 0;

  /// Loads the object and attaches every probe program (see ProbeSpec); on failure nothing
  /// remains (no pins, fds or links). The key then works with discard() (undo: detaches and
  /// removes exactly pins_created), unload() (final: detaches and removes the link pins and the
  /// map pins it owns) and map_reader(). Errors: InvalidPayload (as probe_sections), Kernel
  /// (verifier, attach, with the reason), Io, Conflict (key already loaded).
  virtual Result<LoadedProbes> load_probes(const ProbeSpec& spec) = 0;

  /// Takes over the probe links a previous run pinned in spec.link_dir, and the maps of
  /// spec.map_pin_dir, under spec.key, without changing the kernel. Errors: NotFound (no link
  /// pinned there), Conflict (key already loaded).
  virtual Result<LoadedProbes> adopt_probes(const ProbeSpec& spec) = 0;

  // --- Health (docs/compatibility.md §15) ---

  /// True while `key` is loaded (load(), adopt(), take_self_loaded() or load_probes()) and its
  /// programs are still the kernel programs recorded for it: the entry program the adapter
  /// holds has the id LoadedObject::prog_id reported and that id resolves; for a probe key,
  /// every attached probe's link still resolves. False for a key that is not loaded. Changes
  /// nothing; cheap enough to be asked for every program at every poll interval.
  /// (While an adapter holds an fd on a program the kernel keeps it, so a real kernel answers
  /// false only for a key the adapter no longer holds; the fake can be told to answer false.)
  virtual bool program_loaded(const std::string& key) = 0;

  // --- Run statistics (issue 10) ---

  /// The kernel's run statistics of loaded (or adopted) key `key`: of its entry program for a
  /// data-path object (companion tracepoint programs are not included), and the SUM over its
  /// probe programs for a probe key (load_probes()/adopt_probes()). Cumulative since the
  /// program(s) were loaded; they grow only while BPF stats are enabled. Safe from any thread,
  /// under the adapter's mutex (not a MapReader). Errors: NotFound (key not loaded), Kernel (the
  /// info call failed).
  virtual Result<RunStats> program_run_stats(const std::string& key) = 0;
};

}  // namespace l3afd::kernel
