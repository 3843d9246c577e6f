// §4.8 rules. Every check appends an Issue; the error code is chosen at the end from the
// kinds present (payload > wrong host > unknown interface).
#include "model/validate.h"

#include "chain/limits.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>
#include <array>
#include <map>
#include <string_view>

#include "json/convert.h"
#include "model/companion.h"
#include "model/hook.h"

namespace l3afd::model {

namespace {

enum class Kind { Payload, Host, Iface };

struct Issue {
  Kind kind;
  ErrorItem item;
};

constexpr std::array<std::string_view, 3> kReservedIfaces{"links", "progs", "tc"};
constexpr std::array<std::string_view, 5> kProbeTypes{"kprobe", "kretprobe", "tracepoint", "uprobe",
                                                      "uretprobe"};

bool only_chars(std::string_view s, std::string_view extra) {
  return std::all_of(s.begin(), s.end(), [extra](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           extra.find(c) != std::string_view::npos;
  });
}

bool contains(std::string_view s, std::string_view needle) {
  return s.find(needle) != std::string_view::npos;
}

bool has_nul(std::string_view s) {
  return s.find('\0') != std::string_view::npos;
}

bool valid_name(std::string_view s) {
  return !s.empty() && s.size() <= 64 && only_chars(s, "._-") && s != "." && !contains(s, "..");
}

bool valid_version(std::string_view s) {
  return !s.empty() && s.size() <= 64 && only_chars(s, "._+-") && s != "." && !contains(s, "..");
}

bool valid_artifact(std::string_view s) {
  const auto ends = [s](std::string_view suffix) {
    return s.size() > suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
  };
  return !has_nul(s) && !contains(s, "/") && (ends(".tar.gz") || ends(".zip"));
}

/// A relative path that stays inside the package: no leading '/', no ".." component.
bool valid_relative_path(std::string_view s) {
  if (has_nul(s) || s.front() == '/') return false;
  std::size_t start = 0;
  while (start <= s.size()) {
    const std::size_t end = std::min(s.find('/', start), s.size());
    if (s.substr(start, end - start) == "..") return false;
    start = end + 1;
  }
  return true;
}

bool valid_map_name(std::string_view s) {
  return !s.empty() && s.size() <= 255 && only_chars(s, "_.") && s != "." && s != "..";
}

bool valid_function_name(std::string_view s) {
  return !s.empty() && s.size() <= 255 && only_chars(s, "_");
}

/// Linux dev_valid_name plus NUL: 1-15 bytes, not . or .., no '/', ':' or whitespace.
bool valid_iface(std::string_view s) {
  if (s.empty() || s.size() > 15 || s == "." || s == "..") return false;
  return std::none_of(s.begin(), s.end(), [](char c) {
    return c == '/' || c == ':' || c == '\0' || c == ' ' || c == '\t' || c == '\n' || c == '\r' ||
           c == '\v' || c == '\f';
  });
}

bool reserved_iface(std::string_view s) {
  return std::find(kReservedIfaces.begin(), kReservedIfaces.end(), s) != kReservedIfaces.end();
}

bool value_has_nul(const json::Value& v) {
  if (const auto* s = std::get_if<std::string>(&v.v)) return has_nul(*s);
  if (const auto* a = std::get_if<json::Array>(&v.v)) {
    return std::any_of(a->begin(), a->end(), [](const json::Value& e) { return value_has_nul(e); });
  }
  if (const auto* o = std::get_if<json::Object>(&v.v)) {
    return std::any_of(o->begin(), o->end(), [](const auto& kv) {
      return has_nul(kv.first) || value_has_nul(kv.second);
    });
  }
  return false;
}

/// Longest dotted-quad IPv4 address ("255.255.255.255").
constexpr std::size_t kMaxIpv4Length = 15;

/// At most the first 20 bytes of `s`, quoted, non-printable bytes as '?' and "..." when cut:
/// an error message never echoes a huge or binary value.
std::string quote_short(std::string_view s) {
  constexpr std::size_t kMax = 20;
  std::string out = "\"";
  for (char c : s.substr(0, kMax)) out += (c >= 0x20 && c < 0x7f) ? c : '?';
  out += s.size() > kMax ? "\"..." : "\"";
  return out;
}

class Checker {
 public:
  explicit Checker(const ValidationContext& ctx) : ctx_(ctx) {}

