#include "api/dry_run.h"

#include "json/encode.h"

namespace l3afd::api {

namespace {

void append_steps(std::string& out, const std::vector<engine::Step>& steps) {
  out += '[';
  for (std::size_t i = 0; i < steps.size(); ++i) {
    if (i > 0) out += ',';
    out += "\n    {\"label\":";
    json::append_string(out, steps[i].label);
    out += ",\"action\":";
    json::append_string(out, engine::action_kind(steps[i].forward));
    out += ",\"detail\":";
    json::append_string(out, engine::describe(steps[i].forward));
    out += '}';
  }
  out += steps.empty() ? "]" : "\n  ]";
}

}  // namespace

bool wants_dry_run(std::string_view query) {
  while (!query.empty()) {
    const auto amp = query.find('&');
    const std::string_view param = query.substr(0, amp);
    if (param == "dry_run=1" || param == "dry_run=true") return true;
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return false;
}

std::string encode_preview(const engine::PlanPreview& p) {
  std::string out = "{\n  \"dry_run\": true,\n  \"steps\": ";
  append_steps(out, p.steps);
  out += ",\n  \"release\": ";
  append_steps(out, p.release);
  out += "\n}\n";
  return out;
}

}  // namespace l3afd::api
