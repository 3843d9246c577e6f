// load/discard/unload of the libbpf adapter against the real kernel.
#include <bpf/bpf.h>
#include <linux/bpf.h>

#include <algorithm>
#include <fstream>

#include "kernel/libbpf/libbpf_kernel.h"
#include "kernel_fixture.h"
#include "support/packet.h"

namespace l3afd::kernel::libbpf {
namespace {

using l3afd::testing::PacketBuilder;

/// Runs the program once on `frame` through BPF_PROG_TEST_RUN; returns its verdict.
int test_run(uint32_t prog_id, const std::vector<uint8_t>& frame) {
  UniqueFd fd(bpf_prog_get_fd_by_id(prog_id));
  EXPECT_TRUE(fd.valid());
  std::vector<uint8_t> out(frame.size() + 256);
  LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = frame.data(), .data_out = out.data(),
              .data_size_in = static_cast<uint32_t>(frame.size()),
              .data_size_out = static_cast<uint32_t>(out.size()), .repeat = 1);
  EXPECT_EQ(bpf_prog_test_run_opts(fd.get(), &opts), 0) << errno;
  return static_cast<int>(opts.retval);
}

const MapInfo* find_map(const LoadedObject& o, const std::string& name) {
  auto it =
      std::find_if(o.maps.begin(), o.maps.end(), [&](const MapInfo& m) { return m.name == name; });
  return it == o.maps.end() ? nullptr : &*it;
}

TEST_F(KernelTest, LoadPinsEveryMapExceptBssAndTheProgram) {
  const LoadSpec spec = xdp_spec("k1");
  auto loaded = kernel_->load(spec);
  ASSERT_TRUE(loaded) << loaded.error().to_string();

  EXPECT_NE(loaded->prog_id, 0u);
  EXPECT_TRUE(kernel_->program_exists(loaded->prog_id));
  EXPECT_EQ(pinned_id(spec.prog_pin_path), loaded->prog_id);
  for (const char* m : {"xdp_counter_packets", "xdp_counter_bytes", "xdp_counter_config",
                        "xdp_counter_next_prog"}) {
    const fs::path p = spec.map_pin_dir / m;
    EXPECT_TRUE(fs::exists(p)) << p;
    EXPECT_NE(std::find(loaded->pins_created.begin(), loaded->pins_created.end(), p),
              loaded->pins_created.end())
        << p;
  }
  // Internal maps (.rodata, .bss) are not pinned: bpffs refuses names with a dot.
  EXPECT_EQ(loaded->pins_created.size(), 5u);  // four maps and the program
  EXPECT_EQ(pins_under_base().size(), 5u);

  const MapInfo* cfg = find_map(*loaded, "xdp_counter_config");
  ASSERT_NE(cfg, nullptr);
  EXPECT_EQ(cfg->type, static_cast<uint32_t>(BPF_MAP_TYPE_HASH));
  EXPECT_EQ(cfg->key_size, 4u);
  EXPECT_EQ(cfg->value_size, 8u);
  EXPECT_EQ(cfg->max_entries, 16u);
  EXPECT_EQ(pinned_id(cfg->pin), cfg->id);
  EXPECT_EQ(fs::status(spec.map_pin_dir).permissions() & fs::perms::all,
            fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec);
}

TEST_F(KernelTest, TestRunPassesAndCounts) {
  auto loaded = kernel_->load(xdp_spec("k1"));
  ASSERT_TRUE(loaded) << loaded.error().to_string();
  const auto frame =
      PacketBuilder().eth().ipv4("198.18.0.1", "198.18.0.2").udp(1000, 2000).payload("hi").build();
  EXPECT_EQ(test_run(loaded->prog_id, frame), XDP_PASS);
  EXPECT_EQ(read("k1", "xdp_counter_packets"), 1u);
  EXPECT_EQ(test_run(loaded->prog_id, frame), XDP_PASS);
  EXPECT_EQ(read("k1", "xdp_counter_packets"), 2u);
  EXPECT_EQ(read("k1", "xdp_counter_bytes"), 2 * frame.size());
}

TEST_F(KernelTest, ByNameMapIsReusedAndNotListedAsCreated) {
  const LoadSpec a = xdp_spec("a");
  auto first = kernel_->load(a);
  ASSERT_TRUE(first) << first.error().to_string();
  LoadSpec b = a;
  b.key = "b";
  b.prog_pin_path = a.prog_pin_path.parent_path() / "second_xdp";
  auto second = kernel_->load(b);
  ASSERT_TRUE(second) << second.error().to_string();
  // The by-name prog array is shared; the other maps existed as files and are not re-pinned.
  EXPECT_EQ(find_map(*first, "xdp_counter_next_prog")->id,
            find_map(*second, "xdp_counter_next_prog")->id);
  EXPECT_EQ(second->pins_created, std::vector<fs::path>{b.prog_pin_path});
  ASSERT_TRUE(kernel_->discard("b"));
  EXPECT_FALSE(fs::exists(b.prog_pin_path));
  EXPECT_TRUE(fs::exists(a.map_pin_dir / "xdp_counter_next_prog"));
  EXPECT_TRUE(fs::exists(a.prog_pin_path));
}

TEST_F(KernelTest, CompatiblePinnedMapIsReusedAndDiscardKeepsIt) {
  // A map pinned by an earlier run (crash, restart) is reused, so its state survives and the
  // pin keeps naming the live map.
  const LoadSpec spec = xdp_spec("k1");
  fs::create_directories(spec.map_pin_dir);
  UniqueFd earlier(bpf_map_create(BPF_MAP_TYPE_ARRAY, "earlier", 4, 8, 1, nullptr));
  ASSERT_TRUE(earlier.valid());
  const fs::path earlier_pin = spec.map_pin_dir / "xdp_counter_bytes";
  ASSERT_EQ(bpf_obj_pin(earlier.get(), earlier_pin.c_str()), 0);
  bpf_map_info info{};
  uint32_t len = sizeof(info);
  ASSERT_EQ(bpf_obj_get_info_by_fd(earlier.get(), &info, &len), 0);

  auto loaded = kernel_->load(spec);
  ASSERT_TRUE(loaded) << loaded.error().to_string();
  const auto* bytes = find_map(*loaded, "xdp_counter_bytes");
  ASSERT_NE(bytes, nullptr);
  EXPECT_EQ(bytes->id, info.id) << "the pinned map is reused, not replaced";
  EXPECT_EQ(bytes->pin, earlier_pin);
  EXPECT_EQ(std::count(loaded->pins_created.begin(), loaded->pins_created.end(), earlier_pin), 0);
  const uint32_t prog_id = loaded->prog_id;

  ASSERT_TRUE(kernel_->discard("k1"));
  for (const auto& p : loaded->pins_created) EXPECT_FALSE(fs::exists(p)) << p;
  EXPECT_TRUE(fs::exists(earlier_pin)) << "discard removes only what the load created";
  EXPECT_TRUE(eventually([&] { return !kernel_->program_exists(prog_id); }));
  EXPECT_EQ(kernel_->discard("k1").error().code, Errc::NotFound);
}

TEST_F(KernelTest, IncompatiblePinnedMapFailsTheLoadAndLeavesNothing) {
  const LoadSpec spec = xdp_spec("k1");
  fs::create_directories(spec.map_pin_dir);
  UniqueFd other(bpf_map_create(BPF_MAP_TYPE_ARRAY, "other", 4, 8, 16, nullptr));
  ASSERT_TRUE(other.valid());
  const fs::path pin = spec.map_pin_dir / "xdp_counter_bytes";
  ASSERT_EQ(bpf_obj_pin(other.get(), pin.c_str()), 0);
  const auto before = pins_under_base();

  auto loaded = kernel_->load(spec);
  ASSERT_FALSE(loaded);
  EXPECT_EQ(pins_under_base(), before) << "no pin created or removed";
  EXPECT_TRUE(fs::exists(pin));
}

TEST_F(KernelTest, UnloadRemovesAllPinsAndEmptyDirectories) {
  const LoadSpec spec = xdp_spec("k1");
  auto loaded = kernel_->load(spec);
  ASSERT_TRUE(loaded) << loaded.error().to_string();
  ASSERT_TRUE(kernel_->unload("k1"));
  EXPECT_EQ(pins_under_base(), std::vector<fs::path>{});
  EXPECT_FALSE(fs::exists(spec.map_pin_dir));
  EXPECT_FALSE(fs::exists(spec.prog_pin_path.parent_path()));
  EXPECT_TRUE(fs::exists("/sys/fs/bpf"));
  EXPECT_TRUE(eventually([&] { return !kernel_->program_exists(loaded->prog_id); }));
  EXPECT_EQ(kernel_->unload("k1").error().code, Errc::NotFound);
}

TEST_F(KernelTest, SameKeyTwiceIsConflict) {
  ASSERT_TRUE(kernel_->load(xdp_spec("k1")));
  auto again = kernel_->load(xdp_spec("k1"));
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, Errc::Conflict);
}