  void add(Kind k, std::string iface, std::string_view dir, std::string program, std::string field,
           std::string message) {
    issues_.push_back({k, ErrorItem{.iface = std::move(iface),
                                    .direction = std::string(dir),
                                    .program = std::move(program),
                                    .field = std::move(field),
                                    .message = std::move(message)}});
  }

  bool is_root_name(std::string_view name) const {
    return std::find(ctx_.root_names.begin(), ctx_.root_names.end(), name) != ctx_.root_names.end();
  }

  /// host_name, iface syntax and (when `need_iface`) presence.
  void check_entry_header(const std::string& host, const std::string& iface,
                          const std::string& ipv4, const std::string& ptr, bool need_iface) {
    if (host != ctx_.host_name) {
      add(Kind::Host, iface, "", "", ptr + "/host_name",
          "host_name \"" + host + "\" is not this host \"" + ctx_.host_name + "\"");
    }
    if (!valid_iface(iface)) {
      add(Kind::Payload, iface, "", "", ptr + "/iface",
          "iface must be 1-15 characters without '/', ':', whitespace or NUL, not . or ..");
    } else if (reserved_iface(iface)) {
      add(Kind::Payload, iface, "", "", ptr + "/iface",
          "iface must not be links, progs or tc (bpffs pin layout)");
    } else if (need_iface && ctx_.iface_state) {
      const IfaceState st = ctx_.iface_state(iface);
      if (st == IfaceState::Missing) {
        add(Kind::Iface, iface, "", "", ptr + "/iface", "interface " + iface + " does not exist");
      } else if (st == IfaceState::Loopback) {
        add(Kind::Iface, iface, "", "", ptr + "/iface",
            "interface " + iface + " is a loopback interface");
      }
    }
    if (auto why = ipv4_address_problem(ipv4); !why.empty()) {
      add(Kind::Payload, iface, "", "", ptr + "/ipv4_address", std::move(why));
    }
  }

  void check_name(const std::string& name, const std::string& iface, std::string_view dir,
                  const std::string& field) {
    if (!valid_name(name)) {
      add(Kind::Payload, iface, dir, name, field,
          "name must be 1-64 characters of [A-Za-z0-9._-], not . or .. and without ..");
    } else if (is_root_name(name)) {
      add(Kind::Payload, iface, dir, name, field, "name must not be a root package name");
    }
  }

