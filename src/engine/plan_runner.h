// PlanRunner: runs a plan's steps in order through the Executor, keeping an undo stack.
// On the first failure it runs the undo actions in reverse order, logs (and skips past) any
// undo that fails, and returns the original error with `step` set to the failing step's label.
#pragma once

#include <vector>

#include "engine/action.h"
#include "engine/executor.h"

namespace l3afd::engine {

/// Runs all steps or none. Returns the outputs, index-aligned with `steps`.
Result<std::vector<Output>> run_plan(const std::vector<Step>& steps, Executor& ex);

/// Runs release steps after a commit: the data path is already correct, so a failure is
/// logged and reported in the returned list, never rolled back (chaining.md §4.5).
std::vector<Error> run_release(const std::vector<Step>& steps, Executor& ex);

}  // namespace l3afd::engine