TEST_F(KernelTest, MissingEntryFunctionLeavesNothing) {
  LoadSpec spec = xdp_spec("k1");
  spec.entry_function = "no_such_function";
  auto r = kernel_->load(spec);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::NotFound);
  EXPECT_EQ(pins_under_base(), std::vector<fs::path>{});
  EXPECT_FALSE(fs::exists(spec.map_pin_dir));
}

TEST_F(KernelTest, MissingObjectFileIsNotFound) {
  LoadSpec spec = xdp_spec("k1");
  spec.object_file = base_ / "missing.bpf.o";
  auto r = kernel_->load(spec);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::NotFound);
}

TEST_F(KernelTest, CorruptObjectLeavesNothing) {
  const fs::path dir = fs::temp_directory_path() / ("l3afd-corrupt-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  {
    std::ofstream f(dir / "bad.bpf.o", std::ios::binary);
    f << "\x7f"
         "ELF this is not an object";
  }
  LoadSpec spec = xdp_spec("k1");
  spec.object_file = dir / "bad.bpf.o";
  auto r = kernel_->load(spec);
  fs::remove_all(dir);
  ASSERT_FALSE(r);
  EXPECT_EQ(pins_under_base(), std::vector<fs::path>{});
  EXPECT_FALSE(fs::exists(spec.map_pin_dir));
}