  void check_program(const BpfProgram& p, const std::string& iface, std::optional<Hook> hook,
                     const std::string& ptr) {
    const std::string_view dir = hook ? direction(*hook) : std::string_view();
    const auto bad = [&](std::string_view field, std::string message) {
      add(Kind::Payload, iface, dir, p.name, ptr + "/" + std::string(field), std::move(message));
    };
    check_name(p.name, iface, dir, ptr + "/name");
    if (!valid_version(p.version)) {
      bad("version", "version must be 1-64 characters of [A-Za-z0-9._+-] without ..");
    }
    if (!valid_artifact(p.artifact)) {
      bad("artifact", "artifact must be a file name (no '/') ending in .tar.gz or .zip");
    }
    if (const auto& u = p.ebpf_package_repo_url; !u.empty() && !u.starts_with("file://") &&
                                                 !u.starts_with("http://") &&
                                                 !u.starts_with("https://")) {
      bad("ebpf_package_repo_url",
          "unknown url scheme: the repository must be file://, http:// or https://");
    }
    const std::array<std::pair<std::string_view, const std::string*>, 7> paths{{
        {"cmd_start", &p.cmd_start},
        {"cmd_stop", &p.cmd_stop},
        {"cmd_status", &p.cmd_status},
        {"cmd_config", &p.cmd_config},
        {"cmd_update", &p.cmd_update},
        {"object_file", &p.object_file},
        {"rules_file", &p.rules_file},
    }};
    for (const auto& [field, value] : paths) {
      if (!value->empty() && !valid_relative_path(*value)) {
        bad(field, std::string(field) +
                       " must be a relative path inside the package (no leading '/', no .. "
                       "component, no NUL)");
      }
    }
    if (hook) {
      // Under chaining an empty map_name is allowed for the last program of a hook only; the
      // planner checks the position against the resulting chain (docs/chain-protocol.md §1.1).
      if (!p.map_name.empty() && !valid_map_name(p.map_name)) {
        bad("map_name", "map_name must be 1-255 characters of [A-Za-z0-9_.], not . or ..");
      }
      if (!p.object_file.empty() && p.entry_function_name.empty()) {
        bad("entry_function_name", "entry_function_name is required when object_file is set");
      }
    }
    if (!p.entry_function_name.empty() && !valid_function_name(p.entry_function_name)) {
      bad("entry_function_name", "entry_function_name must be 1-255 characters of [A-Za-z0-9_]");
    }
    if (p.admin_status != "enabled" && p.admin_status != "disabled") {
      bad("admin_status", "admin_status must be exactly enabled or disabled");
    }
    if (hook) {
      if (p.prog_type != prog_type(*hook)) {
        bad("prog_type", "prog_type must be " + std::string(prog_type(*hook)) + " in " +
                             std::string(json_key(*hook)));
      }
    } else if (std::find(kProbeTypes.begin(), kProbeTypes.end(), p.prog_type) ==
               kProbeTypes.end()) {
      bad("prog_type",
          "prog_type of a probe must be kprobe, kretprobe, tracepoint, uprobe or uretprobe");
    }
    for (const auto& [field, value] :
         std::array<std::pair<std::string_view, const std::string*>, 3>{
             {{"rules", &p.rules},
              {"config_file_path", &p.config_file_path},
              {"ebpf_package_repo_url", &p.ebpf_package_repo_url}}}) {
      if (has_nul(*value)) bad(field, std::string(field) + " must not contain NUL");
    }
    check_args(p, iface, dir, ptr);
    check_maps(p, iface, dir, ptr);
    check_companion(p, iface, dir, ptr);
  }

  /// The extension (model/companion.h): only beside a cmd_start, and every member resolvable
  /// now (user and group exist, capabilities known to this kernel, environment within bounds).
  void check_companion(const BpfProgram& p, const std::string& iface, std::string_view dir,
                       const std::string& ptr) {
    if (!p.companion) return;
    const std::string at = ptr + "/companion";
    if (p.cmd_start.empty()) {
      add(Kind::Payload, iface, dir, p.name, at,
          "companion confines the program's companion commands: it needs cmd_start");
    }
    auto resolved = resolve_companion(*p.companion);
    if (resolved) return;
    for (const ErrorItem& item : resolved.error().items) {
      add(Kind::Payload, iface, dir, p.name, at + "/" + item.field, item.message);
    }
  }

  void check_args(const BpfProgram& p, const std::string& iface, std::string_view dir,
                  const std::string& ptr) {
    const std::array<std::pair<std::string_view, const Args*>, 5> all{
        {{"start_args", &p.start_args},
         {"stop_args", &p.stop_args},
         {"status_args", &p.status_args},
         {"update_args", &p.update_args},
         {"config_args", &p.config_args}}};
    for (const auto& [field, args] : all) {
      if (!*args) continue;
      const bool strings_only = field != "config_args";
      for (const auto& [key, value] : **args) {
        const std::string at = ptr + "/" + std::string(field) + "/" + json::pointer_token(key);
        if (strings_only && !std::holds_alternative<std::string>(value.v)) {
          add(Kind::Payload, iface, dir, p.name, at,
              "values of " + std::string(field) + " must be strings");
        } else if (has_nul(key) || value_has_nul(value)) {
          add(Kind::Payload, iface, dir, p.name, at, std::string(field) + " must not contain NUL");
        }
      }
    }
  }

