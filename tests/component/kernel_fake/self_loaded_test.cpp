// FakeKernel's model of self-loaded programs (docs/chain-protocol.md §4.6): create_staging,
// remove_staging, take_self_loaded, with simulate_self_load() playing the package binary. The
// kernel tests (tests/kernel/self_loaded) check the real adapter against the same contract.
#include <gtest/gtest.h>

#include <algorithm>

#include "kernel/fake/fake_kernel.h"

namespace l3afd::kernel::fake {
namespace {

namespace fs = std::filesystem;

constexpr uint32_t kArray = 2;      // BPF_MAP_TYPE_ARRAY
constexpr uint32_t kProgArray = 3;  // BPF_MAP_TYPE_PROG_ARRAY

class FakeSelfLoadedTest : public ::testing::Test {
 protected:
  void SetUp() override {
    kernel_.define_object("root.o", {"root", {{"root_array", 0, kProgArray, 4, 4, 1, {}}}});
    LoadSpec root{"root",
                  "/pkg/root.o",
                  "root",
                  model::Hook::XdpIngress,
                  "/b/eth0/root/1",
                  "/b/progs/eth0/root/1/root_xdp",
                  {}};
    ASSERT_TRUE(kernel_.load(root));
  }
  SelfLoadedSpec spec() const {
    SelfLoadedSpec s;
    s.key = "rl";
    s.hook = model::Hook::XdpIngress;
    s.staging_pin = "/b/eth0/rl/1/staging";
    s.private_map = "rl_next";
    s.next_array_pin = "/b/eth0/rl/1/rl_next";
    s.map_pin_dir = "/b/eth0/rl/1";
    s.prog_pin_path = "/b/progs/eth0/rl/1/rl_xdp";
    return s;
  }
  SelfLoad binary() const {
    SelfLoad b;
    b.staging_pin = spec().staging_pin;
    b.next_array_pin = spec().next_array_pin;
    b.next_array = "rl_next";
    b.map_pin_dir = spec().map_pin_dir;
    b.maps = {{"rl_config", 0, kArray, 4, 8, 1, {}}};
    return b;
  }

  Injector inj_;
  FakeKernel kernel_{inj_};
};

TEST_F(FakeSelfLoadedTest, TakenProgramWorksLikeALoadedOneAndUnloadRemovesItsPins) {
  const auto before = kernel_.model();
  ASSERT_TRUE(kernel_.create_staging(spec().staging_pin));
  auto conflict = kernel_.create_staging(spec().staging_pin);
  ASSERT_FALSE(conflict);
  EXPECT_EQ(conflict.error().code, Errc::Conflict);
  auto id = kernel_.simulate_self_load(binary());
  ASSERT_TRUE(id);

  auto taken = kernel_.take_self_loaded(spec());
  ASSERT_TRUE(taken) << taken.error().to_string();
  EXPECT_EQ(taken->prog_id, *id);
  const std::vector<fs::path> created = {spec().prog_pin_path, "/b/eth0/rl/1/rl_config",
                                         spec().next_array_pin};
  EXPECT_EQ(taken->pins_created, created);
  ASSERT_TRUE(kernel_.write_slot("root", "root_array", std::string("rl")));
  EXPECT_EQ(*kernel_.read_slot("root", "root_array"), *id);
  EXPECT_EQ(*kernel_.read_slot("rl", "rl_next"), 0U) << "its next array is usable";
  ASSERT_TRUE(
      kernel_.configure_maps("rl", {{"rl_config", std::vector<model::KeyValue>{{0, 9}}}}, {}));
  EXPECT_EQ(*kernel_.read_map_value("rl", "rl_config", 0), 9U);

  auto again = kernel_.take_self_loaded(spec());
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, Errc::Conflict) << "key already loaded";

