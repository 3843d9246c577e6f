#include "engine/prefetch.h"

#include <algorithm>
#include <future>
#include <tuple>

#include <spdlog/spdlog.h>

#include "engine/plan_builder.h"

namespace l3afd::engine {

bool PackageRefLess::operator()(const PackageRef& a, const PackageRef& b) const {
  return std::tie(a.repo_url, a.name, a.version, a.artifact) <
         std::tie(b.repo_url, b.name, b.version, b.artifact);
}

std::vector<PackageRef> packages_of(const std::vector<model::L3afBpfPrograms>& entries,
                                    const PlannerConfig& cfg) {
  std::vector<PackageRef> out;
  auto add = [&](const PackageRef& r) {
    if (std::find(out.begin(), out.end(), r) == out.end()) out.push_back(r);
  };
  for (const auto& e : entries) {
    if (!e.bpf_programs) continue;
    for (model::Hook h : model::kAllHooks) {
      const auto& list = e.bpf_programs->of(h);
      if (!list) continue;
      bool any = false;
      for (const auto& p : *list) {
        if (p.admin_status != "enabled") continue;
        add(package_of(p, cfg.default_repo_url));
        any = true;
      }
      if (any && cfg.chaining) add(package_of(root_program(cfg.root(h), h), cfg.default_repo_url));
    }
  }
  return out;
}

PrefetchResults prefetch(PackageSource& source, const std::vector<PackageRef>& refs,
                         std::size_t parallel) {
  PrefetchResults out;
  parallel = std::max<std::size_t>(parallel, 1);
  for (std::size_t first = 0; first < refs.size(); first += parallel) {
    const std::size_t last = std::min(refs.size(), first + parallel);
    std::vector<std::future<Result<Package>>> running;
    for (std::size_t i = first; i < last; ++i) {
      running.push_back(
          std::async(std::launch::async, [&source, &ref = refs[i]] { return source.fetch(ref); }));
    }
    for (std::size_t i = first; i < last; ++i) {
      auto r = running[i - first].get();
      if (r) {
        spdlog::debug("prefetch {}@{}: {}", refs[i].name, refs[i].version,
                      r->fresh ? "fetched" : "cached");
      } else {
        spdlog::debug("prefetch {}@{} failed: {}", refs[i].name, refs[i].version,
                      r.error().to_string());
      }
      out.insert_or_assign(refs[i], std::move(r));
    }
  }
  return out;
}

void PrefetchingSource::install(PrefetchResults results) {
  installed_ = std::move(results);
}

std::vector<PackageRef> PrefetchingSource::take_unused() {
  std::vector<PackageRef> out;
  for (const auto& [ref, r] : installed_) {
    if (r && r->fresh) out.push_back(ref);
  }
  installed_.clear();
  return out;
}

Result<Package> PrefetchingSource::fetch(const PackageRef& ref) {
  auto it = installed_.find(ref);
  if (it == installed_.end()) return inner_.fetch(ref);
  Result<Package> r = std::move(it->second);
  installed_.erase(it);
  if (r && !inner_.still_cached(ref, *r)) return inner_.fetch(ref);
  return r;
}

}  // namespace l3afd::engine
