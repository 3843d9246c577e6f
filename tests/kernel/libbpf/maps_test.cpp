// configure_maps() and read_map_value() of the libbpf adapter against the real kernel.
#include <bpf/bpf.h>

#include "kernel/libbpf/libbpf_kernel.h"
#include "kernel_fixture.h"

namespace l3afd::kernel::libbpf {
namespace {

using model::KeyValue;
using model::MapArg;
using model::MonitorMap;

class MapsTest : public KernelTest {
 protected:
  void SetUp() override {
    KernelTest::SetUp();
    auto loaded = kernel_->load(xdp_spec("k"));
    ASSERT_TRUE(loaded) << loaded.error().to_string();
  }
  bool has(const std::string& map, uint64_t k) {
    auto v = kernel_->read_map_value("k", map, k);
    if (!v) {
      EXPECT_EQ(v.error().code, Errc::NotFound) << v.error().to_string();
    }
    return v.has_value();
  }
};

TEST_F(MapsTest, WritesAndPrunesHashMaps) {
  ASSERT_TRUE(kernel_->configure_maps("k", {{"xdp_counter_config", {{{1, 10}, {2, 20}}}}}, {}));
  EXPECT_EQ(read("k", "xdp_counter_config", 1), 10u);
  EXPECT_EQ(read("k", "xdp_counter_config", 2), 20u);
  ASSERT_TRUE(kernel_->configure_maps("k", {{"xdp_counter_config", {{{2, 30}, {0, 5}}}}}, {}));
  EXPECT_FALSE(has("xdp_counter_config", 1));
  EXPECT_EQ(read("k", "xdp_counter_config", 2), 30u);
  EXPECT_EQ(read("k", "xdp_counter_config", 0), 5u);
}

TEST_F(MapsTest, NegativeValuesAreTwosComplementOfTheSize) {
  ASSERT_TRUE(kernel_->configure_maps("k", {{"xdp_counter_config", {{{-1, -2}}}}}, {}));
  EXPECT_EQ(read("k", "xdp_counter_config", 0xffffffffu), 0xfffffffffffffffeu);
}

TEST_F(MapsTest, ArraysAreNeverPruned) {
  ASSERT_TRUE(kernel_->configure_maps("k", {{"xdp_counter_packets", {{{0, 5}}}}}, {}));
  EXPECT_EQ(read("k", "xdp_counter_packets", 0), 5u);
  ASSERT_TRUE(kernel_->configure_maps("k", {{"xdp_counter_packets", std::vector<KeyValue>{}}}, {}));
  EXPECT_EQ(read("k", "xdp_counter_packets", 0), 5u);
}

TEST_F(MapsTest, KeyThatDoesNotFitIsRefusedBeforeAnyWrite) {
  auto s = kernel_->configure_maps(
      "k", {{"xdp_counter_config", {{{1, 7}}}}, {"xdp_counter_packets", {{{int64_t{1} << 32, 1}}}}},
      {});
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code, Errc::InvalidPayload);
  EXPECT_FALSE(has("xdp_counter_config", 1));
}

TEST_F(MapsTest, UnknownMapIsRefusedBeforeAnyWrite) {
  auto s = kernel_->configure_maps(
      "k", {{"xdp_counter_config", {{{1, 7}}}}, {"no_such_map", std::nullopt}}, {});
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code, Errc::InvalidPayload);
  EXPECT_EQ(s.error().message, "map_args names map no_such_map which the object does not have");
  EXPECT_FALSE(has("xdp_counter_config", 1));
}

// map_args must never write into a map whose values the kernel resolves as file descriptors:
// the numbers would name the daemon's own fds, so a client could splice any program the daemon
// holds into a chain. Here the value is the fd of a real XDP program, which the kernel would
// accept into the next-program array.
TEST_F(MapsTest, FdValuedMapIsRefusedAndKeepsItsContent) {
  auto other = kernel_->load(xdp_spec("t", "other"));
  ASSERT_TRUE(other) << other.error().to_string();
  ASSERT_TRUE(kernel_->write_slot("k", "xdp_counter_next_prog", std::string("t")));
  auto third = kernel_->load(xdp_spec("u", "third"));
  ASSERT_TRUE(third) << third.error().to_string();
  UniqueFd prog(bpf_prog_get_fd_by_id(third->prog_id));
  ASSERT_TRUE(prog.valid()) << errno;

  auto s = kernel_->configure_maps(
      "k", {{"xdp_counter_config", {{{1, 7}}}}, {"xdp_counter_next_prog", {{{0, prog.get()}}}}},
      {});
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code, Errc::InvalidPayload);
  EXPECT_NE(s.error().message.find("xdp_counter_next_prog"), std::string::npos);
  EXPECT_NE(s.error().message.find("prog_array"), std::string::npos) << s.error().message;
  EXPECT_NE(s.error().message.find("file descriptors"), std::string::npos);
  ASSERT_EQ(s.error().items.size(), 1u);
  EXPECT_EQ(s.error().items[0].field, "map_args");
  auto slot = kernel_->read_slot("k", "xdp_counter_next_prog");
  ASSERT_TRUE(slot) << slot.error().to_string();
  EXPECT_EQ(*slot, other->prog_id);
  EXPECT_FALSE(has("xdp_counter_config", 1));
}

TEST_F(MapsTest, MonitorEntryIsCreatedAtTheConfiguredKeyAndKept) {
  const std::vector<MonitorMap> mon{{"xdp_counter_config", 5, "scalar"}};
  ASSERT_TRUE(kernel_->configure_maps("k", {}, mon));
  EXPECT_EQ(read("k", "xdp_counter_config", 5), 0u);
  EXPECT_FALSE(has("xdp_counter_config", 0));
  ASSERT_TRUE(kernel_->configure_maps("k", {{"xdp_counter_config", {{{5, 9}}}}}, mon));
  EXPECT_EQ(read("k", "xdp_counter_config", 5), 9u);
  ASSERT_TRUE(kernel_->configure_maps("k", {}, mon));
  EXPECT_EQ(read("k", "xdp_counter_config", 5), 9u);
}

TEST_F(MapsTest, ReadErrorsAreNotFound) {
  EXPECT_EQ(kernel_->read_map_value("nokey", "xdp_counter_packets", 0).error().code,
            Errc::NotFound);
  EXPECT_EQ(kernel_->read_map_value("k", "no_such_map", 0).error().code, Errc::NotFound);
  EXPECT_EQ(kernel_->configure_maps("nokey", {}, {}).error().code, Errc::NotFound);
}

}  // namespace
}  // namespace l3afd::kernel::libbpf
