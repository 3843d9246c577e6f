// program_loaded() of the libbpf adapter (the health check's question, docs/compatibility.md
// §15) against the real kernel.
#include "kernel/libbpf/libbpf_kernel.h"
#include "kernel_fixture.h"

namespace l3afd::kernel::libbpf {
namespace {

using HealthTest = KernelTest;

TEST_F(HealthTest, ALoadedKeyIsLoadedUntilItIsUnloadedAndItsProgramIsGone) {
  EXPECT_FALSE(kernel_->program_loaded("k1")) << "unknown key";
  auto loaded = kernel_->load(xdp_spec("k1"));
  ASSERT_TRUE(loaded) << loaded.error().to_string();
  EXPECT_TRUE(kernel_->program_loaded("k1"));
  EXPECT_FALSE(kernel_->program_loaded("k2"));

  ASSERT_TRUE(kernel_->unload("k1"));
  EXPECT_FALSE(kernel_->program_loaded("k1"));
  EXPECT_TRUE(eventually([&] { return !kernel_->program_exists(loaded->prog_id); }))
      << "really gone from the kernel";
}

TEST_F(HealthTest, AnAdoptedProgramOutlivesItsPinsButIsReportedForTheMissingPin) {
  // The previous run loaded and pinned the program; this run adopts it from the pins.
  const LoadSpec s = xdp_spec("prev");
  auto prev = kernel_->load(s);
  ASSERT_TRUE(prev) << prev.error().to_string();
  LibbpfKernel this_run;
  auto adopted = this_run.adopt(
      AdoptSpec{"k", s.entry_function, s.hook, s.map_pin_dir, s.prog_pin_path, s.private_map, {}});
  ASSERT_TRUE(adopted) << adopted.error().to_string();
  EXPECT_EQ(adopted->prog_id, prev->prog_id);
  EXPECT_TRUE(this_run.program_loaded("k"));

  // The previous run's fds close and every pin is removed (an operator's rm -r): the kernel
  // keeps the program for the fd the adopting daemon holds, but its pin is gone, so the next
  // start could not adopt it: drift, reported for a redeploy (issue 11).
  ASSERT_TRUE(kernel_->unload("prev"));
  EXPECT_TRUE(pins_under_base().empty());
  EXPECT_TRUE(this_run.program_exists(prev->prog_id));
  EXPECT_FALSE(this_run.program_loaded("k")) << "its pin is gone";

  // Once the adopting daemon lets go, nothing holds it any more.
  ASSERT_TRUE(this_run.discard("k"));
  EXPECT_FALSE(this_run.program_loaded("k"));
  EXPECT_TRUE(eventually([&] { return !this_run.program_exists(prev->prog_id); }));
}

}  // namespace
}  // namespace l3afd::kernel::libbpf
