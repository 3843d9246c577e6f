// Fetching packages before a request takes the engine (issue 8: "slow repositories do not
// stall the daemon"). All writes run on the one engine thread; a package download on that
// thread would block every write on every interface for up to http-client-timeout. So the
// packages an add/update needs are fetched (downloaded, verified, extracted into the cache)
// on the submitting thread, concurrently, before the command is queued, and the engine's
// FetchPackage steps take those results instead of touching the network.
#pragma once

#include <cstddef>
#include <map>
#include <mutex>
#include <vector>

#include "engine/planner.h"
#include "engine/ports.h"

namespace l3afd::engine {

/// Strict weak order of PackageRef (all four fields), for maps keyed by package.
struct PackageRefLess {
  bool operator()(const PackageRef& a, const PackageRef& b) const;
};

/// Results of fetching ahead, per package.
using PrefetchResults = std::map<PackageRef, Result<Package>, PackageRefLess>;

/// The packages an add or update request will fetch: every enabled program's package and, with
/// chaining, the root package of each hook that gets a program. Duplicates removed. Pure.
std::vector<PackageRef> packages_of(const std::vector<model::L3afBpfPrograms>& entries,
                                    const PlannerConfig& cfg);

/// Fetches `refs` from `source`, at most `parallel` at a time, each on a thread of its own,
/// and returns every result (errors included: the engine reports them at the step that needs
/// the package, with the step's label and field). `source` must be safe for concurrent
/// fetches of different refs. Blocks the caller until all fetches end.
PrefetchResults prefetch(PackageSource& source, const std::vector<PackageRef>& refs,
                         std::size_t parallel = 4);

/// The engine's PackageSource: a decorator that answers fetch() from the results installed
/// for the command being executed, and passes everything else to the real source.
/// Thread-safety: install/fetch/remove/take_unused are called on the engine thread only.
class PrefetchingSource final : public PackageSource {
 public:
  explicit PrefetchingSource(PackageSource& inner) : inner_(inner) {}

  /// Makes `results` the answers for the next fetches (replacing what was installed).
  void install(PrefetchResults results);
  /// Forgets what was installed and returns the fresh cache entries (Package::fresh) that no
  /// fetch took: the caller removes those no program uses, so a request that failed before
  /// its plan ran leaves no package behind.
  std::vector<PackageRef> take_unused();

  /// An installed result for `ref` if there is one — and, for a success, while the real source
  /// still has it cached (PackageSource::still_cached) — else the real source.
  Result<Package> fetch(const PackageRef& ref) override;
  Status remove(const PackageRef& ref) override { return inner_.remove(ref); }

 private:
  PackageSource& inner_;
  PrefetchResults installed_;
};

}  // namespace l3afd::engine
