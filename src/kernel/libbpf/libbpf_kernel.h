// The kernel port implemented with libbpf 1.1 and rtnetlink (see README.md).
#pragma once

#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "core/unique_fd.h"
#include "kernel/kernel.h"
#include "kernel/libbpf/handles.h"

struct bpf_program;
struct bpf_map;

namespace l3afd::kernel::libbpf {

struct LibbpfKernelOptions {
  /// Attach XDP in generic (skb) mode only, never native. For hosts whose drivers misbehave in
  /// native mode, and for tests of the generic path.
  bool xdp_generic_only = false;
  /// Directory flock()ed by lock_for_change(): the bpffs root the layout uses. Empty: no lock
  /// (lock_for_change() returns a ChangeLock that holds nothing).
  std::filesystem::path lock_dir = "/sys/fs/bpf";
  /// How long lock_for_change() waits for another holder before answering Timeout.
  std::chrono::milliseconds lock_timeout = std::chrono::seconds(10);
  /// Kprobe support as probe_sections()/load_probes() see it: nullopt = detected (a kprobe PMU
  /// in /sys/bus/event_source/devices, or kprobe_events in tracefs); set = assumed (tests).
  std::optional<bool> kprobes;
};

/// The real kernel. Owns, per loaded key, the libbpf object (program and map fds) and the link
/// fd of its attachment, so nothing is released while the key is loaded. Every handle is an
/// RAII owner (handles.h, UniqueFd): forgetting a key releases its fds; destroying the adapter
/// releases every fd but never removes a pin, so pinned programs, maps and links survive the
/// daemon (docs/chain-protocol.md K10, K11).
///
/// Thread-safety: every method takes one internal mutex, so program_run_stats() may be called
/// from another thread while the engine thread mutates; the readers of map_reader() read through
/// their own fds, without it, from any thread. The other methods are meant for one thread.
class LibbpfKernel final : public Kernel {
 public:
  explicit LibbpfKernel(LibbpfKernelOptions options = {});
  ~LibbpfKernel() override = default;
  LibbpfKernel(const LibbpfKernel&) = delete;
  LibbpfKernel& operator=(const LibbpfKernel&) = delete;

  /// flock() on options.lock_dir (dir_lock.h). Takes no adapter state (not the mutex), so a
  /// wait never blocks a MapReader.
  Result<ChangeLock> lock_for_change() override;
  Result<InterfaceInfo> interface(const std::string& name) override;
  Result<LoadedObject> load(const LoadSpec& spec) override;
  Status discard(const std::string& key) override;
  Status unload(const std::string& key) override;
  Status configure_maps(const std::string& key, const std::vector<model::MapArg>& map_args,
                        const std::vector<model::MonitorMap>& monitor_maps) override;
  Result<AttachInfo> attach(const AttachSpec& spec) override;
  Status detach(const std::string& key) override;
  Result<std::shared_ptr<const MapReader>> map_reader(const std::string& key,
                                                      const std::string& map_name) override;
  bool program_exists(uint32_t prog_id) override;
  Status write_slot(const std::string& owner_key, const std::string& array_map,
                    const std::optional<std::string>& target_key) override;
  Result<uint32_t> read_slot(const std::string& owner_key, const std::string& array_map) override;
  Status pin_map(const std::string& key, const std::string& map_name,
                 const std::filesystem::path& path) override;
  Status unpin_map(const std::string& key, const std::string& map_name) override;
  Result<LoadedObject> adopt(const AdoptSpec& spec) override;
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
  /// libbpf_health.cpp: the held entry program fd's id equals the recorded prog_id and that
  /// id resolves; every companion/probe link id resolves.
  bool program_loaded(const std::string& key) override;

  /// libbpf_run_stats.cpp; under the mutex, taken by every method.
  Result<RunStats> program_run_stats(const std::string& key) override;

