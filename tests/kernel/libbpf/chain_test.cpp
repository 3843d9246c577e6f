// Chaining through next-program arrays (docs/chain-protocol.md §1.2, K8, K9, §4.2): private arrays,
// write_slot() and read_slot() of the libbpf adapter against the real kernel.
#include <bpf/bpf.h>
#include <linux/bpf.h>

#include <algorithm>

#include "kernel/libbpf/libbpf_kernel.h"
#include "kernel_fixture.h"
#include "support/packet.h"

namespace l3afd::kernel::libbpf {
namespace {

using l3afd::testing::PacketBuilder;

constexpr const char* kRootArray = "xdp_root_array";
constexpr const char* kNext = "xdp_counter_next_prog";
constexpr const char* kPackets = "xdp_counter_packets";

class ChainTest : public KernelTest {
 protected:
  LoadSpec root_spec() const {
    return {"root",
            kObjectDir / "xdp_root.bpf.o",
            "xdp_root",
            model::Hook::XdpIngress,
            base_ / "eth0" / "xdp-root" / "1_0",
            base_ / "progs" / "eth0" / "xdp-root" / "1_0" / "xdp_root_xdp",
            {}};
  }
  /// An xdp-counter instance with its own map directory and a private next array.
  LoadSpec counter_spec(const std::string& key) const {
    return {key,
            kObjectDir / "xdp_counter.bpf.o",
            "xdp_counter",
            model::Hook::XdpIngress,
            base_ / "eth0" / key / "1_0",
            base_ / "progs" / "eth0" / key / "1_0" / "xdp_counter_xdp",
            kNext};
  }

  static const MapInfo* find_map(const LoadedObject& o, const std::string& name) {
    auto it = std::find_if(o.maps.begin(), o.maps.end(),
                           [&](const MapInfo& m) { return m.name == name; });
    return it == o.maps.end() ? nullptr : &*it;
  }

