// Decoders of l3af_json.h: Go encoding/json Unmarshal semantics (docs/compatibility.md §5.2) on top
// of the order- and duplicate-preserving json::Node tree. Each struct has a table of its JSON
// field names (row order of §4) and a switch that decodes one member into the matched field.
#include <array>
#include <map>
#include <optional>
#include <span>

#include "json/convert.h"
#include "json/parse.h"
#include "json/utf8.h"
#include "model/hook.h"
#include "model/l3af_json.h"

namespace l3afd::model {

namespace {

using json::Node;
using Kind = Node::Kind;

/// Where the decoder is: JSON pointer of the current value and what is known about it.
struct Ctx {
  std::string pointer;
  std::string iface;
  std::string direction;
  std::string program;

  Ctx child(std::string_view token) const {
    Ctx c = *this;
    c.pointer += '/';
    c.pointer += json::pointer_token(token);
    return c;
  }
  Ctx child(std::size_t index) const {
    Ctx c = *this;
    c.pointer += '/';
    c.pointer += std::to_string(index);
    return c;
  }
};

tl::unexpected<Error> type_error(const Ctx& c, std::string_view what, const Node& n,
                                 std::string_view want) {
  std::string got(json::kind_name(n.kind));
  if (n.kind == Kind::Number) got += " " + n.text;
  Error e;
  e.code = Errc::InvalidJson;
  const std::string reason = std::string(what) + " must be " + std::string(want) + ", got " + got;
  e.message = c.pointer.empty() ? reason : c.pointer + ": " + reason;
  e.items.push_back(ErrorItem{.iface = c.iface,
                              .direction = c.direction,
                              .program = c.program,
                              .field = c.pointer,
                              .message = reason});
  return tl::unexpected(std::move(e));
}

/// Go's key folding (encoding/json foldName) restricted to what can equal an ASCII field
/// name: ASCII letters upper-cased; U+017F (long s), U+212A (Kelvin), U+0131 (dotless i) and
/// U+0130 (dotted I) fold to S, K, I, I. nullopt when another non-ASCII rune is present.
std::optional<std::string> fold_key(std::string_view key) {
  std::string out;
  out.reserve(key.size());
  while (!key.empty()) {
    const auto c = static_cast<unsigned char>(key.front());
    if (c < 0x80) {
      out.push_back(c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : static_cast<char>(c));
      key.remove_prefix(1);
      continue;
    }
    const json::DecodedRune d = json::decode_rune(key);
    switch (d.rune) {
      case 0x017F: out.push_back('S'); break;
      case 0x212A: out.push_back('K'); break;
      case 0x0130:
      case 0x0131: out.push_back('I'); break;
      default: return std::nullopt;
    }
    key.remove_prefix(d.size);
  }
  return out;
}

/// Index of the field `key` selects: exact match first, then Go's case-insensitive match.
std::optional<std::size_t> match_field(std::string_view key,
                                       std::span<const std::string_view> names) {
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (names[i] == key) return i;
  }
  const auto folded = fold_key(key);
  if (!folded) return std::nullopt;
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (fold_key(names[i]) == folded) return i;
  }
  return std::nullopt;
}

/// The value Go would decode into string field `name` of object `obj` (last string wins),
/// used only to label errors with iface/program before the whole object is decoded.
std::string peek_string(const Node& obj, std::string_view name) {
  std::string out;
  if (obj.kind != Kind::Map) return out;
  const std::array<std::string_view, 1> names{name};
  for (const json::Member& m : obj.members) {
    if (m.value.kind == Kind::String && match_field(m.key, names)) out = m.value.text;
  }
  return out;
}

Status dec_string(const Ctx& c, std::string_view what, const Node& n, std::string& out) {
  if (n.kind == Kind::Null) return ok();
  if (n.kind != Kind::String) return type_error(c, what, n, "a string");
  out = n.text;
  return ok();
}

