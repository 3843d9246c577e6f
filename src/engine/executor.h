// Executor: the one interpreter of Actions (a single std::visit). It performs the effect
// through the ports and returns the step's output plus the actions that undo exactly what it
// did. Thread-safety: engine thread only.
#pragma once

#include <vector>

#include "engine/action.h"
#include "engine/ports.h"
#include "kernel/kernel.h"

namespace l3afd::engine {

struct Effects {
  kernel::Kernel& kernel;
  PackageSource& packages;
  StateStore& store;
};

class Executor {
 public:
  explicit Executor(Effects effects) : fx_(effects) {}

  struct Done {
    Output output;
    std::vector<Action> undo;  ///< run in order to revert this step
  };

  /// Performs `a`. `outputs` holds the outputs of the earlier steps of the same plan (for
  /// LoadObject's package_step). Errors come from the ports unchanged.
  Result<Done> execute(const Action& a, const std::vector<Output>& outputs);

 private:
  Effects fx_;
};

}  // namespace l3afd::engine