  void check_maps(const BpfProgram& p, const std::string& iface, std::string_view dir,
                  const std::string& ptr) {
    const std::string kMapRule = "must be 1-255 characters of [A-Za-z0-9_.], not . or ..";
    if (p.map_args) {
      for (std::size_t i = 0; i < p.map_args->size(); ++i) {
        if (!valid_map_name((*p.map_args)[i].name)) {
          add(Kind::Payload, iface, dir, p.name, ptr + "/map_args/" + std::to_string(i) + "/name",
              "map_args name " + kMapRule);
        }
      }
    }
    if (p.monitor_maps) {
      for (std::size_t i = 0; i < p.monitor_maps->size(); ++i) {
        const MonitorMap& m = (*p.monitor_maps)[i];
        const std::string at = ptr + "/monitor_maps/" + std::to_string(i);
        if (!valid_map_name(m.name)) {
          add(Kind::Payload, iface, dir, p.name, at + "/name", "monitor_maps name " + kMapRule);
        }
        if (m.aggregator != "scalar" && m.aggregator != "max-rate" && m.aggregator != "avg") {
          add(Kind::Payload, iface, dir, p.name, at + "/aggregator",
              "aggregator must be scalar, max-rate or avg");
        }
        if (m.key_end) {
          if (m.key < 0) {
            add(Kind::Payload, iface, dir, p.name, at + "/key",
                "key must not be negative when key_end is set");
          } else if (*m.key_end < m.key || *m.key_end - m.key >= kMaxMonitorKeys) {
            add(Kind::Payload, iface, dir, p.name, at + "/key_end",
                "key_end must be at least key and name at most " + std::to_string(kMaxMonitorKeys) +
                    " keys");
          }
        }
      }
    }
  }

  void check_hook(const std::vector<BpfProgram>& list, const std::string& iface, Hook hook,
                  const std::string& ptr) {
    const std::string_view dir = direction(hook);
    if (ctx_.chaining) {
      const auto enabled = std::count_if(list.begin(), list.end(), [](const BpfProgram& p) {
        return p.admin_status == "enabled";
      });
      if (static_cast<std::size_t>(enabled) > chain::kMaxChainLength) {
        add(Kind::Payload, iface, dir, "", ptr,
            "at most " + std::to_string(chain::kMaxChainLength) +
                " enabled programs per hook when chaining is enabled");
      }
    }
    std::map<std::int64_t, std::size_t> seen;
    for (std::size_t i = 0; i < list.size(); ++i) {
      const BpfProgram& p = list[i];
      const std::string at = ptr + "/" + std::to_string(i);
      check_program(p, iface, hook, at);
      if (!ctx_.chaining) continue;
      if (p.seq_id < 1) {
        add(Kind::Payload, iface, dir, p.name, at + "/seq_id",
            "seq_id must be >= 1 when chaining is enabled");
      } else if (!seen.emplace(p.seq_id, i).second) {
        add(Kind::Payload, iface, dir, p.name, at + "/seq_id",
            "seq_id " + std::to_string(p.seq_id) + " is used by another program of this hook");
      }
    }
  }

  /// A probe's map directory is B/<name>/: it must not be a (requested or existing)
  /// interface name nor one of the top-level pin directories.
  void check_probe_name(const BpfProgram& p, const std::string& iface, const std::string& at,
                        const std::vector<std::string>& request_ifaces) {
    if (!valid_name(p.name)) return;  // already reported
    const bool is_iface =
        std::find(request_ifaces.begin(), request_ifaces.end(), p.name) != request_ifaces.end() ||
        (ctx_.iface_state && ctx_.iface_state(p.name) != IfaceState::Missing);
    if (is_iface || reserved_iface(p.name)) {
      add(Kind::Payload, iface, "", p.name, at + "/name",
          "probe name must not be an interface name or links, progs or tc (bpffs pin layout)");
    }
  }

  Status finish() const {
    if (issues_.empty()) return ok();
    const auto has = [this](Kind k) {
      return std::any_of(issues_.begin(), issues_.end(),
                         [k](const Issue& i) { return i.kind == k; });
    };
    const Kind kind = has(Kind::Payload) ? Kind::Payload
                      : has(Kind::Host)  ? Kind::Host
                                         : Kind::Iface;
    Error e;
    e.code = kind == Kind::Payload ? Errc::InvalidPayload
             : kind == Kind::Host  ? Errc::WrongHost
                                   : Errc::UnknownInterface;
    const auto first = std::find_if(issues_.begin(), issues_.end(),
                                    [kind](const Issue& i) { return i.kind == kind; });
    e.message = first->item.field + ": " + first->item.message;
    if (issues_.size() > 1) {
      e.message += " (and " + std::to_string(issues_.size() - 1) + " more problems)";
    }
    for (const Issue& i : issues_) e.items.push_back(i.item);
    return tl::unexpected(std::move(e));
  }

