// Adapts artifact::ArtifactSource (the repository adapter) to the engine's PackageSource port.
#pragma once

#include "artifact/artifact.h"
#include "engine/ports.h"

namespace l3afd::daemon {

class PackageBridge final : public engine::PackageSource {
 public:
  explicit PackageBridge(artifact::ArtifactSource& src) : src_(src) {}
  Result<engine::Package> fetch(const engine::PackageRef& r) override {
    auto p = src_.fetch(artifact::ArtifactRef{r.repo_url, r.name, r.version, r.artifact});
    if (!p) return fail(std::move(p.error()));
    return engine::Package{p->package_dir, !p->from_cache};
  }
  Status remove(const engine::PackageRef& r) override {
    return src_.remove(artifact::ArtifactRef{r.repo_url, r.name, r.version, r.artifact});
  }

 private:
  artifact::ArtifactSource& src_;
};

}  // namespace l3afd::daemon
