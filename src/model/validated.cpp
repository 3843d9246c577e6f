#include "model/validated.h"

#include <string>

#include "model/hook.h"

namespace l3afd::model {

namespace {

std::string pointer(std::size_t entry, Hook h, std::size_t i, const char* field) {
  return "/" + std::to_string(entry) + "/bpf_programs/" + std::string(json_key(h)) + "/" +
         std::to_string(i) + "/" + field;
}

void check_companion(const BpfProgram& p, const std::string& iface, const std::string& dir,
                     const std::function<std::string(const char*)>& at,
                     const ValidationContext& ctx, std::vector<ErrorItem>& out) {
  auto add = [&](const char* field, std::string message) {
    out.push_back({.iface = iface,
                   .direction = dir,
                   .program = p.name,
                   .field = at(field),
                   .message = std::move(message)});
  };
  if (!ctx.companions) {
    if (!p.cmd_start.empty()) {
      add("cmd_start", "user programs (cmd_start) are not supported by this daemon");
    }
    if (p.object_file.empty()) {
      add("object_file", "object_file is required: this daemon loads every program itself");
    }
    return;
  }
  if (p.object_file.empty() && p.cmd_start.empty()) {
    add("object_file",
        "object_file is required unless cmd_start names a binary that loads the program itself");
  }
  if (p.object_file.empty() && ctx.chaining && p.map_name.empty()) {
    add("map_name",
        "a self-loading program (object_file empty) needs map_name under chaining: its binary "
        "pins its next array there and the daemon chains it through that array");
  }
  if (p.object_file.empty() && !ctx.chaining && p.map_args && !p.map_args->empty()) {
    add("map_args",
        "map_args need an object the daemon loads or takes over: without bpf-chaining-enabled a "
        "self-loading program (object_file empty) keeps its maps to itself");
  }
}

void check_entry(const L3afBpfPrograms& e, std::size_t idx, const ValidationContext& ctx,
                 std::vector<ErrorItem>& out) {
  if (!e.bpf_programs) return;
  if (e.bpf_programs->probes) {
    const auto& probes = *e.bpf_programs->probes;
    for (std::size_t k = 0; k < probes.size(); ++k) {
      const auto& p = probes[k];
      if (p.admin_status != "enabled") continue;
      const std::string at =
          "/" + std::to_string(idx) + "/bpf_programs/probes/" + std::to_string(k);
      if (p.object_file.empty()) {
        out.push_back({.iface = e.iface,
                       .program = p.name,
                       .field = at + "/object_file",
                       .message = "a probe needs object_file: its programs are attached from "
                                  "their section names"});
      }
      if (!p.cmd_start.empty()) {
        out.push_back({.iface = e.iface,
                       .program = p.name,
                       .field = at + "/cmd_start",
                       .message = "user programs of probes (cmd_start) are not supported by "
                                  "this daemon"});
      }
    }
  }
  for (Hook h : kAllHooks) {
    const auto& list = e.bpf_programs->of(h);
    if (!list) continue;
    for (std::size_t i = 0; i < list->size(); ++i) {
      const auto& p = (*list)[i];
      if (p.admin_status != "enabled") continue;
      check_companion(
          p, e.iface, std::string(direction(h)),
          [&](const char* field) { return pointer(idx, h, i, field); }, ctx, out);
    }
  }
}

}  // namespace

Status check_supported(const std::vector<L3afBpfPrograms>& request, const ValidationContext& ctx) {
  std::vector<ErrorItem> items;
  for (std::size_t i = 0; i < request.size(); ++i) check_entry(request[i], i, ctx, items);
  if (items.empty()) return ok();
  Error e{.code = Errc::InvalidPayload, .message = items.front().message, .items = items};
  if (items.size() > 1) e.message += " (and " + std::to_string(items.size() - 1) + " more)";
  return fail(std::move(e));
}

Result<ValidPrograms> accept_programs(std::vector<L3afBpfPrograms> request,
                                      const ValidationContext& ctx) {
  if (auto v = validate_programs(request, ctx); !v) return fail(std::move(v.error()));
  if (auto s = check_supported(request, ctx); !s) return fail(std::move(s.error()));
  return ValidPrograms(std::move(request));
}

Result<ValidNames> accept_names(std::vector<L3afBpfProgramNames> request,
                                const ValidationContext& ctx) {
  if (auto v = validate_names(request, ctx); !v) return fail(std::move(v.error()));
  return ValidNames(std::move(request));
}

}  // namespace l3afd::model
