// Executor: the one interpreter of Actions (a single std::visit). It performs the effect
// through the ports and returns the step's output plus the actions that undo exactly what it
// did. Thread-safety: engine thread only.
#pragma once

#include <chrono>
#include <vector>

#include "engine/action.h"
#include "engine/ports.h"
#include "engine/step_executor.h"
#include "kernel/kernel.h"

namespace l3afd::engine {

struct Effects {
  kernel::Kernel& kernel;
  PackageSource& packages;
  StateStore& store;
  /// Companion processes; null: a companion step fails with Unavailable.
  Companions* companions = nullptr;
  /// How long a one-shot companion (user_program_daemon false) may run (§11.2, Ours).
  std::chrono::milliseconds one_shot_timeout{60000};
};

class Executor final : public StepExecutor {
 public:
  explicit Executor(Effects effects) : fx_(effects) {}

  /// Performs `a` through the ports. Errors come from the ports unchanged (run_plan attributes
  /// them to the request, failure.h).
  Result<StepDone> execute(const Action& a, const std::vector<Output>& outputs) override;

 private:
  Effects fx_;
};

}  // namespace l3afd::engine