  /// Runs the program pinned at `pin` `n` times on a UDP frame through BPF_PROG_TEST_RUN.
  static void run_pinned(const fs::path& pin, int n) {
    UniqueFd fd(bpf_obj_get(pin.c_str()));
    ASSERT_TRUE(fd.valid()) << pin << " errno " << errno;
    const auto frame =
        PacketBuilder().eth().ipv4("198.18.0.1", "198.18.0.2").udp(1000, 2000).build();
    std::vector<uint8_t> out(frame.size() + 256);
    for (int i = 0; i < n; ++i) {
      LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = frame.data(), .data_out = out.data(),
                  .data_size_in = static_cast<uint32_t>(frame.size()),
                  .data_size_out = static_cast<uint32_t>(out.size()), .repeat = 1);
      ASSERT_EQ(bpf_prog_test_run_opts(fd.get(), &opts), 0) << errno;
      ASSERT_EQ(opts.retval, static_cast<uint32_t>(XDP_PASS));
    }
  }
};

TEST_F(ChainTest, PrivateArrayIsFreshAndUnpinnedPerLoad) {
  const LoadSpec sa = counter_spec("a");
  const LoadSpec sb = counter_spec("b");
  auto a = kernel_->load(sa);
  ASSERT_TRUE(a) << a.error().to_string();
  auto b = kernel_->load(sb);
  ASSERT_TRUE(b) << b.error().to_string();

  const MapInfo* na = find_map(*a, kNext);
  const MapInfo* nb = find_map(*b, kNext);
  ASSERT_NE(na, nullptr);
  ASSERT_NE(nb, nullptr);
  EXPECT_NE(na->id, 0u);
  EXPECT_NE(na->id, nb->id);
  EXPECT_EQ(na->type, static_cast<uint32_t>(BPF_MAP_TYPE_PROG_ARRAY));
  EXPECT_TRUE(na->pin.empty());
  EXPECT_TRUE(nb->pin.empty());
  EXPECT_FALSE(fs::exists(sa.map_pin_dir / kNext));
  EXPECT_FALSE(fs::exists(sb.map_pin_dir / kNext));
  // The other maps are still pinned by name.
  const MapInfo* pa = find_map(*a, kPackets);
  ASSERT_NE(pa, nullptr);
  EXPECT_EQ(pinned_id(sa.map_pin_dir / kPackets), pa->id);

  // A second load into the same map directory reuses the pinned maps but not the array, even
  // when a pin of that name exists there (left by an earlier daemon).
  LoadSpec plain = counter_spec("plain");
  plain.private_map.clear();
  auto p = kernel_->load(plain);
  ASSERT_TRUE(p) << p.error().to_string();
  const MapInfo* np = find_map(*p, kNext);
  ASSERT_NE(np, nullptr);
  EXPECT_EQ(pinned_id(plain.map_pin_dir / kNext), np->id);
  LoadSpec again = counter_spec("again");
  again.map_pin_dir = plain.map_pin_dir;
  again.prog_pin_path = base_ / "progs" / "again" / "xdp_counter_xdp";
  auto g = kernel_->load(again);
  ASSERT_TRUE(g) << g.error().to_string();
  const MapInfo* ng = find_map(*g, kNext);
  ASSERT_NE(ng, nullptr);
  EXPECT_NE(ng->id, np->id);
  EXPECT_TRUE(ng->pin.empty());
  EXPECT_EQ(find_map(*g, kPackets)->id, find_map(*p, kPackets)->id);
  EXPECT_EQ(*kernel_->read_slot("again", kNext), 0u);

  for (const char* k : {"again", "plain", "b", "a"}) {
    EXPECT_TRUE(kernel_->unload(k)) << k;
  }
}

TEST_F(ChainTest, SlotsChainRootThroughCounters) {
  const LoadSpec sr = root_spec();
  auto root = kernel_->load(sr);
  ASSERT_TRUE(root) << root.error().to_string();
  auto a = kernel_->load(counter_spec("a"));
  ASSERT_TRUE(a) << a.error().to_string();
  auto b = kernel_->load(counter_spec("b"));
  ASSERT_TRUE(b) << b.error().to_string();

  EXPECT_EQ(*kernel_->read_slot("root", kRootArray), 0u);
  ASSERT_TRUE(kernel_->write_slot("root", kRootArray, "a"));
  ASSERT_TRUE(kernel_->write_slot("a", kNext, "b"));
  EXPECT_EQ(*kernel_->read_slot("root", kRootArray), a->prog_id);
  EXPECT_EQ(*kernel_->read_slot("a", kNext), b->prog_id);
  EXPECT_EQ(*kernel_->read_slot("b", kNext), 0u);

  constexpr int kRuns = 5;
  run_pinned(sr.prog_pin_path, kRuns);
  EXPECT_EQ(read("a", kPackets), uint64_t{kRuns});
  EXPECT_EQ(read("b", kPackets), uint64_t{kRuns});

  // Cutting a's slot ends the chain at a; deleting an empty slot is not an error.
  ASSERT_TRUE(kernel_->write_slot("a", kNext, std::nullopt));
  EXPECT_EQ(*kernel_->read_slot("a", kNext), 0u);
  EXPECT_TRUE(kernel_->write_slot("a", kNext, std::nullopt));
  run_pinned(sr.prog_pin_path, kRuns);
  EXPECT_EQ(read("a", kPackets), uint64_t{2 * kRuns});
  EXPECT_EQ(read("b", kPackets), uint64_t{kRuns});

  // The root now jumps straight to b.
  ASSERT_TRUE(kernel_->write_slot("root", kRootArray, "b"));
  EXPECT_EQ(*kernel_->read_slot("root", kRootArray), b->prog_id);
  run_pinned(sr.prog_pin_path, kRuns);
  EXPECT_EQ(read("a", kPackets), uint64_t{2 * kRuns});
  EXPECT_EQ(read("b", kPackets), uint64_t{2 * kRuns});

  for (const char* k : {"b", "a", "root"}) {
    EXPECT_TRUE(kernel_->unload(k)) << k;
  }
  EXPECT_TRUE(pins_under_base().empty());
}

TEST_F(ChainTest, IncompatibleProgramTypeIsAKernelError) {
  auto root = kernel_->load(root_spec());
  ASSERT_TRUE(root) << root.error().to_string();
  auto tc = kernel_->load(tc_spec("tc"));
  ASSERT_TRUE(tc) << tc.error().to_string();
  // The root array's owner type is fixed to XDP when the root is loaded (K8).
  auto s = kernel_->write_slot("root", kRootArray, "tc");
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code, Errc::Kernel);
  EXPECT_EQ(s.error().sys_errno, EINVAL);
  EXPECT_EQ(*kernel_->read_slot("root", kRootArray), 0u);
  // And the other way round: an XDP program into the TC program's next array.
  auto r = kernel_->write_slot("tc", "tc_counter_next_prog", "root");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::Kernel);
  EXPECT_TRUE(kernel_->unload("tc"));
  EXPECT_TRUE(kernel_->unload("root"));
}

