// Ports the engine uses besides the kernel (kernel/kernel.h): package fetching and the state
// store. Adapters: artifact/ (bridged in daemon/), store/. Tests use in-memory fakes.
// Thread-safety: StateStore is called only from the engine thread; PackageSource also from
// the threads that fetch ahead of a request (engine/prefetch.h), so adapters must allow
// concurrent calls.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "core/result.h"
#include "model/l3af_types.h"

namespace l3afd::engine {

/// Where a package comes from (l3af-compat.md §9.1).
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

}  // namespace l3afd::engine
