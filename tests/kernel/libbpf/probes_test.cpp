// Probes of the libbpf adapter (bpf_programs.probes, docs/packages.md §1.4) against the real
// kernel: sections read without loading, refusals before anything is created, a tracepoint and
// a uprobe that count exactly what the test triggers, link pins at `<link dir>/<function>_<kind>`,
// discard/unload leaving nothing, and adoption of the pinned links by a new adapter.
#include <bpf/bpf.h>
#include <gmock/gmock.h>
#include <linux/bpf.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <string>

#include "kernel/libbpf/libbpf_kernel.h"
#include "kernel_fixture.h"

extern char** environ;

namespace l3afd::kernel::libbpf {
namespace {

using ::testing::HasSubstr;
using ::testing::UnorderedElementsAre;

const std::string kTarget = L3AFD_PROBE_TARGET;
constexpr int kN = 7;

/// `n` getppid() system calls of this process (the tracepoint filters on our tgid).
void call_getppid(int n) {
  for (int i = 0; i < n; ++i) (void)::syscall(SYS_getppid);
}

/// Runs l3afd-probe-target, which calls l3afd_probe_target() `n` times; true if it exited 0.
bool call_target(int n) {
  const std::string count = std::to_string(n);
  char* argv[] = {const_cast<char*>(kTarget.c_str()), const_cast<char*>(count.c_str()), nullptr};
  pid_t pid = 0;
  if (::posix_spawn(&pid, kTarget.c_str(), nullptr, nullptr, argv, environ) != 0) return false;
  int status = 0;
  return ::waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

/// True if a link with this id exists in the kernel.
bool link_exists(uint32_t id) {
  UniqueFd fd(bpf_link_get_fd_by_id(id));
  return fd.valid();
}

/// Value at key 0 of the map whose fd is `fd` (a u64 ARRAY).
uint64_t value_of(int fd) {
  uint32_t k = 0;
  uint64_t v = 0;
  EXPECT_EQ(bpf_map_lookup_elem(fd, &k, &v), 0) << errno;
  return v;
}

class ProbesTest : public KernelTest {
 protected:
  /// True once triggering (`trigger`) no longer changes the counter `fd`. Removing the last pin
  /// of a link only schedules its release (the kernel frees the link in a work item), so a probe
  /// may still fire for a moment after unload()/discard() returned.
  static bool stops_counting(int fd, const std::function<void()>& trigger) {
    return eventually([&] {
      const uint64_t before = value_of(fd);
      trigger();
      return value_of(fd) == before;
    });
  }
  ProbeSpec spec(const std::string& key, const std::string& object = "probe_counter.bpf.o") const {
    return {key, kObjectDir / object, base_ / "probe-counter" / "1_0",
            base_ / "links" / "probes" / "probe-counter" / "1_0"};
  }
  Status watch_this_process(const std::string& key) {
    return kernel_->configure_maps(key, {{"probe_counter_config", {{{0, ::getpid()}}}}}, {});
  }
  static const AttachedProbe* probe(const LoadedProbes& p, const std::string& function) {
    auto it = std::find_if(p.probes.begin(), p.probes.end(),
                           [&](const AttachedProbe& a) { return a.section.function == function; });
    return it == p.probes.end() ? nullptr : &*it;
  }
  static void expect_object_file_refusal(const Error& e, const std::string& words) {
    EXPECT_EQ(e.code, Errc::InvalidPayload) << e.to_string();
    EXPECT_THAT(e.message, HasSubstr(words));
    ASSERT_EQ(e.items.size(), 1u);
    EXPECT_EQ(e.items[0].field, "object_file");
  }
  static bool host_has_kprobes() {
    std::error_code ec;
    return fs::exists("/sys/bus/event_source/devices/kprobe", ec) ||
           fs::exists("/sys/kernel/tracing/kprobe_events", ec) ||
           fs::exists("/sys/kernel/debug/tracing/kprobe_events", ec);
  }
};

TEST_F(ProbesTest, SectionsListExactlyTheProbePrograms) {
  auto sections = kernel_->probe_sections(kObjectDir / "probe_counter.bpf.o");
  ASSERT_TRUE(sections) << sections.error().to_string();
  EXPECT_THAT(*sections,
              UnorderedElementsAre(
                  ProbeSection{"probe_getppid", "tracepoint/syscalls/sys_enter_getppid",
                               ProbeKind::Tracepoint},
                  ProbeSection{"probe_target_call", "uprobe/" + kTarget + ":l3afd_probe_target",
                               ProbeKind::Uprobe}));
  EXPECT_TRUE(pins_under_base().empty()) << "reading sections creates nothing";
}

TEST_F(ProbesTest, AnObjectWithoutProbesOrAMissingFileIsRefusedOnObjectFile) {
  auto none = kernel_->probe_sections(kObjectDir / "xdp_counter.bpf.o");
  ASSERT_FALSE(none);
  expect_object_file_refusal(none.error(), "object holds no probe program");
  auto missing = kernel_->probe_sections(kObjectDir / "no_such.bpf.o");
  ASSERT_FALSE(missing);
  expect_object_file_refusal(missing.error(), "cannot be read");
  auto load = kernel_->load_probes(spec("p", "xdp_counter.bpf.o"));
  ASSERT_FALSE(load);
  expect_object_file_refusal(load.error(), "object holds no probe program");
  EXPECT_TRUE(pins_under_base().empty());
}

TEST_F(ProbesTest, KprobesAreRefusedBeforeAnythingIsLoadedOnAKernelWithoutThem) {
  if (host_has_kprobes()) GTEST_SKIP() << "this kernel has kprobes";
  auto sections = kernel_->probe_sections(kObjectDir / "kprobe_counter.bpf.o");
  ASSERT_FALSE(sections);
  expect_object_file_refusal(sections.error(), "this kernel has no kprobe support");
  EXPECT_THAT(sections.error().message, HasSubstr("section kprobe/do_unlinkat"));
  EXPECT_THAT(sections.error().message, HasSubstr("no kprobe PMU"));

  auto load = kernel_->load_probes(spec("k", "kprobe_counter.bpf.o"));
  ASSERT_FALSE(load);
  expect_object_file_refusal(load.error(), "this kernel has no kprobe support");
  EXPECT_FALSE(fs::exists(base_ / "probe-counter")) << "no directory, no pin";
  EXPECT_TRUE(pins_under_base().empty());
}

TEST_F(ProbesTest, AUprobeWithoutBinaryAndFunctionIsRefusedNamingItsSection) {
  auto load = kernel_->load_probes(spec("m", "probe_manual.bpf.o"));
  ASSERT_FALSE(load);
  expect_object_file_refusal(load.error(), "section uprobe cannot be attached automatically");
  EXPECT_TRUE(pins_under_base().empty());
}

TEST_F(ProbesTest, AFailedAttachLeavesNothing) {
  // Assume kprobes on a kernel without them: the object loads, the kprobe attach fails, and
  // the rollback removes the map pins, the link pins and directories and detaches every link.
  if (host_has_kprobes()) GTEST_SKIP() << "this kernel has kprobes: the attach would succeed";
  kernel_ = std::make_unique<LibbpfKernel>(LibbpfKernelOptions{.kprobes = true});
  auto load = kernel_->load_probes(spec("k", "kprobe_counter.bpf.o"));
  ASSERT_FALSE(load);
  EXPECT_EQ(load.error().code, Errc::Kernel) << load.error().to_string();
  EXPECT_THAT(load.error().message, HasSubstr("attach probe"));
  EXPECT_TRUE(pins_under_base().empty());
  EXPECT_FALSE(fs::exists(base_ / "links"));
  EXPECT_FALSE(kernel_->read_map_value("k", "kprobe_getppid_count", 0)) << "key not kept";
}

TEST_F(ProbesTest, LoadedProbesCountExactlyWhatIsTriggeredAndLinksArePinned) {
  const ProbeSpec s = spec("p");
  auto loaded = kernel_->load_probes(s);
  ASSERT_TRUE(loaded) << loaded.error().to_string();
  ASSERT_EQ(loaded->probes.size(), 2u);
  const AttachedProbe* tp = probe(*loaded, "probe_getppid");
  const AttachedProbe* up = probe(*loaded, "probe_target_call");
  ASSERT_NE(tp, nullptr);
  ASSERT_NE(up, nullptr);
  EXPECT_EQ(tp->link_pin, s.link_dir / "probe_getppid_tracepoint");
  EXPECT_EQ(up->link_pin, s.link_dir / "probe_target_call_uprobe");
  for (const AttachedProbe* a : {tp, up}) {
    EXPECT_NE(a->prog_id, 0u);
    EXPECT_TRUE(kernel_->program_exists(a->prog_id));
    EXPECT_EQ(pinned_id(a->link_pin), a->link_id) << a->link_pin;
  }
  for (const char* m : {"probe_counter_config", "probe_getppid_count", "probe_target_count"}) {
    EXPECT_TRUE(fs::exists(s.map_pin_dir / m)) << m;
  }
  EXPECT_EQ(loaded->pins_created.size(), 5u) << "3 maps, 2 links";
  EXPECT_TRUE(kernel_->program_loaded("p")) << "every probe link resolves";

  ASSERT_TRUE(watch_this_process("p"));
  call_getppid(kN);
  ASSERT_TRUE(call_target(kN));
  EXPECT_EQ(read("p", "probe_getppid_count"), static_cast<uint64_t>(kN))
      << "only this process's calls count";
  EXPECT_EQ(read("p", "probe_target_count"), static_cast<uint64_t>(kN));
  EXPECT_FALSE(kernel_->load_probes(s)) << "the key is taken";
  ASSERT_TRUE(kernel_->unload("p"));
  EXPECT_FALSE(kernel_->program_loaded("p"));
}

TEST_F(ProbesTest, DiscardLeavesNothingAndDetaches) {
  auto loaded = kernel_->load_probes(spec("p"));
  ASSERT_TRUE(loaded) << loaded.error().to_string();
  ASSERT_TRUE(watch_this_process("p"));
  UniqueFd count(bpf_obj_get((spec("p").map_pin_dir / "probe_getppid_count").c_str()));
  ASSERT_TRUE(count.valid());
  ASSERT_TRUE(kernel_->discard("p"));
  EXPECT_TRUE(pins_under_base().empty());
  EXPECT_FALSE(fs::exists(base_ / "links")) << "directories the load created are gone";
  for (const auto& a : loaded->probes) {
    EXPECT_TRUE(eventually([&] { return !link_exists(a.link_id); })) << a.section.function;
  }
  ASSERT_TRUE(stops_counting(count.get(), [] { call_getppid(1); }));
  const uint64_t settled = value_of(count.get());
  call_getppid(kN);
  EXPECT_EQ(value_of(count.get()), settled) << "detached: nothing counts";
  EXPECT_FALSE(kernel_->read_map_value("p", "probe_getppid_count", 0));
}

TEST_F(ProbesTest, UnloadRemovesThePinsAndTheProbesStopCounting) {
  const ProbeSpec s = spec("p");
  auto loaded = kernel_->load_probes(s);
  ASSERT_TRUE(loaded) << loaded.error().to_string();
  ASSERT_TRUE(watch_this_process("p"));
  UniqueFd tp_count(bpf_obj_get((s.map_pin_dir / "probe_getppid_count").c_str()));
  UniqueFd up_count(bpf_obj_get((s.map_pin_dir / "probe_target_count").c_str()));
  ASSERT_TRUE(tp_count.valid() && up_count.valid());
  call_getppid(kN);
  ASSERT_TRUE(call_target(kN));
  ASSERT_TRUE(kernel_->unload("p"));
  EXPECT_TRUE(pins_under_base().empty());
  EXPECT_FALSE(fs::exists(s.link_dir));
  EXPECT_FALSE(fs::exists(s.map_pin_dir));
  for (const auto& a : loaded->probes) {
    EXPECT_TRUE(eventually([&] { return !link_exists(a.link_id); })) << a.section.function;
  }
  ASSERT_TRUE(stops_counting(tp_count.get(), [] { call_getppid(1); }));
  ASSERT_TRUE(stops_counting(up_count.get(), [] { ASSERT_TRUE(call_target(1)); }));
  const uint64_t tp_settled = value_of(tp_count.get());
  const uint64_t up_settled = value_of(up_count.get());
  EXPECT_LE(tp_settled, static_cast<uint64_t>(kN) + 20) << "at most a few late counts";
  call_getppid(kN);
  ASSERT_TRUE(call_target(kN));
  EXPECT_EQ(value_of(tp_count.get()), tp_settled) << "no count after unload";
  EXPECT_EQ(value_of(up_count.get()), up_settled);
}

TEST_F(ProbesTest, ANewAdapterAdoptsThePinnedLinksAndCountingContinues) {
  const ProbeSpec s = spec("p");
  auto loaded = kernel_->load_probes(s);
  ASSERT_TRUE(loaded) << loaded.error().to_string();
  ASSERT_TRUE(watch_this_process("p"));
  call_getppid(kN);
  ASSERT_TRUE(call_target(kN));

  // The daemon goes away: its fds close, the pinned links keep the probes running.
  kernel_.reset();
  call_getppid(kN);
  ASSERT_TRUE(call_target(kN));

  kernel_ = std::make_unique<LibbpfKernel>();
  EXPECT_FALSE(kernel_->adopt_probes(ProbeSpec{"x", s.object_file, s.map_pin_dir, base_ / "none"}))
      << "no link pinned there: NotFound";
  ProbeSpec again = s;
  again.key = "p2";
  auto adopted = kernel_->adopt_probes(again);
  ASSERT_TRUE(adopted) << adopted.error().to_string();
  EXPECT_THAT(adopted->probes, UnorderedElementsAre(*probe(*loaded, "probe_getppid"),
                                                    *probe(*loaded, "probe_target_call")))
      << "same links, programs, pins and sections";
  EXPECT_EQ(adopted->maps.size(), 3u);
  EXPECT_TRUE(adopted->pins_created.empty());
  EXPECT_EQ(read("p2", "probe_getppid_count"), static_cast<uint64_t>(2 * kN));
  EXPECT_EQ(read("p2", "probe_target_count"), static_cast<uint64_t>(2 * kN));
  call_getppid(kN);
  ASSERT_TRUE(call_target(kN));
  EXPECT_EQ(read("p2", "probe_getppid_count"), static_cast<uint64_t>(3 * kN));
  EXPECT_EQ(read("p2", "probe_target_count"), static_cast<uint64_t>(3 * kN));
  EXPECT_FALSE(kernel_->adopt_probes(again)) << "the key is taken";

  // Discard of an adopted key removes nothing; the next adoption finds the same links.
  ASSERT_TRUE(kernel_->discard("p2"));
  EXPECT_TRUE(fs::exists(s.link_dir / "probe_getppid_tracepoint"));
  ASSERT_TRUE(kernel_->adopt_probes(again));
  ASSERT_TRUE(kernel_->unload("p2"));
  EXPECT_TRUE(pins_under_base().empty());
  for (const auto& a : loaded->probes) {
    EXPECT_TRUE(eventually([&] { return !link_exists(a.link_id); })) << a.section.function;
  }
}

}  // namespace
}  // namespace l3afd::kernel::libbpf
