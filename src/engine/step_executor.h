// The seam between plans and effects: run_plan drives any StepExecutor. Executor (executor.h)
// is the real one (kernel, package source, store); tests use recording doubles to check the
// runner's undo order without a kernel.
#pragma once

#include <vector>

#include "engine/action.h"

namespace l3afd::engine {

/// What one executed action did: its output and the actions that revert exactly that.
struct StepDone {
  Output output;
  std::vector<Action> undo;  ///< run in order to revert this step
};

class StepExecutor {
 public:
  virtual ~StepExecutor() = default;
  /// Performs `a`. `outputs` holds the outputs of the earlier steps of the same plan (what a
  /// StepRef names). Errors are the ports' errors unchanged; failure.h maps them to the request.
  virtual Result<StepDone> execute(const Action& a, const std::vector<Output>& outputs) = 0;
};

}  // namespace l3afd::engine
