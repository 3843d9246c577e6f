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
  R operator()(const LoadObject& a) {
    const Package* package = output_at(outputs, a.package);
    if (package == nullptr) {
      return fail(Errc::Internal, "load step refers to a step without a package");
    }
    kernel::LoadSpec spec = a.spec;
    spec.object_file = package->dir / a.spec.object_file;
    if (!layout::is_within(package->dir, spec.object_file)) {  // defence in depth: validated
      return fail(Errc::InvalidPayload,
                  "object_file " + a.spec.object_file.string() + " leaves the package");
    }
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
};

}  // namespace

Result<StepDone> Executor::execute(const Action& a, const std::vector<Output>& outputs) {
  return std::visit(Visitor{fx_, outputs}, a);
}

}  // namespace l3afd::engine
