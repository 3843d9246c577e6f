// PlanRunner: runs a plan's steps in order through a StepExecutor, keeping an undo stack.
// On the first failure it runs the undo actions in reverse order, logs (and skips past) any
// undo that fails, and returns the original error attributed to the failing step (failure.h).
// Every step, undo and release is logged at debug level with its duration. Each step of
// run_plan fires the `plan_step` USDT probe after it ran, and a failed plan fires `rollback`
// after its undo stack ran (engine/tracing.h, docs/tracing.md); release steps fire nothing.
#pragma once

#include <vector>

#include "engine/action.h"
#include "engine/step_executor.h"

namespace l3afd::engine {

/// Runs all steps or none. Returns the outputs, index-aligned with `steps`.
Result<std::vector<Output>> run_plan(const std::vector<Step>& steps, StepExecutor& ex);

/// Runs release steps after a commit: the data path is already correct, so a failure is
/// logged and reported in the returned list, never rolled back (docs/chain-protocol.md §4.5).
std::vector<Error> run_release(const std::vector<Step>& steps, StepExecutor& ex);

}  // namespace l3afd::engine
