// LibbpfKernel::create_staging / remove_staging / take_self_loaded (docs/chain-protocol.md
// §4.6) with the real `ratelimiting` binary playing the package binary: it gets the staging
// array as --map-name, loads its object itself and writes its program into the staging slot;
// the adapter takes the instance over, after which the key works like a loaded one.
#include <linux/bpf.h>

#include <algorithm>

#include "self_loaded/sl_fixture.h"

namespace l3afd::kernel::libbpf {
namespace {

LoadSpec root_spec(const fs::path& base, const std::string& iface) {
  return {"root",
          kObjectDir / "xdp_root.bpf.o",
          "xdp_root",
          model::Hook::XdpIngress,
          base / iface / "xdp-root" / "latest",
          base / "progs" / iface / "xdp-root" / "latest" / "xdp_root_xdp",
          {}};
}

bool contains(const std::vector<fs::path>& v, const fs::path& p) {
  return std::find(v.begin(), v.end(), p) != v.end();
}

TEST_F(SelfLoadedTest, CreateStagingPinsAFreshEmptyOneSlotProgramArrayOnce) {
  ASSERT_TRUE(kernel_->create_staging(staging_));
  UniqueFd fd(bpf_obj_get(staging_.c_str()));
  ASSERT_TRUE(fd.valid()) << "pinned at " << staging_;
  bpf_map_info info{};
  uint32_t len = sizeof(info);
  ASSERT_EQ(bpf_obj_get_info_by_fd(fd.get(), &info, &len), 0);
  EXPECT_EQ(info.type, BPF_MAP_TYPE_PROG_ARRAY);
  EXPECT_EQ(info.key_size, 4U);
  EXPECT_EQ(info.value_size, 4U);
  EXPECT_EQ(info.max_entries, 1U);
  EXPECT_EQ(slot_id(staging_), 0U) << "empty";
  EXPECT_EQ(fs::status(map_dir_).permissions() & fs::perms::all,
            fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec);

  auto again = kernel_->create_staging(staging_);
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, Errc::Conflict);
  EXPECT_EQ(pinned_id(staging_), info.id) << "the first array stays";

  ASSERT_TRUE(kernel_->remove_staging(staging_));
  EXPECT_FALSE(fs::exists(staging_));
  EXPECT_TRUE(kernel_->remove_staging(staging_)) << "absent is not an error";
}

TEST_F(SelfLoadedTest, RemoveStagingRefusesAPinThatIsNotAStagingArray) {
  ASSERT_TRUE(kernel_->load(root_spec(base_, iface_)));
  // A pin that is not a 1-slot program array (here a program) is refused and left alone.
  const fs::path other = base_ / "progs" / iface_ / "xdp-root" / "latest" / "xdp_root_xdp";
  auto s = kernel_->remove_staging(other);
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code, Errc::Conflict);
  EXPECT_TRUE(fs::exists(other));
}

TEST_F(SelfLoadedTest, TakesOverTheProgramTheBinaryWroteAndTheKeyWorksLikeALoadedOne) {
  ASSERT_TRUE(kernel_->load(root_spec(base_, iface_)));
  ASSERT_TRUE(kernel_->create_staging(staging_));
  auto binary = start_rl(staging_, {"--ports=8080", "--rate=7"});

  const SelfLoadedSpec spec = rl_spec();
  auto taken = kernel_->take_self_loaded(spec);
  ASSERT_TRUE(taken) << taken.error().to_string() << "\n" << binary->output();
  EXPECT_NE(taken->prog_id, 0U);
  EXPECT_EQ(slot_id(staging_), taken->prog_id) << "the program the binary wrote";
  EXPECT_EQ(pinned_id(spec.prog_pin_path), taken->prog_id) << "pinned at prog_pin_path";
  // pins_created: the program pin, the next array, the maps of map_pin_dir it uses; not the
  // staging array (remove_staging's).
  EXPECT_TRUE(contains(taken->pins_created, spec.prog_pin_path));
  EXPECT_TRUE(contains(taken->pins_created, spec.next_array_pin));
  EXPECT_TRUE(contains(taken->pins_created, map_dir_ / "rl_config_map"));
  EXPECT_TRUE(contains(taken->pins_created, map_dir_ / "rl_window_map"));
  EXPECT_FALSE(contains(taken->pins_created, staging_));
  // Its maps are the binary's: the rate it wrote is read through the key.
  EXPECT_EQ(read("rl", "rl_config_map"), 7U);

  // A predecessor's slot points to it, and its own next array can be written.
  ASSERT_TRUE(kernel_->write_slot("root", "xdp_root_array", std::string("rl")));
  auto in_root = kernel_->read_slot("root", "xdp_root_array");
  ASSERT_TRUE(in_root);
  EXPECT_EQ(*in_root, taken->prog_id);
  ASSERT_TRUE(kernel_->load(xdp_spec("tail")));
  ASSERT_TRUE(kernel_->write_slot("rl", kNextArray, std::string("tail")));
  auto next = kernel_->read_slot("rl", kNextArray);
  ASSERT_TRUE(next);
  EXPECT_EQ(*next, pinned_id(xdp_spec("tail").prog_pin_path));
  ASSERT_TRUE(kernel_->remove_staging(staging_));

  // The binary stops: the chain is the daemon's now and stays as it is.
  EXPECT_EQ(binary->terminate(), 0) << binary->output();
  EXPECT_TRUE(kernel_->program_exists(taken->prog_id));
  EXPECT_EQ(*kernel_->read_slot("root", "xdp_root_array"), taken->prog_id);

  // unload removes its pins like a loaded instance's.
  ASSERT_TRUE(kernel_->write_slot("root", "xdp_root_array", std::nullopt));
  ASSERT_TRUE(kernel_->unload("rl"));
  EXPECT_FALSE(fs::exists(spec.prog_pin_path));
  EXPECT_FALSE(fs::exists(spec.next_array_pin));
  EXPECT_FALSE(fs::exists(map_dir_ / "rl_config_map"));
  EXPECT_FALSE(fs::exists(map_dir_)) << "empty directories go";
  EXPECT_TRUE(fs::exists(root_spec(base_, iface_).prog_pin_path)) << "others' pins stay";
}

