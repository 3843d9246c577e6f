// Test doubles for the engine's non-kernel ports, sharing the fake kernel's Injector so that a
// package fetch or a state save is an injectable step like any kernel call.
#pragma once

#include <map>
#include <set>

#include "engine/ports.h"
#include "kernel/fake/injector.h"

namespace l3afd::testing {

class FakePackages final : public engine::PackageSource {
 public:
  explicit FakePackages(kernel::fake::Injector& inj) : inj_(inj) {}
  Result<engine::Package> fetch(const engine::PackageRef& r) override {
    if (r.repo_url.find("unreachable") != std::string::npos) {
      return fail(Errc::Unavailable, "cannot reach " + r.repo_url);
    }
    if (auto s = inj_.hit("fetch " + r.name); !s) return fail(std::move(s.error()));
    const std::string k = r.name + "@" + r.version;
    bool fresh = cache_.insert(k).second;
    return engine::Package{"/cache/" + r.name + "/" + r.version + "/pkg", fresh};
  }
  Status remove(const engine::PackageRef& r) override {
    if (auto s = inj_.hit("remove package " + r.name); !s) return s;
    cache_.erase(r.name + "@" + r.version);
    return ok();
  }
  bool still_cached(const engine::PackageRef& r, const engine::Package&) override {
    return cache_.contains(r.name + "@" + r.version);
  }
  const std::set<std::string>& cache() const { return cache_; }

 private:
  kernel::fake::Injector& inj_;
  std::set<std::string> cache_;
};

}  // namespace l3afd::testing
