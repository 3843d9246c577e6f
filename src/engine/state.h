// What the engine has applied: per interface the interface-table entry and the programs on
// each hook, with their kernel identities. Owned by the engine thread; published to readers
// as an immutable snapshot (shared_ptr<const AppliedState>).
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "kernel/kernel.h"
#include "layout/bpffs_layout.h"
#include "model/hook.h"
#include "model/l3af_types.h"

namespace l3afd::engine {

/// One program instance running on a hook (spec + what the kernel gave us).
struct ProgramRecord {
  model::BpfProgram spec;  ///< exactly as accepted (echoed by GET, stored)
  std::string object_key;  ///< kernel port key of the loaded object
  layout::ProgramPaths paths;
  std::filesystem::path package_dir;
  uint32_t prog_id = 0;
  std::vector<kernel::MapInfo> maps;
  kernel::AttachInfo attach;
  bool operator==(const ProgramRecord&) const = default;
};

/// One entry of bpf_programs.probes (global, not per interface): its object's probe programs
/// attached from their section names (docs/packages.md §1, §7).
struct ProbeRecord {
  model::BpfProgram spec;  ///< exactly as accepted
  std::string object_key;  ///< "probes/<name>/<V>#<instance>"
  layout::ProbePaths paths;
  std::filesystem::path package_dir;
  std::vector<kernel::AttachedProbe> attached;
  std::vector<kernel::MapInfo> maps;
  bool operator==(const ProbeRecord&) const = default;
};

struct InterfaceRecord {
  std::string ipv4_address;
  std::map<model::Hook, std::vector<ProgramRecord>> hooks;  ///< absent or empty = no programs;
                                                            ///< chained: in chain order
  /// Chaining only: the root of every hook that has programs (docs/chain-protocol.md §1.1). Its
  /// spec holds the root package (name, version, artifact, object_file, entry, map_name = root
  /// array).
  std::map<model::Hook, ProgramRecord> roots;
  bool operator==(const InterfaceRecord&) const = default;
};

struct AppliedState {
  std::map<std::string, InterfaceRecord> ifaces;  ///< the interface table, sorted by name
  uint64_t revision = 0;                          ///< +1 per committed change
  uint64_t next_instance = 1;                     ///< makes object keys unique
  std::vector<ProbeRecord> probes;                ///< global, in the order they were added
  bool operator==(const AppliedState&) const = default;

  const std::vector<ProgramRecord>* programs(const std::string& iface, model::Hook h) const;
  /// True if a program or root of this state runs package `name`@`version` (its cache entry
  /// must stay).
  bool uses_package(const std::string& name, const std::string& version) const;
};

/// GET body model of one interface (docs/compatibility.md §6.5): unknown iface gives "" and nulls;
/// a known one lists every probe (they are global).
model::L3afBpfPrograms view_of(const AppliedState& s, const std::string& host_name,
                               const std::string& iface);
/// One element per interface-table entry, ascending by name (GET all, and the store).
std::vector<model::L3afBpfPrograms> view_all(const AppliedState& s, const std::string& host_name);

}  // namespace l3afd::engine