Status dec_int(const Ctx& c, std::string_view what, const Node& n, std::int64_t& out) {
  if (n.kind == Kind::Null) return ok();
  if (n.kind == Kind::Number) {
    if (const auto v = json::parse_int64(n.text)) {
      out = *v;
      return ok();
    }
  }
  return type_error(c, what, n, "an integer in the signed 64-bit range");
}

Status dec_bool(const Ctx& c, std::string_view what, const Node& n, bool& out) {
  if (n.kind == Kind::Null) return ok();
  if (n.kind != Kind::Bool) return type_error(c, what, n, "true or false");
  out = n.boolean;
  return ok();
}

Status dec_args(const Ctx& c, std::string_view what, const Node& n, Args& out) {
  if (n.kind == Kind::Null) {
    out.reset();
    return ok();
  }
  if (n.kind != Kind::Map) return type_error(c, what, n, "an object");
  if (!out) out.emplace();
  for (const json::Member& m : n.members) {
    const Ctx sub = c.child(m.key);
    auto v = json::to_value(m.value, sub.pointer);
    if (!v) {
      Error e = std::move(v.error());
      ErrorItem item{c.iface, c.direction, c.program, "", ""};
      if (!e.items.empty()) item.field = e.items.front().field;
      item.message = "number out of the float64 range";
      e.message = item.field + ": " + item.message;
      e.items = {item};
      return tl::unexpected(std::move(e));
    }
    (*out)[m.key] = std::move(*v);  // Go decodes each map member into a fresh value
  }
  return ok();
}

/// Decodes the members of object `n` into `out` via `field(ctx, index, node, out)`.
/// null leaves `out` unchanged (Go: null into a struct is a no-op).
template <class S, std::size_t N, class Fn>
Status dec_object(const Ctx& c, std::string_view what, const Node& n, S& out,
                  const std::array<std::string_view, N>& names, Fn&& field) {
  if (n.kind == Kind::Null) return ok();
  if (n.kind != Kind::Map) return type_error(c, what, n, "an object");
  for (const json::Member& m : n.members) {
    const auto idx = match_field(m.key, names);
    if (!idx) continue;  // unknown keys are ignored
    if (auto st = field(c.child(m.key), *idx, m.value, out); !st) return st;
  }
  return ok();
}

/// Go slice decoding into an existing slice: the result has the new length; elements that
/// existed before are decoded over (merged), new ones start from the zero value.
template <class T, class Fn>
Status dec_elements(const Ctx& c, const Node& n, std::vector<T>& v, Fn&& elem) {
  for (std::size_t i = 0; i < n.elements.size(); ++i) {
    if (i >= v.size()) v.emplace_back();
    if (auto st = elem(c.child(i), n.elements[i], v[i]); !st) return st;
  }
  v.resize(n.elements.size());
  return ok();
}

template <class T, class Fn>
Status dec_list(const Ctx& c, std::string_view what, const Node& n,
                std::optional<std::vector<T>>& out, Fn&& elem) {
  if (n.kind == Kind::Null) {
    out.reset();
    return ok();
  }
  if (n.kind != Kind::List) return type_error(c, what, n, "an array");
  if (!out) out.emplace();
  return dec_elements(c, n, *out, elem);
}

constexpr std::array<std::string_view, 2> kKeyValueFields{"key", "value"};

Status dec_key_value(const Ctx& c, const Node& n, KeyValue& out) {
  return dec_object(c, "a map_args args element", n, out, kKeyValueFields,
                    [](const Ctx& s, std::size_t i, const Node& v, KeyValue& kv) -> Status {
                      if (i == 0) return dec_int(s, "key", v, kv.key);
                      return dec_int(s, "value", v, kv.value);
                    });
}

constexpr std::array<std::string_view, 2> kMapArgFields{"name", "args"};

Status dec_map_arg(const Ctx& c, const Node& n, MapArg& out) {
  return dec_object(c, "a map_args element", n, out, kMapArgFields,
                    [](const Ctx& s, std::size_t i, const Node& v, MapArg& m) -> Status {
                      if (i == 0) return dec_string(s, "name", v, m.name);
                      return dec_list(s, "args", v, m.args, dec_key_value);
                    });
}

