#include "engine/plan_runner.h"

#include <spdlog/spdlog.h>

#include <chrono>

#include "engine/failure.h"
#include "engine/tracing.h"

namespace l3afd::engine {

namespace {

using Clock = std::chrono::steady_clock;

double ms_since(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

/// Runs the undo stack in reverse; an undo that fails is logged and skipped. Then fires the
/// `rollback` probe (ok when every undo action succeeded), also when the stack was empty.
void roll_back(const std::vector<std::vector<Action>>& undo_stack,
               const std::vector<Output>& outputs, StepExecutor& ex) {
  const auto begin = Clock::now();
  bool all_ok = true;
  std::size_t n = 0;
  for (auto it = undo_stack.rbegin(); it != undo_stack.rend(); ++it) {
    for (const auto& u : *it) {
      const auto start = Clock::now();
      auto r = ex.execute(u, outputs);
      ++n;
      if (!r) {
        all_ok = false;
        spdlog::error("rollback action '{}' failed: {}", describe(u), r.error().to_string());
      } else {
        spdlog::debug("rollback {} '{}' done in {:.2f} ms", n, describe(u), ms_since(start));
      }
    }
  }
  trace_rollback(undo_stack.size(), all_ok, Clock::now() - begin);
}

}  // namespace

Result<std::vector<Output>> run_plan(const std::vector<Step>& steps, StepExecutor& ex) {
  std::vector<Output> outputs;
  outputs.reserve(steps.size());
  std::vector<std::vector<Action>> undo_stack;
  for (const auto& step : steps) {
    const auto start = Clock::now();
    auto done = ex.execute(step.forward, outputs);
    trace_plan_step(outputs.size() + 1, step, static_cast<bool>(done), Clock::now() - start);
    if (!done) {
      Error err = attribute_failure(std::move(done.error()), step);
      spdlog::warn("step {}/{} '{}' failed after {:.2f} ms: {}; rolling back {} step(s)",
                   outputs.size() + 1, steps.size(), step.label, ms_since(start), err.to_string(),
                   undo_stack.size());
      roll_back(undo_stack, outputs, ex);
      return fail(std::move(err));
    }
    spdlog::debug("step {}/{} '{}' done in {:.2f} ms", outputs.size() + 1, steps.size(), step.label,
                  ms_since(start));
    outputs.push_back(std::move(done->output));
    undo_stack.push_back(std::move(done->undo));
  }
  return outputs;
}

std::vector<Error> run_release(const std::vector<Step>& steps, StepExecutor& ex) {
  std::vector<Error> errors;
  std::vector<Output> none;
  for (std::size_t i = 0; i < steps.size(); ++i) {
    const auto start = Clock::now();
    auto done = ex.execute(steps[i].forward, none);
    if (!done) {
      Error err = std::move(done.error());
      err.step = steps[i].label;
      spdlog::error("release step '{}' failed (left behind): {}", steps[i].label, err.to_string());
      errors.push_back(std::move(err));
      continue;
    }
    spdlog::debug("release {}/{} '{}' done in {:.2f} ms", i + 1, steps.size(), steps[i].label,
                  ms_since(start));
  }
  return errors;
}

}  // namespace l3afd::engine
