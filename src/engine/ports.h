// Ports the engine uses besides the kernel (kernel/kernel.h): package fetching and the state
// store. Adapters: artifact/ (bridged in daemon/), store/. Tests use in-memory fakes.
// Thread-safety: StateStore is called only from the engine thread; PackageSource also from
// the threads that fetch ahead of a request (engine/prefetch.h), so adapters must allow
// concurrent calls.
#pragma once

#include <compare>
#include <filesystem>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "core/result.h"
#include "layout/bpffs_layout.h"
#include "model/l3af_types.h"

namespace l3afd::engine {

/// Where a package comes from (docs/compatibility.md §9.1).
struct PackageRef {
  std::string repo_url;  ///< ebpf_package_repo_url, or [ebpf-repo] url when that is empty
  std::string name;
  std::string version;
  std::string artifact;
  bool operator==(const PackageRef&) const = default;
};

struct Package {
  std::filesystem::path dir;  ///< the extracted package directory (FilePath)
  bool fresh = false;         ///< true when this call created the cache entry
};

class PackageSource {
 public:
  virtual ~PackageSource() = default;
  /// Downloads (or takes from the cache) and extracts. Errors: Unavailable, Io, InvalidPayload.
  virtual Result<Package> fetch(const PackageRef& ref) = 0;
  /// Removes the cache entry of name/version.
  virtual Status remove(const PackageRef& ref) = 0;
  /// True while the cache entry a fetch() returned is still there (a concurrent rollback of
  /// another request may remove a fresh entry that a fetch ahead saw as cached).
  virtual bool still_cached(const PackageRef& ref, const Package& p) {
    (void)ref;
    std::error_code ec;
    return std::filesystem::is_directory(p.dir, ec);
  }
};

class StateStore {
 public:
  virtual ~StateStore() = default;
  /// Persists the whole state atomically (all or nothing on disk).
  virtual Status save(const std::vector<model::L3afBpfPrograms>& state) = 0;
  /// Reads the persisted state; an absent store is an empty vector.
  virtual Result<std::vector<model::L3afBpfPrograms>> load() = 0;
};

/// The bpffs footprint of one program instance (or root) on one interface: everything its
/// load and attach create lies at or under these paths (companion `*_tp` links live in the
/// directory of `paths.link_pin`).
struct OwnedInstance {
  std::string iface;
  layout::ProgramPaths paths;
  auto operator<=>(const OwnedInstance& o) const {
    return std::tie(iface, paths.map_dir, paths.prog_pin, paths.link_pin) <=>
           std::tie(o.iface, o.paths.map_dir, o.paths.prog_pin, o.paths.link_pin);
  }
  bool operator==(const OwnedInstance& o) const { return (*this <=> o) == 0; }
};

/// Port: where the record of owned instances is kept (adapter: store/ownership_journal.h; the
/// engine's use: engine/ownership.h).
/// Thread-safety: engine thread (and the daemon's start-up before the engine starts).
class OwnershipJournal {
 public:
  virtual ~OwnershipJournal() = default;
  /// Replaces the record with `owned`, atomically and durably (a crash leaves the old or the
  /// new record). Errors: Io.
  virtual Status record(const std::vector<OwnedInstance>& owned) = 0;
  /// The record; nullopt when none was ever written (a daemon that never recorded owns
  /// nothing it could prove). Errors: Io (unreadable), InvalidPayload (unparsable), with the
  /// file left untouched.
  virtual Result<std::optional<std::vector<OwnedInstance>>> load() = 0;
};

}  // namespace l3afd::engine
