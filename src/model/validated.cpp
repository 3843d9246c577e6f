#include "model/validated.h"

#include <string>

#include "model/hook.h"

namespace l3afd::model {

namespace {

std::string pointer(std::size_t entry, Hook h, std::size_t i, const char* field) {
  return "/" + std::to_string(entry) + "/bpf_programs/" + std::string(json_key(h)) + "/" +
         std::to_string(i) + "/" + field;
}

void check_entry(const L3afBpfPrograms& e, std::size_t idx, std::vector<ErrorItem>& out) {
  if (!e.bpf_programs) return;
  if (e.bpf_programs->probes && !e.bpf_programs->probes->empty()) {
    out.push_back({.iface = e.iface,
                   .field = "/" + std::to_string(idx) + "/bpf_programs/probes",
                   .message = "probes are not supported by this version of l3afd"});
  }
  for (Hook h : kAllHooks) {
    const auto& list = e.bpf_programs->of(h);
    if (!list) continue;
    for (std::size_t i = 0; i < list->size(); ++i) {
      const auto& p = (*list)[i];
      if (p.admin_status != "enabled") continue;
      const std::string dir(direction(h));
      if (!p.cmd_start.empty()) {
        out.push_back(
            {.iface = e.iface,
             .direction = dir,
             .program = p.name,
             .field = pointer(idx, h, i, "cmd_start"),
             .message = "user programs (cmd_start) are not supported by this version of l3afd"});
      }
      if (p.object_file.empty()) {
        out.push_back({.iface = e.iface,
                       .direction = dir,
                       .program = p.name,
                       .field = pointer(idx, h, i, "object_file"),
                       .message =
                           "object_file is required: this version of l3afd loads every program "
                           "itself"});
      }
    }
  }
}

}  // namespace

Status check_supported(const std::vector<L3afBpfPrograms>& request) {
  std::vector<ErrorItem> items;
  for (std::size_t i = 0; i < request.size(); ++i) check_entry(request[i], i, items);
  if (items.empty()) return ok();
  Error e{.code = Errc::InvalidPayload, .message = items.front().message, .items = items};
  if (items.size() > 1) e.message += " (and " + std::to_string(items.size() - 1) + " more)";
  return fail(std::move(e));
}

Result<ValidPrograms> accept_programs(std::vector<L3afBpfPrograms> request,
                                      const ValidationContext& ctx) {
  if (auto v = validate_programs(request, ctx); !v) return fail(std::move(v.error()));
  if (auto s = check_supported(request); !s) return fail(std::move(s.error()));
  return ValidPrograms(std::move(request));
}

Result<ValidNames> accept_names(std::vector<L3afBpfProgramNames> request,
                                const ValidationContext& ctx) {
  if (auto v = validate_names(request, ctx); !v) return fail(std::move(v.error()));
  return ValidNames(std::move(request));
}

}  // namespace l3afd::model
