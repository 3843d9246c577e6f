// The fake kernel's scriptable program_run_stats(): {0, 0} for a loaded key without a script,
// the scripted value or error otherwise, NotFound for a key that is not loaded; no Injector hit.
#include <gtest/gtest.h>

#include "kernel/fake/fake_kernel.h"

namespace l3afd::kernel::fake {
namespace {

class FakeRunStatsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ObjectDef def;
    def.entry_function = "xdp_main";
    kernel_.define_object("xdp.bpf.o", def);
  }
  Result<LoadedObject> load(const std::string& key) {
    return kernel_.load({key,
                         "/pkg/xdp.bpf.o",
                         "xdp_main",
                         model::Hook::XdpIngress,
                         "/sys/fs/bpf/eth0/p/1",
                         "/sys/fs/bpf/progs/eth0/p/1/xdp_main_xdp",
                         {},
                         {}});
  }

  Injector inj_;
  FakeKernel kernel_{inj_};
};

TEST_F(FakeRunStatsTest, LoadedKeyAnswersItsScriptOrZero) {
  ASSERT_TRUE(load("k"));
  auto zero = kernel_.program_run_stats("k");
  ASSERT_TRUE(zero) << zero.error().to_string();
  EXPECT_EQ(*zero, (RunStats{0, 0}));

  kernel_.set_run_stats("k", RunStats{7, 1400});
  auto scripted = kernel_.program_run_stats("k");
  ASSERT_TRUE(scripted) << scripted.error().to_string();
  EXPECT_EQ(*scripted, (RunStats{7, 1400}));

  kernel_.set_run_stats("k", fail(Errc::Kernel, "read program info", EPERM));
  auto failed = kernel_.program_run_stats("k");
  ASSERT_FALSE(failed);
  EXPECT_EQ(failed.error().code, Errc::Kernel);
  EXPECT_EQ(failed.error().sys_errno, EPERM);
}

TEST_F(FakeRunStatsTest, KeyNotLoadedIsNotFoundAndNothingIsCounted) {
  kernel_.set_run_stats("k", RunStats{1, 2});
  auto missing = kernel_.program_run_stats("k");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, Errc::NotFound);
  ASSERT_TRUE(load("k"));
  const auto calls = inj_.log().size();
  ASSERT_TRUE(kernel_.program_run_stats("k"));
  EXPECT_EQ(inj_.log().size(), calls) << "reading statistics is not a mutating call";
  ASSERT_TRUE(kernel_.unload("k"));
  EXPECT_EQ(kernel_.program_run_stats("k").error().code, Errc::NotFound);
}

}  // namespace
}  // namespace l3afd::kernel::fake
