// Adapts artifact::RepositorySource (the repository adapter) to the engine's PackageSource port.
#pragma once

#include <filesystem>

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
    return src_.remove(artifact::ArtifactRef{r.repo_url, r.name, r.version, r.artifact});
  }

 private:
  artifact::RepositorySource& src_;
};

}  // namespace l3afd::daemon
