// Adapts artifact::RepositorySource (the repository adapter) to the engine's PackageSource port.
//
// Thread-safety: fetch() and remove() may be called from several threads at once (the engine
// thread, and API threads fetching ahead of their request, engine/prefetch.h). Calls for the
// same name and version are serialised here, because RepositorySource does not allow a fetch
// and a remove of one package to overlap, and `fresh` must be decided atomically with the
// fetch that creates the entry; different packages proceed in parallel.
#pragma once

#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>

#include "artifact/artifact.h"
#include "engine/ports.h"

namespace l3afd::daemon {

class PackageBridge final : public engine::PackageSource {
 public:
  explicit PackageBridge(artifact::RepositorySource& src) : src_(src) {}

  /// `fresh` (the cache entry is this call's to remove on rollback) is true only when the
  /// package directory did not exist before: a re-fetched "latest" replaces an entry that
  /// existed, and rolling back must not delete it.
  Result<engine::Package> fetch(const engine::PackageRef& r) override {
    std::lock_guard hold(lock_of(r));
    bool existed = false;
    if (auto stem = artifact::artifact_stem(r.artifact)) {
      std::error_code ec;
      existed = std::filesystem::exists(src_.options().cache_root / r.name / r.version / *stem, ec);
    }
    auto p = src_.fetch(artifact::ArtifactRef{r.repo_url, r.name, r.version, r.artifact});
    if (!p) return fail(std::move(p.error()));
    return engine::Package{p->package_dir, !existed};
  }
  Status remove(const engine::PackageRef& r) override {
    std::lock_guard hold(lock_of(r));
    return src_.remove(artifact::ArtifactRef{r.repo_url, r.name, r.version, r.artifact});
  }

 private:
  /// The mutex of one cache entry (name, version); entries are never erased (one small mutex
  /// per package version ever fetched).
  std::mutex& lock_of(const engine::PackageRef& r) {
    std::lock_guard hold(table_mu_);
    auto& m = locks_[{r.name, r.version}];
    if (!m) m = std::make_unique<std::mutex>();
    return *m;
  }

  artifact::RepositorySource& src_;
  std::mutex table_mu_;
  std::map<std::pair<std::string, std::string>, std::unique_ptr<std::mutex>> locks_;
};

}  // namespace l3afd::daemon
