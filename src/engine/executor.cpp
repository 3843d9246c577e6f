#include "engine/executor.h"

#include <filesystem>

#include <spdlog/spdlog.h>
#include <type_traits>

#include "layout/bpffs_layout.h"

namespace l3afd::engine {

namespace {

struct Visitor {
  Effects& fx;
  const std::vector<Output>& outputs;
  using R = Result<StepDone>;

  R operator()(const FetchPackage& a) {
    auto p = fx.packages.fetch(a.ref);
    if (!p) return fail(std::move(p.error()));
    StepDone d{*p, {}};
    if (p->fresh) d.undo.push_back(RemovePackage{a.ref});
    return d;
  }
  R operator()(const RemovePackage& a) {
    if (auto s = fx.packages.remove(a.ref); !s) return fail(std::move(s.error()));
    return StepDone{};
  }
  /// The object file `rel` inside the package fetched by step `ref`.
  Result<std::filesystem::path> object_in_package(StepRef<Package> ref,
                                                  const std::filesystem::path& rel) {
    const Package* package = output_at(outputs, ref);
    if (package == nullptr) {
      return fail(Errc::Internal, "load step refers to a step without a package");
    }
    auto path = package->dir / rel;
    if (!layout::is_within(package->dir, path)) {  // defence in depth: validated
      return fail(Errc::InvalidPayload, "object_file " + rel.string() + " leaves the package");
    }
    return path;
  }
  R operator()(const LoadObject& a) {
    kernel::LoadSpec spec = a.spec;
    auto path = object_in_package(a.package, a.spec.object_file);
    if (!path) return fail(std::move(path.error()));
    spec.object_file = *path;
    auto o = fx.kernel.load(spec);
    if (!o) return fail(std::move(o.error()));
    return StepDone{*o, {DiscardObject{a.spec.key}}};
  }
  R operator()(const DiscardObject& a) {
    if (auto s = fx.kernel.discard(a.key); !s) return fail(std::move(s.error()));
    return StepDone{};
  }
  R operator()(const UnloadObject& a) {
    if (auto s = fx.kernel.unload(a.key); !s) return fail(std::move(s.error()));
    return StepDone{};
  }
  R operator()(const ConfigureMaps& a) {
    if (auto s = fx.kernel.configure_maps(a.key, a.map_args, a.monitor_maps); !s) {
      return fail(std::move(s.error()));
    }
    StepDone d;
    if (a.previous) d.undo.push_back(ConfigureMaps{a.key, *a.previous, {}, std::nullopt});
    return d;
  }
  R operator()(const Attach& a) {
    auto info = fx.kernel.attach(a.spec);
    if (!info) return fail(std::move(info.error()));
    StepDone d{*info, {}};
    if (info->replaced && a.previous) {
      kernel::AttachSpec back = *a.previous;
      back.replace_link_pin = a.spec.link_pin_path;
      d.undo.push_back(Attach{back, std::nullopt});
    } else {
      d.undo.push_back(Detach{a.spec.key, a.spec});
    }
    return d;
  }
  R operator()(const Detach& a) {
    if (auto s = fx.kernel.detach(a.key); !s) return fail(std::move(s.error()));
    kernel::AttachSpec again = a.reattach;
    again.replace_link_pin.reset();
    return StepDone{{}, {Attach{again, std::nullopt}}};
  }
  R operator()(const WriteSlot& a) {
    if (auto s = fx.kernel.write_slot(a.owner_key, a.array_map, a.target); !s) {
      return fail(std::move(s.error()));
    }
    return StepDone{{}, {WriteSlot{a.owner_key, a.array_map, a.previous, a.target}}};
  }
  R operator()(const PinMap& a) {
    if (auto s = fx.kernel.pin_map(a.key, a.map_name, a.path); !s)
      return fail(std::move(s.error()));
    if (a.previous_key) {
      return StepDone{{}, {PinMap{*a.previous_key, a.map_name, a.path, std::nullopt}}};
    }
    return StepDone{{}, {UnpinMap{a.key, a.map_name}}};
  }
  R operator()(const UnpinMap& a) {
    if (auto s = fx.kernel.unpin_map(a.key, a.map_name); !s) return fail(std::move(s.error()));
    return StepDone{};
  }
  R operator()(const RunIterators& a) {
    if (auto s = fx.kernel.run_iterators(a.key); !s) return fail(std::move(s.error()));
    return StepDone{};
  }
  R operator()(const CarryMaps& a) {
    auto skipped = fx.kernel.carry_maps(a.from_key, a.to_key);
    if (!skipped) return fail(std::move(skipped.error()));
    for (const auto& why : *skipped) {
      spdlog::warn("state of {} not carried over to {}: {}", a.from_key, a.to_key, why);
    }
    return StepDone{};
  }
  R operator()(const CommitState& a) {
    if (auto s = fx.store.save(a.contents); !s) return fail(std::move(s.error()));
    return StepDone{};
  }

