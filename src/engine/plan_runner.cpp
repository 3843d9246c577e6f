#include "engine/plan_runner.h"

#include <spdlog/spdlog.h>

namespace l3afd::engine {

Result<std::vector<Output>> run_plan(const std::vector<Step>& steps, Executor& ex) {
  std::vector<Output> outputs;
  outputs.reserve(steps.size());
  std::vector<std::vector<Action>> undo_stack;
  for (const auto& step : steps) {
    spdlog::debug("step {}: {}", outputs.size() + 1, describe(step.forward));
    auto done = ex.execute(step.forward, outputs);
    if (!done) {
      Error err = std::move(done.error());
      err.step = step.label;
      for (auto& item : err.items) {
        if (item.iface.empty()) item.iface = step.subject.iface;
        if (item.direction.empty()) item.direction = step.subject.direction;
        if (item.program.empty()) item.program = step.subject.program;
      }
      spdlog::warn("step '{}' failed: {}; rolling back {} step(s)", step.label, err.to_string(),
                   undo_stack.size());
      for (auto it = undo_stack.rbegin(); it != undo_stack.rend(); ++it) {
        for (const auto& u : *it) {
          auto r = ex.execute(u, outputs);
          if (!r) {
            spdlog::error("rollback action '{}' failed: {}", describe(u), r.error().to_string());
          }
        }
      }
      return fail(std::move(err));
    }
    outputs.push_back(std::move(done->output));
    undo_stack.push_back(std::move(done->undo));
  }
  return outputs;
}

std::vector<Error> run_release(const std::vector<Step>& steps, Executor& ex) {
  std::vector<Error> errors;
  std::vector<Output> none;
  for (const auto& step : steps) {
    auto done = ex.execute(step.forward, none);
    if (!done) {
      Error err = std::move(done.error());
      err.step = step.label;
      spdlog::error("release step '{}' failed (left behind): {}", step.label, err.to_string());
      errors.push_back(std::move(err));
    }
  }
  return errors;
}

}  // namespace l3afd::engine