  /// What attach() made for a key.
  struct Attachment {
    AttachMode mode = AttachMode::XdpNative;
    uint32_t ifindex = 0;
    uint32_t link_id = 0;
    UniqueFd link;                   ///< the link's fd; invalid for classic
    std::filesystem::path link_pin;  ///< empty for classic
    uint32_t tc_parent = 0;          ///< classic only
    std::vector<std::filesystem::path> dirs_created;
  };

  /// A map of a key as every operation after load()/adopt() sees it.
  struct MapHandle {
    int fd = -1;  ///< borrowed from Entry::object (load) or Entry::owned_fds (adopt)
    uint32_t type = 0;
    uint32_t key_size = 0;
    uint32_t value_size = 0;
    uint32_t max_entries = 0;
    uint32_t flags = 0;
    bool internal = false;  ///< .rodata/.data/.bss
  };

  /// One loaded (or adopted) key. Destroying it releases every fd it owns (object first
  /// declared, so released last: the programs and maps the other members borrow stay valid).
  struct Entry {
    LoadSpec spec;
    BpfObject object;              ///< null for an adopted key
    bpf_program* entry = nullptr;  ///< borrowed from object; null for an adopted key
    LoadedObject loaded;
    /// Maps by their ELF name, captured before load: libbpf 1.1's bpf_map__reuse_fd renames a
    /// reused map to the kernel's truncated object name, so bpf_map__name() cannot be trusted.
    /// Used only inside load().
    std::map<std::string, bpf_map*> maps_by_name;
    /// Every map by its ELF (= pin) name and the entry program's fd: filled by load() and by
    /// adopt(); the only handles the other operations use.
    std::map<std::string, MapHandle> maps;
    int prog_fd = -1;                 ///< borrowed from object or owned_fds
    std::vector<UniqueFd> owned_fds;  ///< adopt(): the fds opened from pins
    /// Companion programs: links attached at load (destroyed with the key; a pinned one stays
    /// attached until its pin goes), their pins and kernel link ids (pins of adopted companions
    /// are listed too).
    std::vector<BpfLink> companion_links;
    std::vector<std::filesystem::path> companion_pins;
    std::vector<uint32_t> companion_link_ids;
    std::vector<bpf_program*> iterators;  ///< iter/ programs of a loaded object (borrowed)
    std::vector<std::filesystem::path> dirs_created;
    std::optional<Attachment> attachment;
  };

 private:
  Entry* find(const std::string& key);
  /// The fd of PROG_ARRAY `array_map` of `owner_key` (see write_slot() for the errors).
  Result<int> prog_array_fd(const std::string& owner_key, const std::string& array_map);
  Status drop_attachment(Entry& e);
  Result<AttachInfo> attach_xdp(Entry& e, const AttachSpec& spec, uint32_t ifindex);
  Result<AttachInfo> attach_tcx(Entry& e, const AttachSpec& spec, uint32_t ifindex);
  Result<AttachInfo> attach_classic(Entry& e, const AttachSpec& spec, uint32_t ifindex,
                                    bool replace);
  /// Switches the link (pinned at spec.replace_link_pin) to e's program by compare-and-swap
  /// and moves its pin to spec.link_pin_path; e then owns the attachment.
  Result<AttachInfo> replace_link(Entry& e, const AttachSpec& spec, UniqueFd link);
  /// The key whose attachment is link `link_id`, if any.
  const Entry* owner_of_link(uint32_t link_id) const;
  /// Compare-and-swap of link `link_fd` (id `link_id`) to e's program. Expected program: the
  /// one of the key that owns the link (Conflict if it changed), else the one the link runs
  /// when inspected (re-inspected up to 3 times if another tool swaps it meanwhile).
  Status swap_program(const Entry& e, int link_fd, uint32_t link_id);
  Result<bool> tcx_supported(uint32_t ifindex);
  /// Forgets the attachment record of any other key that owns the same link or filter.
  void release_previous_owner(const Entry& self, const Attachment& a);

  LibbpfKernelOptions options_;
  std::mutex mutex_;
  std::map<std::string, std::unique_ptr<Entry>> entries_;
  std::optional<bool> tcx_supported_;
};

}  // namespace l3afd::kernel::libbpf