// "key_end" is the project's extension (model/l3af_types.h MonitorMap::key_end).
constexpr std::array<std::string_view, 4> kMonitorMapFields{"name", "key", "aggregator", "key_end"};

Status dec_monitor_map(const Ctx& c, const Node& n, MonitorMap& out) {
  return dec_object(c, "a monitor_maps element", n, out, kMonitorMapFields,
                    [](const Ctx& s, std::size_t i, const Node& v, MonitorMap& m) -> Status {
                      if (i == 0) return dec_string(s, "name", v, m.name);
                      if (i == 1) return dec_int(s, "key", v, m.key);
                      if (i == 2) return dec_string(s, "aggregator", v, m.aggregator);
                      if (v.kind == Kind::Null) {
                        m.key_end.reset();
                        return ok();
                      }
                      int64_t end = 0;
                      if (auto st = dec_int(s, "key_end", v, end); !st) return st;
                      m.key_end = end;
                      return ok();
                    });
}

// "companion" and its members are the project's extension (model/l3af_types.h
// CompanionSettings). A misspelt member must not go unnoticed there — it would leave the
// companion running as root, or without the variable it needs — so, unlike everywhere else,
// an unknown member of `companion` is an error (Errc::InvalidPayload, field = its pointer).
constexpr std::array<std::string_view, 4> kCompanionFields{"user", "group", "environment",
                                                           "capabilities"};

Status dec_optional_string(const Ctx& c, std::string_view what, const Node& n,
                           std::optional<std::string>& out) {
  if (n.kind == Kind::Null) {
    out.reset();
    return ok();
  }
  if (n.kind != Kind::String) return type_error(c, what, n, "a string");
  out = n.text;
  return ok();
}

Status dec_environment(const Ctx& c, const Node& n,
                       std::optional<std::map<std::string, std::string>>& out) {
  if (n.kind == Kind::Null) {
    out.reset();
    return ok();
  }
  if (n.kind != Kind::Map) return type_error(c, "environment", n, "an object");
  if (!out) out.emplace();
  for (const json::Member& m : n.members) {
    if (m.value.kind != Kind::String) {
      return type_error(c.child(m.key), "an environment value", m.value, "a string");
    }
    (*out)[m.key] = m.value.text;  // a repeated name: the last value wins (Go map decoding)
  }
  return ok();
}

Status dec_companion(const Ctx& c, const Node& n, std::optional<CompanionSettings>& out) {
  if (n.kind == Kind::Null) {
    out.reset();
    return ok();
  }
  if (n.kind != Kind::Map) return type_error(c, "companion", n, "an object");
  if (!out) out.emplace();
  for (const json::Member& m : n.members) {
    const Ctx s = c.child(m.key);
    const auto idx = match_field(m.key, kCompanionFields);
    if (!idx) {
      const std::string reason =
          "unknown member of companion (its members are user, group, environment and "
          "capabilities)";
      Error e{.code = Errc::InvalidPayload, .message = s.pointer + ": " + reason};
      e.items.push_back(ErrorItem{.iface = s.iface,
                                  .direction = s.direction,
                                  .program = s.program,
                                  .field = s.pointer,
                                  .message = reason});
      return tl::unexpected(std::move(e));
    }
    Status st = ok();
    switch (*idx) {
      case 0: st = dec_optional_string(s, "user", m.value, out->user); break;
      case 1: st = dec_optional_string(s, "group", m.value, out->group); break;
      case 2: st = dec_environment(s, m.value, out->environment); break;
      default:
        st = dec_list(s, "capabilities", m.value, out->capabilities,
                      [](const Ctx& e, const Node& v, std::string& name) {
                        return dec_string(e, "a capability", v, name);
                      });
    }
    if (!st) return st;
  }
  return ok();
}

