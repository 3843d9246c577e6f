#include "engine/executor.h"

#include <filesystem>

#include <spdlog/spdlog.h>
#include <type_traits>

#include "layout/bpffs_layout.h"

namespace l3afd::engine {

namespace {

/// Turns an error caused by the request (a package, object or function that does not exist)
/// into InvalidPayload naming the payload field; the engine completes the JSON pointer.
Error blame(Error e, const char* field) {
  e.code = Errc::InvalidPayload;
  if (e.items.empty()) e.items.push_back(ErrorItem{"", "", "", field, e.message});
  return e;
}

struct Visitor {
  Effects& fx;
  const std::vector<Output>& outputs;
  using R = Result<Executor::Done>;

  R operator()(const FetchPackage& a) {
    auto p = fx.packages.fetch(a.ref);
    if (!p) {
      if (p.error().code == Errc::NotFound) return fail(blame(std::move(p.error()), "artifact"));
      return fail(std::move(p.error()));
    }
    Executor::Done d{*p, {}};
    if (p->fresh) d.undo.push_back(RemovePackage{a.ref});
    return d;
  }
  R operator()(const RemovePackage& a) {
    if (auto s = fx.packages.remove(a.ref); !s) return fail(std::move(s.error()));
    return Executor::Done{};
  }
  R operator()(const LoadObject& a) {
    if (a.package_step >= outputs.size() ||
        !std::holds_alternative<Package>(outputs[a.package_step])) {
      return fail(Errc::Internal, "load step refers to a step without a package");
    }
    kernel::LoadSpec spec = a.spec;
    const auto& dir = std::get<Package>(outputs[a.package_step]).dir;
    spec.object_file = dir / a.spec.object_file;
    if (!layout::is_within(dir, spec.object_file)) {  // defence in depth: validated before
      return fail(blame(Error{Errc::InvalidPayload,
                              0,
                              "object_file " + a.spec.object_file.string() + " leaves the package",
                              {},
                              {},
                              {}},
                        "object_file"));
    }
    auto o = fx.kernel.load(spec);
    if (!o) {
      if (o.error().code == Errc::NotFound)
        return fail(blame(std::move(o.error()), "entry_function_name"));
      return fail(std::move(o.error()));
    }
    return Executor::Done{*o, {DiscardObject{a.spec.key}}};
  }
  R operator()(const DiscardObject& a) {
    if (auto s = fx.kernel.discard(a.key); !s) return fail(std::move(s.error()));
    return Executor::Done{};
  }
  R operator()(const UnloadObject& a) {
    if (auto s = fx.kernel.unload(a.key); !s) return fail(std::move(s.error()));
    return Executor::Done{};
  }
  R operator()(const ConfigureMaps& a) {
    if (auto s = fx.kernel.configure_maps(a.key, a.map_args, a.monitor_maps); !s) {
      if (s.error().code == Errc::InvalidPayload)
        return fail(blame(std::move(s.error()), "map_args"));
      return fail(std::move(s.error()));
    }
    Executor::Done d;
    if (a.previous) d.undo.push_back(ConfigureMaps{a.key, *a.previous, {}, std::nullopt});
    return d;
  }
  R operator()(const Attach& a) {
    auto info = fx.kernel.attach(a.spec);
    if (!info) return fail(std::move(info.error()));
    Executor::Done d{*info, {}};
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
    return Executor::Done{{}, {Attach{again, std::nullopt}}};
  }
  R operator()(const WriteSlot& a) {
    if (auto s = fx.kernel.write_slot(a.owner_key, a.array_map, a.target); !s) {
      return fail(std::move(s.error()));
    }
    return Executor::Done{{}, {WriteSlot{a.owner_key, a.array_map, a.previous, a.target}}};
  }
  R operator()(const PinMap& a) {
    if (auto s = fx.kernel.pin_map(a.key, a.map_name, a.path); !s)
      return fail(std::move(s.error()));
    if (a.previous_key) {
      return Executor::Done{{}, {PinMap{*a.previous_key, a.map_name, a.path, std::nullopt}}};
    }
    return Executor::Done{{}, {UnpinMap{a.key, a.map_name}}};
  }
  R operator()(const UnpinMap& a) {
    if (auto s = fx.kernel.unpin_map(a.key, a.map_name); !s) return fail(std::move(s.error()));
    return Executor::Done{};
  }
  R operator()(const RunIterators& a) {
    if (auto s = fx.kernel.run_iterators(a.key); !s) return fail(std::move(s.error()));
    return Executor::Done{};
  }
  R operator()(const CarryMaps& a) {
    auto skipped = fx.kernel.carry_maps(a.from_key, a.to_key);
    if (!skipped) return fail(std::move(skipped.error()));
    for (const auto& why : *skipped) {
      spdlog::warn("state of {} not carried over to {}: {}", a.from_key, a.to_key, why);
    }
    return Executor::Done{};
  }
  R operator()(const CommitState& a) {
    if (auto s = fx.store.save(a.contents); !s) return fail(std::move(s.error()));
    return Executor::Done{};
  }
};

}  // namespace

Result<Executor::Done> Executor::execute(const Action& a, const std::vector<Output>& outputs) {
  return std::visit(Visitor{fx_, outputs}, a);
}

}  // namespace l3afd::engine
