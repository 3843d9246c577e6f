// The fake kernel's model of probes: sections from ObjectDef::programs with the real adapter's
// rules, load/discard/unload of a probe key on the pin model, injected failures leaving the
// model unchanged, and adoption of pinned links after forget() (a daemon restart).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "kernel/fake/fake_kernel.h"

namespace l3afd::kernel::fake {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::UnorderedElementsAreArray;

constexpr uint32_t kArray = 2;  // BPF_MAP_TYPE_ARRAY

class FakeProbesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ObjectDef def;
    def.maps = {MapInfo{"probe_config", 0, kArray, 4, 8, 1, {}},
                MapInfo{"probe_count", 0, kArray, 4, 8, 1, {}}};
    def.programs = {{"xdp_main", "xdp"},
                    {"on_getppid", "tracepoint/syscalls/sys_enter_getppid"},
                    {"on_call", "uprobe//bin/x:f"}};
    kernel_.define_object("probe_counter.bpf.o", def);
    ObjectDef kprobes;
    kprobes.programs = {{"on_unlink", "kprobe/do_unlinkat"}};
    kernel_.define_object("kprobe_counter.bpf.o", kprobes);
    ObjectDef none;
    none.entry_function = "xdp_main";
    none.programs = {{"xdp_main", "xdp"}};
    kernel_.define_object("xdp.bpf.o", none);
  }
  static ProbeSpec spec(const std::string& key, const std::string& file = "probe_counter.bpf.o") {
    return {key, "/pkg/" + file, "/sys/fs/bpf/probe-counter/1_0",
            "/sys/fs/bpf/links/probes/probe-counter/1_0"};
  }
  static void expect_object_file_refusal(const Error& e, const std::string& words) {
    EXPECT_EQ(e.code, Errc::InvalidPayload) << e.to_string();
    EXPECT_THAT(e.message, HasSubstr(words));
    ASSERT_EQ(e.items.size(), 1u);
    EXPECT_EQ(e.items[0].field, "object_file");
  }

  Injector inj_;
  FakeKernel kernel_{inj_};
};

TEST_F(FakeProbesTest, SectionsAndRefusalsFollowTheAdaptersRules) {
  auto s = kernel_.probe_sections("/pkg/probe_counter.bpf.o");
  ASSERT_TRUE(s) << s.error().to_string();
  EXPECT_THAT(*s, ElementsAre(ProbeSection{"on_getppid", "tracepoint/syscalls/sys_enter_getppid",
                                           ProbeKind::Tracepoint},
                              ProbeSection{"on_call", "uprobe//bin/x:f", ProbeKind::Uprobe}));
  auto k = kernel_.probe_sections("/pkg/kprobe_counter.bpf.o");
  ASSERT_TRUE(k) << "kprobes supported by default";
  kernel_.set_kprobe_support(false);
  auto refused = kernel_.load_probes(spec("k", "kprobe_counter.bpf.o"));
  ASSERT_FALSE(refused);
  expect_object_file_refusal(refused.error(), "section kprobe/do_unlinkat needs kprobes");
  auto none = kernel_.probe_sections("/pkg/xdp.bpf.o");
  ASSERT_FALSE(none);
  expect_object_file_refusal(none.error(), "object holds no probe program");
  auto missing = kernel_.probe_sections("/pkg/missing.bpf.o");
  ASSERT_FALSE(missing);
  expect_object_file_refusal(missing.error(), "cannot be read");
  EXPECT_TRUE(kernel_.model().pins.empty());
  EXPECT_EQ(inj_.calls(), 0) << "refusals change nothing";
}