constexpr std::array<std::string_view, 32> kProgramFields{"id",
                                                          "name",
                                                          "seq_id",
                                                          "artifact",
                                                          "map_name",
                                                          "cmd_start",
                                                          "cmd_stop",
                                                          "cmd_status",
                                                          "cmd_config",
                                                          "cmd_update",
                                                          "version",
                                                          "user_program_daemon",
                                                          "is_plugin",
                                                          "cpu",
                                                          "memory",
                                                          "admin_status",
                                                          "prog_type",
                                                          "rules_file",
                                                          "rules",
                                                          "config_file_path",
                                                          "cfg_version",
                                                          "start_args",
                                                          "stop_args",
                                                          "status_args",
                                                          "update_args",
                                                          "map_args",
                                                          "config_args",
                                                          "monitor_maps",
                                                          "ebpf_package_repo_url",
                                                          "object_file",
                                                          "entry_function_name",
                                                          "companion"};

Status dec_program_field(const Ctx& c, std::size_t i, const Node& v, BpfProgram& p) {
  const std::string_view f = kProgramFields[i];
  switch (i) {
    case 0: return dec_int(c, f, v, p.id);
    case 1: return dec_string(c, f, v, p.name);
    case 2: return dec_int(c, f, v, p.seq_id);
    case 3: return dec_string(c, f, v, p.artifact);
    case 4: return dec_string(c, f, v, p.map_name);
    case 5: return dec_string(c, f, v, p.cmd_start);
    case 6: return dec_string(c, f, v, p.cmd_stop);
    case 7: return dec_string(c, f, v, p.cmd_status);
    case 8: return dec_string(c, f, v, p.cmd_config);
    case 9: return dec_string(c, f, v, p.cmd_update);
    case 10: return dec_string(c, f, v, p.version);
    case 11: return dec_bool(c, f, v, p.user_program_daemon);
    case 12: return dec_bool(c, f, v, p.is_plugin);
    case 13: return dec_int(c, f, v, p.cpu);
    case 14: return dec_int(c, f, v, p.memory);
    case 15: return dec_string(c, f, v, p.admin_status);
    case 16: return dec_string(c, f, v, p.prog_type);
    case 17: return dec_string(c, f, v, p.rules_file);
    case 18: return dec_string(c, f, v, p.rules);
    case 19: return dec_string(c, f, v, p.config_file_path);
    case 20: return dec_int(c, f, v, p.cfg_version);
    case 21: return dec_args(c, f, v, p.start_args);
    case 22: return dec_args(c, f, v, p.stop_args);
    case 23: return dec_args(c, f, v, p.status_args);
    case 24: return dec_args(c, f, v, p.update_args);
    case 25: return dec_list(c, f, v, p.map_args, dec_map_arg);
    case 26: return dec_args(c, f, v, p.config_args);
    case 27: return dec_list(c, f, v, p.monitor_maps, dec_monitor_map);
    case 28: return dec_string(c, f, v, p.ebpf_package_repo_url);
    case 29: return dec_string(c, f, v, p.object_file);
    case 30: return dec_string(c, f, v, p.entry_function_name);
    default: return dec_companion(c, v, p.companion);
  }
}

Status dec_program(const Ctx& c, const Node& n, BpfProgram& out) {
  Ctx pc = c;
  pc.program = peek_string(n, "name");
  if (pc.program.empty()) pc.program = out.name;
  return dec_object(pc, "a program", n, out, kProgramFields, dec_program_field);
}

constexpr std::array<std::string_view, 4> kHookFields{"xdp_ingress", "tc_ingress", "tc_egress",
                                                      "probes"};

std::string_view hook_direction(std::size_t i) {
  return i < 3 ? direction(kAllHooks[i]) : std::string_view();
}

Status dec_bpf_programs(const Ctx& c, const Node& n, std::optional<BpfPrograms>& out) {
  if (n.kind == Kind::Null) {
    out.reset();
    return ok();
  }
  if (n.kind != Kind::Map) return type_error(c, "bpf_programs", n, "an object");
  if (!out) out.emplace();
  return dec_object(
      c, "bpf_programs", n, *out, kHookFields,
      [](const Ctx& s, std::size_t i, const Node& v, BpfPrograms& b) -> Status {
        Ctx hc = s;
        hc.direction = hook_direction(i);
        auto* lists = std::array{&b.xdp_ingress, &b.tc_ingress, &b.tc_egress, &b.probes}[i];
        return dec_list(hc, kHookFields[i], v, *lists, dec_program);
      });
}