TEST_F(SelfLoadedTest, DiscardRemovesExactlyThePinsCreated) {
  ASSERT_TRUE(kernel_->load(root_spec(base_, iface_)));
  ASSERT_TRUE(kernel_->create_staging(staging_));
  auto binary = start_rl(staging_);
  auto taken = kernel_->take_self_loaded(rl_spec());
  ASSERT_TRUE(taken) << taken.error().to_string() << "\n" << binary->output();
  EXPECT_EQ(binary->terminate(), 0) << binary->output();
  const auto before = pins_under_base();

  ASSERT_TRUE(kernel_->discard("rl"));
  for (const auto& p : taken->pins_created) EXPECT_FALSE(fs::exists(p)) << p;
  std::vector<fs::path> expected;
  for (const auto& p : before) {
    if (!contains(taken->pins_created, p)) expected.push_back(p);
  }
  EXPECT_EQ(pins_under_base(), expected) << "nothing else removed";
  EXPECT_TRUE(fs::exists(staging_)) << "the staging pin is remove_staging's";
  auto again = kernel_->read_slot("rl", kNextArray);
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, Errc::NotFound) << "the key is gone";
}

TEST_F(SelfLoadedTest, TimeoutSaysWhatDidNotAppearAndWhere) {
  ASSERT_TRUE(kernel_->create_staging(staging_));
  SelfLoadedSpec spec = rl_spec();
  spec.wait = std::chrono::milliseconds(300);

  auto no_array = kernel_->take_self_loaded(spec);
  ASSERT_FALSE(no_array);
  EXPECT_EQ(no_array.error().code, Errc::Timeout);
  EXPECT_NE(no_array.error().message.find("next array"), std::string::npos)
      << no_array.error().message;
  EXPECT_NE(no_array.error().message.find(spec.next_array_pin.string()), std::string::npos)
      << no_array.error().message;

  // The next array appears, the slot stays empty.
  UniqueFd array(bpf_map_create(BPF_MAP_TYPE_PROG_ARRAY, "next", 4, 4, 1, nullptr));
  ASSERT_TRUE(array.valid());
  ASSERT_EQ(bpf_obj_pin(array.get(), spec.next_array_pin.c_str()), 0) << errno;
  auto no_slot = kernel_->take_self_loaded(spec);
  ASSERT_FALSE(no_slot);
  EXPECT_EQ(no_slot.error().code, Errc::Timeout);
  EXPECT_NE(no_slot.error().message.find("slot 0"), std::string::npos) << no_slot.error().message;
  EXPECT_NE(no_slot.error().message.find(staging_.string()), std::string::npos)
      << no_slot.error().message;
  EXPECT_FALSE(fs::exists(spec.prog_pin_path));
}

TEST_F(SelfLoadedTest, ConflictWhenTheProgramTypeOrTheNextArrayDoNotMatch) {
  ASSERT_TRUE(kernel_->create_staging(staging_));
  // A SCHED_CLS program in the staging slot, taken for an XDP hook.
  ASSERT_TRUE(kernel_->load(tc_spec("tc")));
  UniqueFd tc_prog(bpf_obj_get(tc_spec("tc").prog_pin_path.c_str()));
  ASSERT_TRUE(tc_prog.valid());
  const uint32_t slot = 0;
  UniqueFd staging(bpf_obj_get(staging_.c_str()));
  const int tc_fd = tc_prog.get();
  ASSERT_EQ(bpf_map_update_elem(staging.get(), &slot, &tc_fd, BPF_ANY), 0) << errno;
  UniqueFd unrelated(bpf_map_create(BPF_MAP_TYPE_PROG_ARRAY, "next", 4, 4, 1, nullptr));
  SelfLoadedSpec spec = rl_spec();
  spec.wait = std::chrono::milliseconds(300);
  ASSERT_EQ(bpf_obj_pin(unrelated.get(), spec.next_array_pin.c_str()), 0) << errno;

  auto wrong_type = kernel_->take_self_loaded(spec);
  ASSERT_FALSE(wrong_type);
  EXPECT_EQ(wrong_type.error().code, Errc::Conflict) << wrong_type.error().to_string();
  EXPECT_FALSE(fs::exists(spec.prog_pin_path));

  // Right type, but the array at MapNamePath is not one the program uses.
  spec.hook = model::Hook::TcIngress;
  auto wrong_array = kernel_->take_self_loaded(spec);
  ASSERT_FALSE(wrong_array);
  EXPECT_EQ(wrong_array.error().code, Errc::Conflict) << wrong_array.error().to_string();
  EXPECT_NE(wrong_array.error().message.find("not the next array"), std::string::npos);
  EXPECT_FALSE(fs::exists(spec.prog_pin_path));
  EXPECT_FALSE(kernel_->read_slot(spec.key, kNextArray)) << "the key was not registered";
}

}  // namespace
}  // namespace l3afd::kernel::libbpf
