#include "engine/executor.h"

#include <type_traits>

namespace l3afd::engine {

namespace {

struct Visitor {
  Effects& fx;
  const std::vector<Output>& outputs;
  using R = Result<Executor::Done>;

  R operator()(const FetchPackage& a) {
    auto p = fx.packages.fetch(a.ref);
    if (!p) return fail(std::move(p.error()));
    Executor::Done d{*p, {}};
    if (p->fresh) d.undo.push_back(RemovePackage{a.ref});
    return d;
  }
  R operator()(const RemovePackage& a) {
    if (auto s = fx.packages.remove(a.ref); !s) return fail(std::move(s.error()));
    return Executor::Done{};
  }
  R operator()(const LoadObject& a) {
    if (a.package_step >= outputs.size() || !std::holds_alternative<Package>(outputs[a.package_step])) {
      return fail(Errc::Internal, "load step refers to a step without a package");
    }
    kernel::LoadSpec spec = a.spec;
    spec.object_file = std::get<Package>(outputs[a.package_step]).dir / a.spec.object_file;
    auto o = fx.kernel.load(spec);
    if (!o) return fail(std::move(o.error()));
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