TEST_F(ChainTest, UnknownKeysAndMapsAreRejected) {
  auto root = kernel_->load(root_spec());
  ASSERT_TRUE(root) << root.error().to_string();
  auto a = kernel_->load(counter_spec("a"));
  ASSERT_TRUE(a) << a.error().to_string();

  EXPECT_EQ(kernel_->write_slot("nope", kRootArray, "a").error().code, Errc::NotFound);
  EXPECT_EQ(kernel_->write_slot("root", kRootArray, "nope").error().code, Errc::NotFound);
  EXPECT_EQ(kernel_->write_slot("root", "no_such_map", "a").error().code, Errc::NotFound);
  EXPECT_EQ(kernel_->read_slot("nope", kRootArray).error().code, Errc::NotFound);
  EXPECT_EQ(kernel_->read_slot("a", "no_such_map").error().code, Errc::NotFound);
  EXPECT_EQ(kernel_->write_slot("a", kPackets, "root").error().code, Errc::InvalidPayload);
  EXPECT_EQ(kernel_->read_slot("a", kPackets).error().code, Errc::InvalidPayload);
  EXPECT_EQ(*kernel_->read_slot("root", kRootArray), 0u);

  // A private map the object does not have fails the load and leaves nothing behind.
  LoadSpec bad = counter_spec("bad");
  bad.private_map = "no_such_map";
  auto l = kernel_->load(bad);
  ASSERT_FALSE(l);
  EXPECT_EQ(l.error().code, Errc::NotFound);
  EXPECT_FALSE(fs::exists(bad.map_pin_dir));

  EXPECT_TRUE(kernel_->unload("a"));
  EXPECT_TRUE(kernel_->unload("root"));
}

/// Kernel id of the object pinned at `p`, 0 if none.
uint32_t pinned_map_id(const fs::path& p) {
  UniqueFd fd(bpf_obj_get(p.c_str()));
  if (!fd) return 0;
  bpf_map_info info{};
  uint32_t len = sizeof(info);
  return bpf_obj_get_info_by_fd(fd.get(), &info, &len) == 0 ? info.id : 0;
}

TEST_F(ChainTest, PinMapReplacesAtomicallyAndUnpinOnlyRemovesItsOwnPin) {
  LoadSpec sa = counter_spec("a");
  LoadSpec sb = counter_spec("b");
  sb.map_pin_dir = sa.map_pin_dir;  // a fresh instance of the same program and version
  sb.prog_pin_path = sa.prog_pin_path.parent_path() / "second_xdp";
  auto a = kernel_->load(sa);
  ASSERT_TRUE(a) << a.error().to_string();
  auto b = kernel_->load(sb);
  ASSERT_TRUE(b) << b.error().to_string();
  const fs::path path = sa.map_pin_dir / kNext;
  EXPECT_FALSE(fs::exists(path)) << "private arrays are not pinned at load";

  ASSERT_TRUE(kernel_->pin_map("a", kNext, path));
  EXPECT_EQ(pinned_map_id(path), find_map(*a, kNext)->id);
  ASSERT_TRUE(kernel_->pin_map("b", kNext, path));  // rename(2) over a's pin
  EXPECT_EQ(pinned_map_id(path), find_map(*b, kNext)->id);
  for (const auto& e : fs::directory_iterator(sa.map_pin_dir)) {
    EXPECT_EQ(e.path().filename().string().find("tmp"), std::string::npos) << e.path();
  }
  ASSERT_TRUE(kernel_->unpin_map("a", kNext));
  EXPECT_EQ(pinned_map_id(path), find_map(*b, kNext)->id) << "a's unpin leaves b's pin alone";
  ASSERT_TRUE(kernel_->unload("a"));
  EXPECT_EQ(pinned_map_id(path), find_map(*b, kNext)->id) << "unload of a keeps b's pin";
  ASSERT_TRUE(kernel_->discard("b"));
  EXPECT_FALSE(fs::exists(path)) << "the pin made by pin_map goes with its object";
  EXPECT_EQ(kernel_->pin_map("b", kNext, path).error().code, Errc::NotFound);
}

TEST_F(ChainTest, CarryMapsCopiesStateIntoTheNewVersionsFreshMaps) {
  LoadSpec v1 = counter_spec("v1");
  LoadSpec v2 = counter_spec("v2");
  v2.map_pin_dir = base_ / "eth0" / "v1" / "2_0";
  v2.prog_pin_path = base_ / "progs" / "eth0" / "v1" / "2_0" / "xdp_counter_xdp";
  auto a = kernel_->load(v1);
  ASSERT_TRUE(a) << a.error().to_string();
  run_pinned(v1.prog_pin_path, 5);
  ASSERT_TRUE(kernel_->configure_maps("v1", {{"xdp_counter_config", {{{0, 3}, {9, 99}}}}}, {}));
  auto b = kernel_->load(v2);
  ASSERT_TRUE(b) << b.error().to_string();
  auto skipped = kernel_->carry_maps("v1", "v2");
  ASSERT_TRUE(skipped) << skipped.error().to_string();
  EXPECT_TRUE(skipped->empty()) << skipped->front();
  EXPECT_EQ(kernel_->read_map_value("v2", kPackets, 0).value_or(0), 5u);
  EXPECT_EQ(kernel_->read_map_value("v2", "xdp_counter_config", 9).value_or(0), 99u);
  EXPECT_EQ(kernel_->read_map_value("v2", "xdp_counter_bytes", 0).value(),
            kernel_->read_map_value("v1", "xdp_counter_bytes", 0).value());
  // Into maps that already existed (a reload of v2 reusing its pins) nothing is copied.
  LoadSpec again = v2;
  again.key = "v2b";
  again.prog_pin_path = v2.prog_pin_path.parent_path() / "again_xdp";
  ASSERT_TRUE(kernel_->load(again));
  auto none = kernel_->carry_maps("v1", "v2b");
  ASSERT_TRUE(none);
  EXPECT_EQ(none->size(), 3u) << "packets, bytes, config keep their state";
}