Status dec_name_list(const Ctx& c, std::string_view what, const Node& n,
                     std::optional<std::vector<std::string>>& out) {
  return dec_list(c, what, n, out, [](const Ctx& s, const Node& v, std::string& name) {
    Ctx nc = s;
    if (v.kind == Kind::String) nc.program = v.text;
    return dec_string(nc, "a program name", v, name);
  });
}

Status dec_program_names(const Ctx& c, const Node& n, std::optional<BpfProgramNames>& out) {
  if (n.kind == Kind::Null) {
    out.reset();
    return ok();
  }
  if (n.kind != Kind::Map) return type_error(c, "bpf_programs", n, "an object");
  if (!out) out.emplace();
  return dec_object(
      c, "bpf_programs", n, *out, kHookFields,
      [](const Ctx& s, std::size_t i, const Node& v, BpfProgramNames& b) -> Status {
        Ctx hc = s;
        hc.direction = hook_direction(i);
        auto* lists = std::array{&b.xdp_ingress, &b.tc_ingress, &b.tc_egress, &b.probes}[i];
        return dec_name_list(hc, kHookFields[i], v, *lists);
      });
}

constexpr std::array<std::string_view, 4> kEntryFields{"host_name", "iface", "ipv4_address",
                                                       "bpf_programs"};

/// One L3afBpfPrograms / L3afBpfProgramNames entry; `programs` decodes its bpf_programs.
template <class E, class Fn>
Status dec_entry(const Ctx& c, const Node& n, E& out, Fn&& programs) {
  Ctx ec = c;
  ec.iface = peek_string(n, "iface");
  if (ec.iface.empty()) ec.iface = out.iface;
  return dec_object(ec, "an array element", n, out, kEntryFields,
                    [&programs](const Ctx& s, std::size_t i, const Node& v, E& e) -> Status {
                      switch (i) {
                        case 0: return dec_string(s, "host_name", v, e.host_name);
                        case 1: return dec_string(s, "iface", v, e.iface);
                        case 2: return dec_string(s, "ipv4_address", v, e.ipv4_address);
                        default: return programs(s, v, e.bpf_programs);
                      }
                    });
}

template <class E, class Fn>
Result<std::vector<E>> dec_top_array(std::string_view body, Fn&& programs) {
  auto root = json::parse(body);
  if (!root) return tl::unexpected(json::to_error(root.error()));
  std::vector<E> out;
  if (root->kind == Kind::Null) return out;
  const Ctx top;
  if (root->kind != Kind::List) return type_error(top, "the request body", *root, "an array");
  auto st = dec_elements(top, *root, out, [&programs](const Ctx& s, const Node& v, E& e) {
    return dec_entry(s, v, e, programs);
  });
  if (!st) return tl::unexpected(std::move(st.error()));
  return out;
}

constexpr std::array<std::string_view, 2> kRestartFields{"hostname", "version"};

}  // namespace

Result<std::vector<L3afBpfPrograms>> decode_programs(std::string_view body) {
  return dec_top_array<L3afBpfPrograms>(body, dec_bpf_programs);
}

Result<std::vector<L3afBpfProgramNames>> decode_names(std::string_view body) {
  return dec_top_array<L3afBpfProgramNames>(body, dec_program_names);
}

Result<RestartConfig> decode_restart(std::string_view body) {
  auto root = json::parse(body);
  if (!root) return tl::unexpected(json::to_error(root.error()));
  RestartConfig out;
  auto st = dec_object(Ctx{}, "the request body", *root, out, kRestartFields,
                       [](const Ctx& s, std::size_t i, const Node& v, RestartConfig& r) -> Status {
                         if (i == 0) return dec_string(s, "hostname", v, r.hostname);
                         return dec_string(s, "version", v, r.version);
                       });
  if (!st) return tl::unexpected(std::move(st.error()));
  return out;
}

}  // namespace l3afd::model
