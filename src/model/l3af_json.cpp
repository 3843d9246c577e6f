// Encoders of l3af_json.h: the field order of every writer below is the row order of the
// docs/compatibility.md §4 tables (= the member order of l3af_types.h).
#include "model/l3af_json.h"

#include <optional>

#include "json/encode.h"

namespace l3afd::model {

namespace {

using json::Writer;

void write_args(Writer& w, std::string_view key, const Args& a) {
  w.key(key);
  if (!a) {
    w.null_value();
    return;
  }
  w.begin_object();
  for (const auto& [k, v] : *a) {
    w.key(k);
    w.value(v);
  }
  w.end_object();
}

template <class T, class Fn>
void write_list(Writer& w, std::string_view key, const std::optional<std::vector<T>>& list,
                Fn&& write_one) {
  w.key(key);
  if (!list) {
    w.null_value();
    return;
  }
  w.begin_array();
  for (const T& e : *list) write_one(w, e);
  w.end_array();
}

void write_key_value(Writer& w, const KeyValue& kv) {
  w.begin_object();
  w.key("key");
  w.int_value(kv.key);
  w.key("value");
  w.int_value(kv.value);
  w.end_object();
}

void write_map_arg(Writer& w, const MapArg& m) {
  w.begin_object();
  w.key("name");
  w.string_value(m.name);
  write_list(w, "args", m.args, write_key_value);
  w.end_object();
}

void write_monitor_map(Writer& w, const MonitorMap& m) {
  w.begin_object();
  w.key("name");
  w.string_value(m.name);
  w.key("key");
  w.int_value(m.key);
  w.key("aggregator");
  w.string_value(m.aggregator);
  if (m.key_end) {  // extension: absent from the original's payloads, so never written for them
    w.key("key_end");
    w.int_value(*m.key_end);
  }
  w.end_object();
}

/// The extension object: only the members that are set, in the order of CompanionSettings.
void write_companion(Writer& w, const CompanionSettings& c) {
  w.begin_object();
  if (c.user) {
    w.key("user");
    w.string_value(*c.user);
  }
  if (c.group) {
    w.key("group");
    w.string_value(*c.group);
  }
  if (c.environment) {
    w.key("environment");
    w.begin_object();
    for (const auto& [name, value] : *c.environment) {
      w.key(name);
      w.string_value(value);
    }
    w.end_object();
  }
  if (c.capabilities) {
    w.key("capabilities");
    w.begin_array();
    for (const auto& name : *c.capabilities) w.string_value(name);
    w.end_array();
  }
  w.end_object();
}

void write_program(Writer& w, const BpfProgram& p) {
  const auto str = [&w](std::string_view k, const std::string& v) {
    w.key(k);
    w.string_value(v);
  };
  const auto num = [&w](std::string_view k, std::int64_t v) {
    w.key(k);
    w.int_value(v);
  };
  const auto flag = [&w](std::string_view k, bool v) {
    w.key(k);
    w.bool_value(v);
  };
  w.begin_object();
  num("id", p.id);
  str("name", p.name);
  num("seq_id", p.seq_id);
  str("artifact", p.artifact);
  str("map_name", p.map_name);
  str("cmd_start", p.cmd_start);
  str("cmd_stop", p.cmd_stop);
  str("cmd_status", p.cmd_status);
  str("cmd_config", p.cmd_config);
  str("cmd_update", p.cmd_update);
  str("version", p.version);
  flag("user_program_daemon", p.user_program_daemon);
  flag("is_plugin", p.is_plugin);
  num("cpu", p.cpu);
  num("memory", p.memory);
  str("admin_status", p.admin_status);
  str("prog_type", p.prog_type);
  str("rules_file", p.rules_file);
  str("rules", p.rules);
  str("config_file_path", p.config_file_path);
  num("cfg_version", p.cfg_version);
  write_args(w, "start_args", p.start_args);
  write_args(w, "stop_args", p.stop_args);
  write_args(w, "status_args", p.status_args);
  write_args(w, "update_args", p.update_args);
  write_list(w, "map_args", p.map_args, write_map_arg);
  write_args(w, "config_args", p.config_args);
  write_list(w, "monitor_maps", p.monitor_maps, write_monitor_map);
  str("ebpf_package_repo_url", p.ebpf_package_repo_url);
  str("object_file", p.object_file);
  str("entry_function_name", p.entry_function_name);
  if (p.companion) {  // extension: absent from the original's payloads, so never written for them
    w.key("companion");
    write_companion(w, *p.companion);
  }
  w.end_object();
}

void write_programs(Writer& w, const BpfPrograms& b) {
  w.begin_object();
  write_list(w, "xdp_ingress", b.xdp_ingress, write_program);
  write_list(w, "tc_ingress", b.tc_ingress, write_program);
  write_list(w, "tc_egress", b.tc_egress, write_program);
  write_list(w, "probes", b.probes, write_program);
  w.end_object();
}

void write_l3af(Writer& w, const L3afBpfPrograms& v) {
  w.begin_object();
  w.key("host_name");
  w.string_value(v.host_name);
  w.key("iface");
  w.string_value(v.iface);
  w.key("ipv4_address");
  w.string_value(v.ipv4_address);
  w.key("bpf_programs");
  if (v.bpf_programs) {
    write_programs(w, *v.bpf_programs);
  } else {
    w.null_value();
  }
  w.end_object();
}

}  // namespace

std::string encode(const L3afBpfPrograms& v, std::string_view indent) {
  Writer w = Writer::indented(indent);
  write_l3af(w, v);
  return w.take();
}

std::string encode(const std::vector<L3afBpfPrograms>& v, std::string_view indent) {
  Writer w = Writer::indented(indent);
  w.begin_array();
  for (const auto& e : v) write_l3af(w, e);
  w.end_array();
  return w.take();
}

std::string encode_store(const std::vector<L3afBpfPrograms>& v) {
  if (v.empty()) return "null";
  return encode(v, " ");
}

std::string encode_compact(const BpfProgram& p) {
  Writer w = Writer::compact();
  write_program(w, p);
  return w.take();
}

}  // namespace l3afd::model