TEST_F(ChainTest, AdoptTakesOverAPinnedChainWithoutLoadingAndLeavesPinsAlone) {
  // A "previous run": root -> a, arrays pinned at their MapNamePath, then its process "exits"
  // (this kernel_ keeps its fds, which does not matter: adoption works from the pins).
  LoadSpec rs = root_spec();
  rs.private_map = kRootArray;
  const LoadSpec as = counter_spec("a");
  auto root = kernel_->load(rs);
  ASSERT_TRUE(root) << root.error().to_string();
  auto a = kernel_->load(as);
  ASSERT_TRUE(a) << a.error().to_string();
  const fs::path root_array = rs.map_pin_dir / kRootArray;
  const fs::path a_array = as.map_pin_dir / kNext;
  ASSERT_TRUE(kernel_->pin_map("root", kRootArray, root_array));
  ASSERT_TRUE(kernel_->pin_map("a", kNext, a_array));
  ASSERT_TRUE(kernel_->write_slot("root", kRootArray, "a"));
  run_pinned(rs.prog_pin_path, 3);
  ASSERT_EQ(kernel_->read_map_value("a", kPackets, 0).value_or(0), 3u);

  LibbpfKernel next_run;
  auto adopt_spec = [&](const std::string& key, const LoadSpec& l, const fs::path& array) {
    return AdoptSpec{key,  l.entry_function, l.hook, l.map_pin_dir, l.prog_pin_path, l.private_map,
                     array};
  };
  auto r2 = next_run.adopt(adopt_spec("root2", rs, root_array));
  ASSERT_TRUE(r2) << r2.error().to_string();
  auto a2 = next_run.adopt(adopt_spec("a2", as, a_array));
  ASSERT_TRUE(a2) << a2.error().to_string();
  EXPECT_EQ(r2->prog_id, root->prog_id) << "the same kernel program, not a reload";
  EXPECT_EQ(a2->prog_id, a->prog_id);
  EXPECT_TRUE(a2->pins_created.empty());
  EXPECT_EQ(next_run.read_slot("root2", kRootArray).value_or(0), a->prog_id);
  EXPECT_EQ(next_run.read_map_value("a2", kPackets, 0).value_or(0), 3u) << "same maps";
  ASSERT_TRUE(next_run.configure_maps("a2", {{"xdp_counter_config", {{{0, 7}}}}}, {}));
  EXPECT_EQ(kernel_->read_map_value("a", "xdp_counter_config", 0).value_or(0), 7u);
  // Slots can be rewritten through the adopted handles.
  ASSERT_TRUE(next_run.write_slot("root2", kRootArray, std::nullopt));
  EXPECT_EQ(kernel_->read_slot("root", kRootArray).value_or(99), 0u);
  ASSERT_TRUE(next_run.write_slot("root2", kRootArray, "a2"));
  run_pinned(rs.prog_pin_path, 2);
  EXPECT_EQ(next_run.read_map_value("a2", kPackets, 0).value_or(0), 5u);

  // Inconsistent pins are refused: wrong function, an array the program does not use, no pin.
  AdoptSpec wrong = adopt_spec("w1", as, a_array);
  wrong.entry_function = "xdp_root";
  EXPECT_EQ(next_run.adopt(wrong).error().code, Errc::Conflict);
  EXPECT_EQ(next_run.adopt(adopt_spec("w2", rs, a_array)).error().code, Errc::Conflict);
  AdoptSpec gone = adopt_spec("w3", as, a_array);
  gone.prog_pin_path = as.prog_pin_path.parent_path() / "nothing_xdp";
  EXPECT_EQ(next_run.adopt(gone).error().code, Errc::NotFound);

  // Forgetting an adopted key removes nothing from bpffs.
  ASSERT_TRUE(next_run.discard("a2"));
  ASSERT_TRUE(next_run.discard("root2"));
  EXPECT_TRUE(fs::exists(a_array));
  EXPECT_TRUE(fs::exists(root_array));
  EXPECT_TRUE(fs::exists(as.prog_pin_path));
  EXPECT_TRUE(kernel_->program_exists(a->prog_id));
}

}  // namespace
}  // namespace l3afd::kernel::libbpf
