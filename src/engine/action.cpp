#include "engine/action.h"

#include <iterator>
#include <type_traits>

namespace l3afd::engine {

namespace {
std::string ref_text(const PackageRef& r) {
  return r.name + "@" + r.version + " (" + r.artifact + ")";
}
}  // namespace

std::string describe(const Action& a) {
  return std::visit(
      [](const auto& x) -> std::string {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, FetchPackage>)
          return "fetch " + ref_text(x.ref);
        else if constexpr (std::is_same_v<T, RemovePackage>)
          return "remove package " + ref_text(x.ref);
        else if constexpr (std::is_same_v<T, LoadObject>)
          return "load " + x.spec.key;
        else if constexpr (std::is_same_v<T, DiscardObject>)
          return "discard " + x.key;
        else if constexpr (std::is_same_v<T, UnloadObject>)
          return "unload " + x.key;
        else if constexpr (std::is_same_v<T, ConfigureMaps>)
          return "configure maps of " + x.key;
        else if constexpr (std::is_same_v<T, Attach>)
          return (x.previous ? "switch " : "attach ") + x.spec.key + " on " + x.spec.iface + " " +
                 std::string(model::direction(x.spec.hook));
        else if constexpr (std::is_same_v<T, Detach>)
          return "detach " + x.key;
        else if constexpr (std::is_same_v<T, WriteSlot>)
          return "slot " + x.owner_key + "/" + x.array_map +
                 "[0] := " + (x.target ? *x.target : std::string("clear"));
        else if constexpr (std::is_same_v<T, PinMap>)
          return "pin " + x.key + "/" + x.map_name + " at " + x.path.string();
        else if constexpr (std::is_same_v<T, RunIterators>)
          return "run iterators of " + x.key;
        else if constexpr (std::is_same_v<T, CarryMaps>)
          return "carry maps " + x.from_key + " -> " + x.to_key;
        else if constexpr (std::is_same_v<T, UnpinMap>)
          return "unpin " + x.key + "/" + x.map_name;
        else if constexpr (std::is_same_v<T, CommitState>)
          return "commit state (" + std::to_string(x.contents.size()) + " interfaces)";
        else if constexpr (std::is_same_v<T, CheckCompanion>)
          return "check companion " + x.request.program.cmd_start + " of " + x.request.id;
        else if constexpr (std::is_same_v<T, StartCompanion>)
          return std::string(x.request.program.user_program_daemon ? "start" : "run") +
                 " companion " + x.request.program.cmd_start + " of " + x.request.id;
        else if constexpr (std::is_same_v<T, StopCompanion>)
          return "stop companion of " + x.request.id;
        else if constexpr (std::is_same_v<T, UpdateCompanion>)
          return "update companion of " + x.request.id + " (" + x.request.program.cmd_update + ")";
        else if constexpr (std::is_same_v<T, CreateStaging>)
          return "create staging array " + x.pin.string();
        else if constexpr (std::is_same_v<T, RemoveStaging>)
          return "remove staging array " + x.pin.string();
        else if constexpr (std::is_same_v<T, TakeSelfLoaded>)
          return "take over self-loaded " + x.spec.key + " from " + x.spec.staging_pin.string();
        else
          return "load probes " + x.spec.key;
      },
      a);
}

std::string_view action_kind(const Action& a) {
  static constexpr std::string_view kNames[] = {"fetch",
                                                "remove_package",
                                                "load",
                                                "discard",
                                                "unload",
                                                "write_maps",
                                                "attach",
                                                "detach",
                                                "write_slot",
                                                "pin_map",
                                                "unpin_map",
                                                "carry_maps",
                                                "seed",
                                                "commit",
                                                "check_companion",
                                                "start_companion",
                                                "stop_companion",
                                                "update_companion",
                                                "create_staging",
                                                "remove_staging",
                                                "take_self_loaded",
                                                "load_probes"};
  static_assert(std::size(kNames) == std::variant_size_v<Action>, "one name per action");
  return kNames[a.index()];
}

}  // namespace l3afd::engine
