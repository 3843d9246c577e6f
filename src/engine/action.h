// Plans are data (DESIGN.md §1.3): every kernel, file-system or store effect the engine makes
// is one Action value, executed by Executor (one std::visit) under PlanRunner's undo stack.
// Undo actions are produced by the executor from what a forward action actually did (for
// example, a package taken from the cache is not removed on rollback), so rollback restores
// exactly the state before the plan.
#pragma once

#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "engine/ports.h"
#include "kernel/kernel.h"
#include "model/l3af_types.h"

namespace l3afd::engine {

struct Plan;

/// A typed reference to an earlier step of the same plan whose output is a `T` (Package,
/// kernel::LoadedObject or kernel::AttachInfo). Only Plan::append creates one, from the step it
/// appends, so a reference can never name a step of another output type.
template <class T>
class StepRef {
 public:
  std::size_t index() const { return index_; }
  bool operator==(const StepRef&) const = default;

 private:
  friend struct Plan;
  explicit StepRef(std::size_t i) : index_(i) {}
  std::size_t index_;
};

/// Download/extract a package. Output: Package.
struct FetchPackage {
  PackageRef ref;
};
/// Remove a package from the cache (undo of a fresh fetch, or release of an unused one).
struct RemovePackage {
  PackageRef ref;
};
/// Load an object from the package fetched by step `package`. Output: LoadedObject.
struct LoadObject {
  kernel::LoadSpec spec;  ///< object_file is relative to the package dir here
  StepRef<Package> package;
};
/// Undo of LoadObject: close and remove exactly what the load created.
struct DiscardObject {
  std::string key;
};
/// Final release of a program that left the data path.
struct UnloadObject {
  std::string key;
};
/// Write monitor_maps entries and map_args. `previous` (if set) is restored on rollback.
struct ConfigureMaps {
  std::string key;
  std::vector<model::MapArg> map_args;
  std::vector<model::MonitorMap> monitor_maps;
  std::optional<std::vector<model::MapArg>> previous;
};
/// Attach (or atomically switch an existing attachment, see AttachSpec). Output: AttachInfo.
struct Attach {
  kernel::AttachSpec spec;
  /// For a switch: how to put the previous program back on rollback.
  std::optional<kernel::AttachSpec> previous;
};
/// Detach a program; `reattach` restores it on rollback.
struct Detach {
  std::string key;
  kernel::AttachSpec reattach;
};
/// Writes slot 0 of the next-program array `array_map` of `owner_key` (K5): the entry program
/// of `target` or, when nullopt, clears it. `previous` is what the slot held before (the plan
/// knows it); rollback writes it back.
struct WriteSlot {
  std::string owner_key;
  std::string array_map;
  std::optional<std::string> target;
  std::optional<std::string> previous;
};
/// Pins map `map_name` of `key` at `path`, atomically over whatever is pinned there
/// (docs/chain-protocol.md §4.2). Rollback re-pins `previous_key`'s map at the same path, or
/// removes the pin when nothing was pinned there before.
struct PinMap {
  std::string key;
  std::string map_name;
  std::filesystem::path path;
  std::optional<std::string> previous_key;
};
/// Removes the pin PinMap made for `map_name` of `key` (undo of a PinMap without predecessor).
struct UnpinMap {
  std::string key;
  std::string map_name;
};
/// Copies the state maps of `from_key` (the version being replaced) into the fresh maps of
/// `to_key` (kernel::Kernel::carry_maps). No undo: rolling back discards to_key's maps.
struct CarryMaps {
  std::string from_key;
  std::string to_key;
};
/// Runs the iter/ programs of `key` once (Kernel::run_iterators), after its map_args are
/// written, e.g. to seed state from existing sockets. Nothing to undo.
struct RunIterators {
  std::string key;
};
/// Persist the state. Always the last undoable step.
struct CommitState {
  std::vector<model::L3afBpfPrograms> contents;
};
/// Checks the companion's commands and files in the fetched package before anything is loaded
/// (Companions::check): a bad cmd_* or rules_file is a 400 naming the field, with nothing done.
struct CheckCompanion {
  CompanionRequest request;  ///< package_dir taken from `package`
  StepRef<Package> package;
};
/// Starts the companion of a program (docs/compatibility.md §11.2): user_program_daemon true →
/// Companions::start (undo: StopCompanion); false → Companions::run_once, waited for with the
/// one-shot timeout (a one-shot's effects cannot be undone; a failure rolls back the plan).
struct StartCompanion {
  CompanionRequest request;
  /// The step that fetched the package (request.package_dir is taken from it); nullopt when
  /// request.package_dir is already set (undo of a stop).
  std::optional<StepRef<Package>> package;
};
/// Stops a supervised companion (Companions::stop). Undo: StartCompanion of the same request.
struct StopCompanion {
  CompanionRequest request;
};
/// cmd_update with update_args on an in-place change (§11.3). Nothing to undo.
struct UpdateCompanion {
  CompanionRequest request;
};
/// The staging array of a self-loading program (docs/chain-protocol.md §4.6). Undo: remove it.
struct CreateStaging {
  std::filesystem::path pin;
};
/// Removes a staging array pin (after the take-over; its undo creates nothing: a staging array
/// has no use after the take-over).
struct RemoveStaging {
  std::filesystem::path pin;
};
/// Loads an entry of bpf_programs.probes and attaches its probe programs
/// (Kernel::load_probes; object_file relative to the package here). Output: LoadedProbes.
/// Undo: DiscardObject.
struct LoadProbes {
  kernel::ProbeSpec spec;
  StepRef<Package> package;
};
/// Waits for the self-loading binary and takes its instance over (Kernel::take_self_loaded).
/// Output: LoadedObject. Undo: DiscardObject.
struct TakeSelfLoaded {
  kernel::SelfLoadedSpec spec;
};

using Action =
    std::variant<FetchPackage, RemovePackage, LoadObject, DiscardObject, UnloadObject,
                 ConfigureMaps, Attach, Detach, WriteSlot, PinMap, UnpinMap, CarryMaps,
                 RunIterators, CommitState, CheckCompanion, StartCompanion, StopCompanion,
                 UpdateCompanion, CreateStaging, RemoveStaging, TakeSelfLoaded, LoadProbes>;

/// One-line description for logs and dry runs, e.g. "load eth0/xdpingress/x/1_0#3".
std::string describe(const Action& a);

/// Stable short name of the action kind ("fetch", "load", "attach", "commit", ...), used by
/// dry runs and tests.
std::string_view action_kind(const Action& a);

struct Step {
  /// What the step does, named in errors ("attach xdp-counter to eth0 xdpingress").
  std::string label;
  Action forward;
  /// The program the step works for (iface, direction, program); copied into the error items
  /// of a failure so that the API error names what failed.
  ErrorItem subject{};
};

/// Output of a step, referenced by later steps through StepRef.
using Output = std::variant<std::monostate, Package, kernel::LoadedObject, kernel::AttachInfo,
                            kernel::LoadedProbes>;

/// What a step of action `A` outputs: Package, LoadedObject, AttachInfo or nothing.
template <class A>
struct OutputOf {
  using type = std::monostate;
};
template <>
struct OutputOf<FetchPackage> {
  using type = Package;
};
template <>
struct OutputOf<LoadObject> {
  using type = kernel::LoadedObject;
};
template <>
struct OutputOf<LoadProbes> {
  using type = kernel::LoadedProbes;
};
template <>
struct OutputOf<TakeSelfLoaded> {
  using type = kernel::LoadedObject;
};
template <>
struct OutputOf<Attach> {
  using type = kernel::AttachInfo;
};

/// The output named by `ref`, or nullptr if the run has not produced it (or it has another type).
template <class T>
const T* output_at(const std::vector<Output>& outputs, StepRef<T> ref) {
  if (ref.index() >= outputs.size()) return nullptr;
  return std::get_if<T>(&outputs[ref.index()]);
}

}  // namespace l3afd::engine