  /// The request with package_dir taken from the fetch step it refers to.
  Result<CompanionRequest> with_package(CompanionRequest r,
                                        const std::optional<StepRef<Package>>& ref) {
    if (!ref) return r;
    const Package* package = output_at(outputs, *ref);
    if (package == nullptr) {
      return fail(Errc::Internal, "companion step refers to a step without a package");
    }
    r.package_dir = package->dir;
    return r;
  }
  Result<Companions*> companions() {
    if (fx.companions == nullptr) {
      return fail(Errc::Unavailable, "companion programs are not available in this daemon");
    }
    return fx.companions;
  }
  R operator()(const CheckCompanion& a) {
    auto c = companions();
    if (!c) return fail(std::move(c.error()));
    auto r = with_package(a.request, a.package);
    if (!r) return fail(std::move(r.error()));
    if (auto s = (*c)->check(*r); !s) return fail(std::move(s.error()));
    return StepDone{};
  }
  R operator()(const StartCompanion& a) {
    auto c = companions();
    if (!c) return fail(std::move(c.error()));
    auto r = with_package(a.request, a.package);
    if (!r) return fail(std::move(r.error()));
    if (!r->program.user_program_daemon) {
      if (auto s = (*c)->run_once(*r, fx.one_shot_timeout); !s) return fail(std::move(s.error()));
      return StepDone{};
    }
    auto p = (*c)->start(*r);
    if (!p) return fail(std::move(p.error()));
    if (p->adopted && r->map_name) {
      // A self-loading binary left by the previous run will not write into this plan's
      // staging array: replace it by one that loads the program again (on the same pinned
      // maps), so the take-over that follows gets a program.
      spdlog::info(
          "companion {} of {}: the previous run's process (pid {}) is replaced by one "
          "given this plan's staging array",
          r->program.cmd_start, r->id, p->pid);
      if (auto st = (*c)->stop(*r); !st) return fail(std::move(st.error()));
      p = (*c)->start(*r);
      if (!p) return fail(std::move(p.error()));
    }
    spdlog::info("companion {} of {} {} (pid {})", r->program.cmd_start, r->id,
                 p->adopted ? "adopted from the previous run" : "started", p->pid);
    return StepDone{{}, {StopCompanion{*r}}};
  }
  R operator()(const StopCompanion& a) {
    auto c = companions();
    if (!c) return fail(std::move(c.error()));
    if (auto s = (*c)->stop(a.request); !s) {
      // Not running (it crashed and was given up on): nothing to stop, nothing to start again
      // on rollback.
      if (s.error().code == Errc::NotFound) return StepDone{};
      return fail(std::move(s.error()));
    }
    return StepDone{{}, {StartCompanion{a.request, std::nullopt}}};
  }
  R operator()(const UpdateCompanion& a) {
    auto c = companions();
    if (!c) return fail(std::move(c.error()));
    if (auto s = (*c)->update(a.request); !s) return fail(std::move(s.error()));
    return StepDone{};
  }
  R operator()(const CreateStaging& a) {
    if (auto s = fx.kernel.create_staging(a.pin); !s) return fail(std::move(s.error()));
    return StepDone{{}, {RemoveStaging{a.pin}}};
  }
  R operator()(const RemoveStaging& a) {
    if (auto s = fx.kernel.remove_staging(a.pin); !s) return fail(std::move(s.error()));
    return StepDone{};
  }
  R operator()(const LoadProbes& a) {
    kernel::ProbeSpec spec = a.spec;
    auto path = object_in_package(a.package, a.spec.object_file);
    if (!path) return fail(std::move(path.error()));
    spec.object_file = *path;
    auto o = fx.kernel.load_probes(spec);
    if (!o) return fail(std::move(o.error()));
    return StepDone{*o, {DiscardObject{a.spec.key}}};
  }
  R operator()(const TakeSelfLoaded& a) {
    auto o = fx.kernel.take_self_loaded(a.spec);
    if (!o) return fail(std::move(o.error()));
    return StepDone{*o, {DiscardObject{a.spec.key}}};
  }
};

}  // namespace

Result<StepDone> Executor::execute(const Action& a, const std::vector<Output>& outputs) {
  return std::visit(Visitor{fx_, outputs}, a);
}

}  // namespace l3afd::engine
