#include "engine/tracing.h"

#include <cstdint>

#include "core/log.h"
#include "core/usdt.h"

namespace l3afd::engine {

namespace {

std::int64_t ns(std::chrono::nanoseconds d) {
  return static_cast<std::int64_t>(d.count());
}

/// The op id as a NUL-terminated copy owned by the caller (the probe reads it from there).
std::string op_id() {
  return std::string(log::current_request_id());
}

}  // namespace

std::string step_target(const Step& step) {
  std::string out;
  for (const std::string* part :
       {&step.subject.iface, &step.subject.direction, &step.subject.program}) {
    if (part->empty()) continue;
    if (!out.empty()) out += '/';
    out += *part;
  }
  return out.empty() ? step.label : out;
}

void trace_op_start(std::string_view command_kind) {
  const std::string id = op_id();
  const std::string kind(command_kind);
  L3AFD_USDT(op_start, id.c_str(), kind.c_str());
}

void trace_op_done(std::string_view command_kind, bool ok, std::chrono::nanoseconds took) {
  const std::string id = op_id();
  const std::string kind(command_kind);
  const int ok_flag = ok ? 1 : 0;
  const std::int64_t duration_ns = ns(took);
  L3AFD_USDT(op_done, id.c_str(), kind.c_str(), ok_flag, duration_ns);
}

void trace_plan_step(std::size_t index, const Step& step, bool ok, std::chrono::nanoseconds took) {
  const std::string id = op_id();
  const std::string kind(action_kind(step.forward));
  const std::string target = step_target(step);
  const auto step_index = static_cast<std::uint64_t>(index);
  const int ok_flag = ok ? 1 : 0;
  const std::int64_t duration_ns = ns(took);
  L3AFD_USDT(plan_step, id.c_str(), step_index, kind.c_str(), target.c_str(), ok_flag, duration_ns);
}

void trace_rollback(std::size_t steps_undone, bool ok, std::chrono::nanoseconds took) {
  const std::string id = op_id();
  const auto undone = static_cast<std::uint64_t>(steps_undone);
  const int ok_flag = ok ? 1 : 0;
  const std::int64_t duration_ns = ns(took);
  L3AFD_USDT(rollback, id.c_str(), undone, ok_flag, duration_ns);
}

}  // namespace l3afd::engine
