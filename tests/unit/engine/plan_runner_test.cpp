// run_plan with a recording executor (no kernel): steps run in order, each later step sees the
// outputs its StepRef names, and a failure at step k runs the undo actions produced so far in
// exact reverse order and returns the failing step's label.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "engine/failure.h"
#include "engine/plan_runner.h"
#include "engine/planner.h"

namespace l3afd::testing {
namespace {

using engine::Action;
using engine::Output;
using engine::StepDone;

/// Records every action it runs (describe()), returns canned outputs (a package for a fetch, a
/// loaded object for a load), produces two undo actions per forward step, and fails the
/// forward step number `fail_at` (0-based) with `code`.
class RecordingExecutor final : public engine::StepExecutor {
 public:
  explicit RecordingExecutor(std::size_t fail_at, Errc code = Errc::Io)
      : fail_at_(fail_at), code_(code) {}

  Result<StepDone> execute(const Action& a, const std::vector<Output>& outputs) override {
    ran.push_back(engine::describe(a));
    if (std::holds_alternative<engine::UnloadObject>(a)) return StepDone{};  // an undo
    const std::size_t n = forward_++;
    if (n == fail_at_) return fail(code_, "injected");
    StepDone d;
    if (std::holds_alternative<engine::FetchPackage>(a)) d.output = engine::Package{"/pkg", true};
    if (const auto* load = std::get_if<engine::LoadObject>(&a)) {
      saw_package = engine::output_at(outputs, load->package) != nullptr;
      d.output = kernel::LoadedObject{};
    }
    d.undo = {engine::UnloadObject{"undo " + std::to_string(n) + "a"},
              engine::UnloadObject{"undo " + std::to_string(n) + "b"}};
    return d;
  }

  std::vector<std::string> ran;
  bool saw_package = false;

 private:
  std::size_t fail_at_;
  Errc code_;
  std::size_t forward_ = 0;
};

/// fetch, load (naming the fetch), seed, attach, commit.
engine::Plan sample_plan() {
  engine::Plan p;
  const ErrorItem subject{.iface = "eth0", .direction = "xdpingress", .program = "fw"};
  auto pkg = p.append("fetch package fw@1.0", engine::FetchPackage{{"file:///r", "fw", "1.0", "a"}},
                      subject);
  kernel::LoadSpec spec;
  spec.key = "k";
  spec.object_file = "fw.bpf.o";
  p.append("load fw", engine::LoadObject{spec, pkg}, subject);
  p.append("seed fw", engine::RunIterators{"k"}, subject);
  kernel::AttachSpec at;
  at.key = "k";
  at.iface = "eth0";
  p.append("attach fw", engine::Attach{at, std::nullopt}, subject);
  p.append("commit state", engine::CommitState{});
  return p;
}

TEST(PlanRunner, RunsEveryStepInOrderAndHandsLaterStepsTheirInputs) {
  auto plan = sample_plan();
  RecordingExecutor ex(99);
  auto out = engine::run_plan(plan.steps, ex);
  ASSERT_TRUE(out) << out.error().to_string();
  EXPECT_EQ(out->size(), plan.steps.size());
  EXPECT_TRUE(ex.saw_package);
  ASSERT_EQ(ex.ran.size(), plan.steps.size());
  for (std::size_t i = 0; i < plan.steps.size(); ++i) {
    EXPECT_EQ(ex.ran[i], engine::describe(plan.steps[i].forward));
  }
}

TEST(PlanRunner, FailureAtEveryStepUndoesWhatWasDoneInExactReverseOrder) {
  auto plan = sample_plan();
  for (std::size_t k = 0; k < plan.steps.size(); ++k) {
    SCOPED_TRACE("failing step " + std::to_string(k));
    RecordingExecutor ex(k);
    auto out = engine::run_plan(plan.steps, ex);
    ASSERT_FALSE(out);
    EXPECT_EQ(out.error().step, plan.steps[k].label);
    std::vector<std::string> expected;
    for (std::size_t i = 0; i <= k; ++i)
      expected.push_back(engine::describe(plan.steps[i].forward));
    for (std::size_t i = k; i-- > 0;) {
      expected.push_back("unload undo " + std::to_string(i) + "a");
      expected.push_back("unload undo " + std::to_string(i) + "b");
    }
    EXPECT_EQ(ex.ran, expected);
  }
}

TEST(PlanRunner, AFailureCausedByTheRequestNamesTheField) {
  auto plan = sample_plan();
  RecordingExecutor ex(0, Errc::NotFound);  // the package does not exist
  auto out = engine::run_plan(plan.steps, ex);
  ASSERT_FALSE(out);
  EXPECT_EQ(out.error().code, Errc::InvalidPayload);
  ASSERT_EQ(out.error().items.size(), 1u);
  EXPECT_EQ(out.error().items[0].field, "artifact");
  EXPECT_EQ(out.error().items[0].program, "fw");

  std::vector<model::L3afBpfPrograms> req(1);
  req[0].iface = "eth0";
  req[0].bpf_programs = model::BpfPrograms{};
  model::BpfProgram fw;
  fw.name = "fw";
  req[0].bpf_programs->xdp_ingress = std::vector<model::BpfProgram>{fw};
  Error e = out.error();
  engine::locate(e, req);
  EXPECT_EQ(e.items[0].field, "/0/bpf_programs/xdp_ingress/0/artifact");
}

TEST(PlanRunner, ReleaseFailuresAreReportedAndTheRestStillRuns) {
  engine::Plan p;
  p.release.push_back({"unload a", engine::CommitState{}});
  p.release.push_back({"unload b", engine::CommitState{}});
  RecordingExecutor ex(0);
  auto errors = engine::run_release(p.release, ex);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].step, "unload a");
  EXPECT_EQ(ex.ran.size(), 2u);
}

}  // namespace
}  // namespace l3afd::testing