TEST_F(FakeProbesTest, LoadPinsLinksAndMapsDiscardRestoresTheModel) {
  const FakeKernel::Model before = kernel_.model();
  auto loaded = kernel_.load_probes(spec("p"));
  ASSERT_TRUE(loaded) << loaded.error().to_string();
  ASSERT_EQ(loaded->probes.size(), 2u);
  const std::string links = "/sys/fs/bpf/links/probes/probe-counter/1_0/";
  const std::string maps = "/sys/fs/bpf/probe-counter/1_0/";
  EXPECT_EQ(loaded->probes[0].link_pin, links + "on_getppid_tracepoint");
  EXPECT_EQ(loaded->probes[1].link_pin, links + "on_call_uprobe");
  EXPECT_NE(loaded->probes[0].prog_id, loaded->probes[1].prog_id);
  EXPECT_NE(loaded->probes[0].link_id, 0u);
  EXPECT_THAT(kernel_.model().objects.at("p"),
              ElementsAre(links + "on_getppid_tracepoint", links + "on_call_uprobe",
                          maps + "probe_config", maps + "probe_count"));
  EXPECT_EQ(loaded->pins_created.size(), 4u);
  EXPECT_EQ(kernel_.load_probes(spec("p")).error().code, Errc::Conflict);

  ASSERT_TRUE(kernel_.configure_maps("p", {{"probe_config", {{{0, 42}}}}}, {}));
  EXPECT_EQ(kernel_.read_map_value("p", "probe_config", 0).value_or(0), 42u);
  ASSERT_TRUE(kernel_.discard("p"));
  EXPECT_EQ(kernel_.model(), before);
}

TEST_F(FakeProbesTest, UnloadRemovesEveryPinOfTheKey) {
  ASSERT_TRUE(kernel_.load_probes(spec("p")));
  ASSERT_TRUE(kernel_.unload("p"));
  EXPECT_TRUE(kernel_.model().pins.empty());
  EXPECT_TRUE(kernel_.model().objects.empty());
  EXPECT_EQ(kernel_.unload("p").error().code, Errc::NotFound);
}

TEST_F(FakeProbesTest, InjectedFailuresLeaveTheModelUnchanged) {
  const FakeKernel::Model before = kernel_.model();
  inj_.fail_call(1);
  ASSERT_FALSE(kernel_.load_probes(spec("p")));
  EXPECT_EQ(kernel_.model(), before);
  EXPECT_THAT(inj_.log(), ElementsAre("load probes p"));

  inj_.fail_call(0);
  ASSERT_TRUE(kernel_.load_probes(spec("p")));
  kernel_.forget("p");
  const FakeKernel::Model pinned = kernel_.model();
  inj_.fail_call(1);
  ASSERT_FALSE(kernel_.adopt_probes(spec("p2")));
  EXPECT_EQ(kernel_.model(), pinned);
}

TEST_F(FakeProbesTest, ForgottenProbesAreAdoptedFromTheirPins) {
  auto loaded = kernel_.load_probes(spec("p"));
  ASSERT_TRUE(loaded);
  ASSERT_TRUE(kernel_.configure_maps("p", {{"probe_count", {{{0, 7}}}}}, {}));
  EXPECT_EQ(kernel_.adopt_probes(spec("p")).error().code, Errc::Conflict);
  kernel_.forget("p");  // the daemon died; pins (and so links) stay
  EXPECT_TRUE(kernel_.model().objects.empty());
  EXPECT_EQ(kernel_.model().pins.size(), 4u);

  ProbeSpec elsewhere = spec("x");
  elsewhere.link_dir = "/sys/fs/bpf/links/probes/other/1_0";
  EXPECT_EQ(kernel_.adopt_probes(elsewhere).error().code, Errc::NotFound);

  auto adopted = kernel_.adopt_probes(spec("p2"));
  ASSERT_TRUE(adopted) << adopted.error().to_string();
  EXPECT_THAT(adopted->probes, UnorderedElementsAreArray(loaded->probes)) << "in pin name order";
  EXPECT_THAT(adopted->maps, UnorderedElementsAreArray(loaded->maps));
  EXPECT_TRUE(adopted->pins_created.empty());
  EXPECT_EQ(kernel_.read_map_value("p2", "probe_count", 0).value_or(0), 7u);
  ASSERT_TRUE(kernel_.discard("p2"));
  EXPECT_EQ(kernel_.model().pins.size(), 4u) << "discard of an adopted key removes no pin";
  ASSERT_TRUE(kernel_.adopt_probes(spec("p2")));
  ASSERT_TRUE(kernel_.unload("p2"));
  EXPECT_TRUE(kernel_.model().pins.empty());
  EXPECT_EQ(kernel_.adopt_probes(spec("p3")).error().code, Errc::NotFound);
}

}  // namespace
}  // namespace l3afd::kernel::fake
