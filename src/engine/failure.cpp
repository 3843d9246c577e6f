#include "engine/failure.h"

#include <string>
#include <type_traits>

namespace l3afd::engine {

namespace {

/// The payload field a failed action blames, or nullptr when the failure is not the request's.
const char* blamed_field(const Action& a, Errc code) {
  return std::visit(
      [code](const auto& x) -> const char* {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, FetchPackage>) {
          return code == Errc::NotFound ? "artifact" : nullptr;
        } else if constexpr (std::is_same_v<T, LoadObject>) {
          if (code == Errc::NotFound) return "entry_function_name";
          return code == Errc::InvalidPayload ? "object_file" : nullptr;
        } else if constexpr (std::is_same_v<T, ConfigureMaps>) {
          return code == Errc::InvalidPayload ? "map_args" : nullptr;
        } else if constexpr (std::is_same_v<T, CheckCompanion> ||
                             std::is_same_v<T, StartCompanion>) {
          // Companions::check names the exact member in its item; this is the fallback.
          return code == Errc::InvalidPayload ? "cmd_start" : nullptr;
        } else {
          return nullptr;
        }
      },
      a);
}

}  // namespace

Error attribute_failure(Error e, const Step& step) {
  if (const char* field = blamed_field(step.forward, e.code)) {
    e.code = Errc::InvalidPayload;
    if (e.items.empty()) e.items.push_back(ErrorItem{.field = field, .message = e.message});
  }
  e.step = step.label;
  for (auto& item : e.items) {
    if (item.iface.empty()) item.iface = step.subject.iface;
    if (item.direction.empty()) item.direction = step.subject.direction;
    if (item.program.empty()) item.program = step.subject.program;
  }
  return e;
}

void locate(Error& e, const std::vector<model::L3afBpfPrograms>& request) {
  for (auto& item : e.items) {
    if (item.field.empty() || item.field.front() == '/') continue;
    for (std::size_t i = 0; i < request.size(); ++i) {
      if (request[i].iface != item.iface || !request[i].bpf_programs) continue;
      for (model::Hook h : model::kAllHooks) {
        if (model::direction(h) != item.direction) continue;
        const auto& list = request[i].bpf_programs->of(h);
        if (!list) continue;
        for (std::size_t j = 0; j < list->size(); ++j) {
          if ((*list)[j].name != item.program) continue;
          item.field = "/" + std::to_string(i) + "/bpf_programs/" +
                       std::string(model::json_key(h)) + "/" + std::to_string(j) + "/" + item.field;
        }
      }
    }
  }
}

}  // namespace l3afd::engine
