// step_target, the `target` argument of the plan_step USDT probe (docs/tracing.md): the step's
// program as <iface>/<direction>/<program> without empty parts, else the step's label.
#include <gtest/gtest.h>

#include "engine/tracing.h"

namespace l3afd::testing {
namespace {

engine::Step step(std::string label, ErrorItem subject) {
  return engine::Step{std::move(label), engine::CommitState{}, std::move(subject)};
}

TEST(StepTarget, NamesTheStepsProgramByItsHook) {
  EXPECT_EQ(
      engine::step_target(step("attach fw on eth0 xdpingress",
                               {.iface = "eth0", .direction = "xdpingress", .program = "fw"})),
      "eth0/xdpingress/fw");
}

TEST(StepTarget, LeavesEmptyPartsOut) {
  // A chain step of the hook itself, and a probe (no interface, no direction).
  EXPECT_EQ(engine::step_target(
                step("unlink on eth0 ingress", {.iface = "eth0", .direction = "ingress"})),
            "eth0/ingress");
  EXPECT_EQ(engine::step_target(step("load probes of p", {.program = "p"})), "p");
}

TEST(StepTarget, IsTheLabelWhenTheStepWorksForNoProgram) {
  EXPECT_EQ(engine::step_target(step("commit state", {})), "commit state");
}

}  // namespace
}  // namespace l3afd::testing