 private:
  const ValidationContext& ctx_;
  std::vector<Issue> issues_;
};

}  // namespace

// ipv4_address rule (issue 8): empty (the field is optional, as in the reference), or an
/// IPv4 address as inet_pton(AF_INET) accepts it: exactly four decimal numbers 0-255 without
/// leading zeros, separated by '.', nothing else (no spaces, no prefix length, no IPv6), so at
/// most 15 characters. Returns the reason when the value is refused, empty when it is fine.
std::string ipv4_address_problem(std::string_view v) {
  if (v.empty()) return "";
  if (v.size() > kMaxIpv4Length) {
    return "ipv4_address must be an IPv4 address a.b.c.d or empty: " + std::to_string(v.size()) +
           " characters (at most " + std::to_string(kMaxIpv4Length) + ")";
  }
  in_addr addr{};
  const std::string text(v);  // inet_pton needs a terminated string; an inner NUL fails below
  if (has_nul(v) || ::inet_pton(AF_INET, text.c_str(), &addr) != 1) {
    return "ipv4_address must be an IPv4 address a.b.c.d (each 0-255) or empty, not " +
           quote_short(v);
  }
  return "";
}

Status validate_programs(const std::vector<L3afBpfPrograms>& request,
                         const ValidationContext& ctx) {
  Checker c(ctx);
  std::vector<std::string> ifaces;
  for (const auto& e : request) ifaces.push_back(e.iface);
  for (std::size_t i = 0; i < request.size(); ++i) {
    const L3afBpfPrograms& e = request[i];
    const std::string ptr = "/" + std::to_string(i);
    c.check_entry_header(e.host_name, e.iface, e.ipv4_address, ptr, true);
    if (!e.bpf_programs) {
      c.add(Kind::Payload, e.iface, "", "", ptr + "/bpf_programs", "bpf_programs must not be null");
      continue;
    }
    const BpfPrograms& b = *e.bpf_programs;
    const std::array<const std::optional<std::vector<BpfProgram>>*, 3> lists{
        &b.xdp_ingress, &b.tc_ingress, &b.tc_egress};
    for (std::size_t h = 0; h < kAllHooks.size(); ++h) {
      if (*lists[h]) {
        c.check_hook(**lists[h], e.iface, kAllHooks[h],
                     ptr + "/bpf_programs/" + std::string(json_key(kAllHooks[h])));
      }
    }
    if (b.probes) {
      for (std::size_t k = 0; k < b.probes->size(); ++k) {
        const std::string at = ptr + "/bpf_programs/probes/" + std::to_string(k);
        c.check_program((*b.probes)[k], e.iface, std::nullopt, at);
        c.check_probe_name((*b.probes)[k], e.iface, at, ifaces);
      }
    }
  }
  return c.finish();
}

Status validate_names(const std::vector<L3afBpfProgramNames>& request,
                      const ValidationContext& ctx) {
  Checker c(ctx);
  for (std::size_t i = 0; i < request.size(); ++i) {
    const L3afBpfProgramNames& e = request[i];
    const std::string ptr = "/" + std::to_string(i);
    c.check_entry_header(e.host_name, e.iface, e.ipv4_address, ptr, false);
    if (!e.bpf_programs) continue;
    const BpfProgramNames& b = *e.bpf_programs;
    const std::array<std::pair<std::string_view, const std::optional<std::vector<std::string>>*>, 4>
        lists{{{"xdp_ingress", &b.xdp_ingress},
               {"tc_ingress", &b.tc_ingress},
               {"tc_egress", &b.tc_egress},
               {"probes", &b.probes}}};
    for (std::size_t h = 0; h < lists.size(); ++h) {
      const auto& [key, list] = lists[h];
      if (!*list) continue;
      const std::string_view dir = h < 3 ? direction(kAllHooks[h]) : std::string_view();
      for (std::size_t k = 0; k < (*list)->size(); ++k) {
        c.check_name((**list)[k], e.iface, dir,
                     ptr + "/bpf_programs/" + std::string(key) + "/" + std::to_string(k));
      }
    }
  }
  return c.finish();
}

}  // namespace l3afd::model