  ASSERT_TRUE(kernel_.remove_staging(spec().staging_pin));
  ASSERT_TRUE(kernel_.write_slot("root", "root_array", std::nullopt));
  ASSERT_TRUE(kernel_.unload("rl"));
  EXPECT_EQ(kernel_.model(), before);
}

TEST_F(FakeSelfLoadedTest, DiscardRemovesExactlyThePinsCreated) {
  ASSERT_TRUE(kernel_.create_staging(spec().staging_pin));
  ASSERT_TRUE(kernel_.simulate_self_load(binary()));
  auto taken = kernel_.take_self_loaded(spec());
  ASSERT_TRUE(taken);
  ASSERT_TRUE(kernel_.discard("rl"));
  const auto pins = kernel_.model().pins;
  for (const auto& p : taken->pins_created) EXPECT_FALSE(pins.contains(p.string())) << p;
  EXPECT_TRUE(pins.contains(spec().staging_pin.string())) << "remove_staging's";
  EXPECT_TRUE(pins.contains("/b/progs/eth0/root/1/root_xdp"));
}

TEST_F(FakeSelfLoadedTest, TimeoutNamesWhatIsMissing) {
  ASSERT_TRUE(kernel_.create_staging(spec().staging_pin));
  auto no_array = kernel_.take_self_loaded(spec());
  ASSERT_FALSE(no_array);
  EXPECT_EQ(no_array.error().code, Errc::Timeout);
  EXPECT_NE(no_array.error().message.find(spec().next_array_pin.string()), std::string::npos);

  SelfLoad b = binary();
  b.write_slot = false;
  ASSERT_TRUE(kernel_.simulate_self_load(b));
  auto no_slot = kernel_.take_self_loaded(spec());
  ASSERT_FALSE(no_slot);
  EXPECT_EQ(no_slot.error().code, Errc::Timeout);
  EXPECT_NE(no_slot.error().message.find(spec().staging_pin.string()), std::string::npos);
  EXPECT_EQ(kernel_.live_programs(), 1U);
}

TEST_F(FakeSelfLoadedTest, ConflictOnProgramTypeOrForeignNextArray) {
  ASSERT_TRUE(kernel_.create_staging(spec().staging_pin));
  SelfLoad tc = binary();
  tc.tc = true;
  ASSERT_TRUE(kernel_.simulate_self_load(tc));
  auto wrong_type = kernel_.take_self_loaded(spec());
  ASSERT_FALSE(wrong_type);
  EXPECT_EQ(wrong_type.error().code, Errc::Conflict);

  SelfLoad foreign = binary();
  foreign.uses_next_array = false;
  ASSERT_TRUE(kernel_.simulate_self_load(foreign));
  auto wrong_array = kernel_.take_self_loaded(spec());
  ASSERT_FALSE(wrong_array);
  EXPECT_EQ(wrong_array.error().code, Errc::Conflict);
  EXPECT_FALSE(kernel_.model().pins.contains(spec().prog_pin_path.string()));
}

TEST_F(FakeSelfLoadedTest, BinaryWithoutStagingArrayFails) {
  auto r = kernel_.simulate_self_load(binary());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::NotFound);
}

TEST_F(FakeSelfLoadedTest, InjectedFailuresChangeNothing) {
  inj_.fail_call(1);
  EXPECT_FALSE(kernel_.create_staging(spec().staging_pin));
  EXPECT_FALSE(kernel_.model().pins.contains(spec().staging_pin.string()));

  inj_.fail_call(0);
  ASSERT_TRUE(kernel_.create_staging(spec().staging_pin));
  ASSERT_TRUE(kernel_.simulate_self_load(binary()));
  const auto before = kernel_.model();
  inj_.fail_call(1);
  auto taken = kernel_.take_self_loaded(spec());
  ASSERT_FALSE(taken);
  EXPECT_EQ(taken.error().code, Errc::Kernel);
  EXPECT_NE(std::find(inj_.log().begin(), inj_.log().end(), "take self loaded rl"),
            inj_.log().end());
  EXPECT_EQ(kernel_.model(), before);
  inj_.fail_call(0);
  EXPECT_TRUE(kernel_.take_self_loaded(spec())) << "the binary's program is still there";

  inj_.fail_call(1);
  EXPECT_FALSE(kernel_.remove_staging(spec().staging_pin));
  EXPECT_TRUE(kernel_.model().pins.contains(spec().staging_pin.string()));
}

}  // namespace
}  // namespace l3afd::kernel::fake