// A file that is not a BPF ELF object is the request's fault (400 at the API), explained in
// words: libbpf's own codes (LIBBPF_ERRNO__FORMAT, ...) are unknown to strerror().
TEST_F(KernelTest, InvalidObjectFileIsInvalidPayloadInWordsAndLeavesNothing) {
  const fs::path dir = fs::temp_directory_path() / ("l3afd-invalid-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  std::string head;
  {
    std::ifstream real(kObjectDir / "xdp_counter.bpf.o", std::ios::binary);
    head.resize(100);
    real.read(head.data(), static_cast<std::streamsize>(head.size()));
    ASSERT_EQ(real.gcount(), 100);
  }
  const std::vector<std::pair<std::string, std::string>> files{
      {"empty.bpf.o", ""},
      {"text.bpf.o", "this is a text file, not an object\n"},
      {"truncated.bpf.o", head},
  };
  for (const auto& [name, content] : files) {
    SCOPED_TRACE(name);
    {
      std::ofstream f(dir / name, std::ios::binary);
      f << content;
    }
    LoadSpec spec = xdp_spec("k1");
    spec.object_file = dir / name;
    auto r = kernel_->load(spec);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, Errc::InvalidPayload) << r.error().to_string();
    EXPECT_EQ(r.error().sys_errno, 0);
    EXPECT_NE(r.error().message.find("object_file " + name + " is not a valid BPF ELF object: "),
              std::string::npos)
        << r.error().message;
    EXPECT_EQ(r.error().to_string().find("Unknown error"), std::string::npos)
        << r.error().to_string();
    ASSERT_EQ(r.error().items.size(), 1u);
    EXPECT_EQ(r.error().items[0].field, "object_file");
    EXPECT_EQ(pins_under_base(), std::vector<fs::path>{});
    EXPECT_FALSE(fs::exists(spec.map_pin_dir));
    EXPECT_FALSE(fs::exists(spec.prog_pin_path.parent_path()));
  }
  fs::remove_all(dir);
}

TEST_F(KernelTest, VerifierFailureReportsLogTailAndLeavesNothing) {
  // verifier_reject.bpf.o reads the packet without a bounds check and has a by-name map.
  LoadSpec spec = xdp_spec("k1");
  spec.object_file = kObjectDir / "verifier_reject.bpf.o";
  spec.entry_function = "verifier_reject";
  auto r = kernel_->load(spec);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::Kernel);
  EXPECT_NE(r.error().message.find("verifier log"), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find("invalid access to packet"), std::string::npos)
      << r.error().message;
  EXPECT_EQ(pins_under_base(), std::vector<fs::path>{});
}

}  // namespace
}  // namespace l3afd::kernel::libbpf
