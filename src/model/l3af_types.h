// The L3AF v1 data model (docs/compatibility.md §4), mirroring Go's models/l3afd.go field by field.
// These structs are the wire format, the stored format (§17) and the GET output at once,
// because the contract requires GET and the store to echo the accepted payload byte-exactly
// (null vs [] vs {} included). Runtime handles live elsewhere (engine records).
//
// std::optional<...> marks the nullable fields: nullopt is JSON null (or absent), an
// engaged empty vector/map is [] / {}.
// Pure, no I/O. Value types.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "json/value.h"
#include "model/hook.h"

namespace l3afd::model {

/// `*_args` objects: any JSON member values, keys kept sorted (Go map order on output).
using Args = std::optional<json::Object>;

struct KeyValue {
  int64_t key = 0;
  int64_t value = 0;
  bool operator==(const KeyValue&) const = default;
};

struct MapArg {  // L3afDMapArg
  std::string name;
  std::optional<std::vector<KeyValue>> args;
  bool operator==(const MapArg&) const = default;
};

struct MonitorMap {  // L3afDNFMetricsMap
  std::string name;
  int64_t key = 0;
  std::string aggregator;
  /// Extension (docs/metrics.md "Several keys of one map"): when set, every key from `key` to
  /// `key_end` inclusive is a series of its own; absent in the original's payloads and then
  /// never written back, so their JSON is unchanged.
  std::optional<int64_t> key_end;
  bool operator==(const MonitorMap&) const = default;
};

/// The keys a monitor_maps entry samples: `key`, or `key`..`key_end` (validated: at most
/// kMaxMonitorKeys, key_end ≥ key ≥ 0).
inline constexpr int64_t kMaxMonitorKeys = 256;
inline std::vector<uint64_t> monitored_keys(const MonitorMap& m) {
  std::vector<uint64_t> keys;
  const int64_t last = m.key_end ? *m.key_end : m.key;
  for (int64_t k = m.key; k <= last && keys.size() < kMaxMonitorKeys; ++k) {
    keys.push_back(static_cast<uint64_t>(k));
  }
  return keys;
}

/// Extension (docs/compatibility.md §11.7, "Ours"): how the program's companion commands
/// (cmd_start, cmd_stop, cmd_status, cmd_update) are confined beyond what every companion gets.
/// Absent in the original's payloads and then never written back, so their JSON is unchanged;
/// a member that is absent (or null) is not written either. Rules and meaning: model/companion.h.
struct CompanionSettings {
  std::optional<std::string> user;   ///< name or decimal uid; unset: the daemon's user
  std::optional<std::string> group;  ///< name or decimal gid; unset: the user's primary group
  /// Variables the companion's environment holds, and nothing else; written sorted by name.
  std::optional<std::map<std::string, std::string>> environment;
  /// Capabilities (capabilities(7) names, e.g. CAP_BPF) kept across the change of user, as
  /// ambient capabilities; only with a `user` other than root.
  std::optional<std::vector<std::string>> capabilities;
  bool operator==(const CompanionSettings&) const = default;
};

struct BpfProgram {  // the original's 31 keys in serialization order, then our extension
  int64_t id = 0;
  std::string name;
  int64_t seq_id = 0;
  std::string artifact;
  std::string map_name;
  std::string cmd_start;
  std::string cmd_stop;
  std::string cmd_status;
  std::string cmd_config;
  std::string cmd_update;
  std::string version;
  bool user_program_daemon = false;
  bool is_plugin = false;
  int64_t cpu = 0;
  int64_t memory = 0;
  std::string admin_status;
  std::string prog_type;
  std::string rules_file;
  std::string rules;
  std::string config_file_path;
  int64_t cfg_version = 0;
  Args start_args;
  Args stop_args;
  Args status_args;
  Args update_args;
  std::optional<std::vector<MapArg>> map_args;
  Args config_args;
  std::optional<std::vector<MonitorMap>> monitor_maps;
  std::string ebpf_package_repo_url;
  std::string object_file;
  std::string entry_function_name;
  /// Extension, written last and only when set (see CompanionSettings).
  std::optional<CompanionSettings> companion;
  bool operator==(const BpfProgram&) const = default;
};

struct BpfPrograms {
  std::optional<std::vector<BpfProgram>> xdp_ingress;
  std::optional<std::vector<BpfProgram>> tc_ingress;
  std::optional<std::vector<BpfProgram>> tc_egress;
  std::optional<std::vector<BpfProgram>> probes;
  bool operator==(const BpfPrograms&) const = default;

  /// The list of hook `h` (xdp_ingress, tc_ingress or tc_egress).
  const std::optional<std::vector<BpfProgram>>& of(Hook h) const {
    return h == Hook::XdpIngress ? xdp_ingress : h == Hook::TcIngress ? tc_ingress : tc_egress;
  }
};

struct L3afBpfPrograms {
  std::string host_name;
  std::string iface;
  std::string ipv4_address;
  std::optional<BpfPrograms> bpf_programs;
  bool operator==(const L3afBpfPrograms&) const = default;
};

struct BpfProgramNames {
  std::optional<std::vector<std::string>> xdp_ingress;
  std::optional<std::vector<std::string>> tc_ingress;
  std::optional<std::vector<std::string>> tc_egress;
  std::optional<std::vector<std::string>> probes;
  bool operator==(const BpfProgramNames&) const = default;

  /// The names listed for hook `h` (xdp_ingress, tc_ingress or tc_egress).
  const std::optional<std::vector<std::string>>& of(Hook h) const {
    return h == Hook::XdpIngress ? xdp_ingress : h == Hook::TcIngress ? tc_ingress : tc_egress;
  }
};

struct L3afBpfProgramNames {
  std::string host_name;
  std::string iface;
  std::string ipv4_address;
  std::optional<BpfProgramNames> bpf_programs;
  bool operator==(const L3afBpfProgramNames&) const = default;
};

struct RestartConfig {
  std::string hostname;
  std::string version;
  bool operator==(const RestartConfig&) const = default;
};

}  // namespace l3afd::model
