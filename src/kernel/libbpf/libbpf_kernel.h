// The kernel port implemented with libbpf 1.1 and rtnetlink (see README.md).
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "core/unique_fd.h"
#include "kernel/kernel.h"

struct bpf_object;
struct bpf_program;
struct bpf_map;
struct bpf_link;

namespace l3afd::kernel::libbpf {

struct LibbpfKernelOptions {
  /// Attach XDP in generic (skb) mode only, never native. For hosts whose drivers misbehave in
  /// native mode, and for tests of the generic path.
  bool xdp_generic_only = false;
};

/// The real kernel. Owns, per loaded key, the libbpf object (program and map fds) and the link
/// fd of its attachment, so nothing is released while the key is loaded.
///
/// Thread-safety: every method takes one internal mutex, so read_map_value() may be called from
/// another thread while the engine thread mutates; the other methods are meant for one thread.
class LibbpfKernel final : public Kernel {
 public:
  explicit LibbpfKernel(LibbpfKernelOptions options = {});
  ~LibbpfKernel() override;
  LibbpfKernel(const LibbpfKernel&) = delete;
  LibbpfKernel& operator=(const LibbpfKernel&) = delete;

  Result<InterfaceInfo> interface(const std::string& name) override;
  Result<LoadedObject> load(const LoadSpec& spec) override;
  Status discard(const std::string& key) override;
  Status unload(const std::string& key) override;
  Status configure_maps(const std::string& key, const std::vector<model::MapArg>& map_args,
                        const std::vector<model::MonitorMap>& monitor_maps) override;
  Result<AttachInfo> attach(const AttachSpec& spec) override;
  Status detach(const std::string& key) override;
  Result<uint64_t> read_map_value(const std::string& key, const std::string& map_name,
                                  uint64_t map_key) override;
  bool program_exists(uint32_t prog_id) override;
  Status write_slot(const std::string& owner_key, const std::string& array_map,
                    const std::optional<std::string>& target_key) override;
  Result<uint32_t> read_slot(const std::string& owner_key, const std::string& array_map) override;
  Status pin_map(const std::string& key, const std::string& map_name,
                 const std::filesystem::path& path) override;
  Status unpin_map(const std::string& key, const std::string& map_name) override;
  Result<LoadedObject> adopt(const AdoptSpec& spec) override;
  Status run_iterators(const std::string& key) override;
  Result<std::vector<std::string>> carry_maps(const std::string& from_key,
                                              const std::string& to_key) override;

  /// What attach() made for a key.
  struct Attachment {
    AttachMode mode = AttachMode::XdpNative;
    uint32_t ifindex = 0;
    uint32_t link_id = 0;
    int link_fd = -1;                ///< owned; -1 for classic
    std::filesystem::path link_pin;  ///< empty for classic
    uint32_t tc_parent = 0;          ///< classic only
    std::vector<std::filesystem::path> dirs_created;
  };

  /// A map of a key as every operation after load()/adopt() sees it.
  struct MapHandle {
    int fd = -1;  ///< owned by the libbpf object (load) or by Entry::owned_fds (adopt)
    uint32_t type = 0;
    uint32_t key_size = 0;
    uint32_t value_size = 0;
    uint32_t max_entries = 0;
    uint32_t flags = 0;
    bool internal = false;  ///< .rodata/.data/.bss
  };

  /// One loaded (or adopted) key.
  struct Entry {
    LoadSpec spec;
    bpf_object* object = nullptr;  ///< owned; null for an adopted key
    bpf_program* entry = nullptr;  ///< null for an adopted key
    LoadedObject loaded;
    /// Maps by their ELF name, captured before load: libbpf 1.1's bpf_map__reuse_fd renames a
    /// reused map to the kernel's truncated object name, so bpf_map__name() cannot be trusted.
    /// Used only inside load().
    std::map<std::string, bpf_map*> maps_by_name;
    /// Every map by its ELF (= pin) name and the entry program's fd: filled by load() and by
    /// adopt(); the only handles the other operations use.
    std::map<std::string, MapHandle> maps;
    int prog_fd = -1;
    std::vector<UniqueFd> owned_fds;  ///< adopt(): the fds opened from pins
    /// Companion programs: links attached at load (owned; destroyed with the key), their pins
    /// and kernel link ids (pins of adopted companions are listed too).
    std::vector<bpf_link*> companion_links;
    std::vector<std::filesystem::path> companion_pins;
    std::vector<uint32_t> companion_link_ids;
    std::vector<bpf_program*> iterators;  ///< iter/ programs of a loaded object
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
  Result<AttachInfo> replace_link(Entry& e, const AttachSpec& spec, int link_fd);
  Result<bool> tcx_supported(uint32_t ifindex);
  /// Forgets the attachment record of any other key that owns the same link or filter.
  void release_previous_owner(const Entry& self, const Attachment& a);

  LibbpfKernelOptions options_;
  std::mutex mutex_;
  std::map<std::string, std::unique_ptr<Entry>> entries_;
  std::optional<bool> tcx_supported_;
};

}  // namespace l3afd::kernel::libbpf
