// The probe classification both kernel adapters share (kernel/probe_sections.h): section
// prefixes, what libbpf can attach by itself, the refusals with their words, link pin names.
#include "kernel/probe_sections.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace l3afd::kernel {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

TEST(ProbeSections, KindFromEveryLibbpfPrefixAndNothingElse) {
  const std::vector<std::pair<std::string, ProbeKind>> probes = {
      {"tracepoint/syscalls/sys_enter_getppid", ProbeKind::Tracepoint},
      {"tp/sock/inet_sock_set_state", ProbeKind::Tracepoint},
      {"raw_tracepoint/sched_switch", ProbeKind::RawTracepoint},
      {"raw_tp/sched_switch", ProbeKind::RawTracepoint},
      {"raw_tp.w/sched_switch", ProbeKind::RawTracepoint},
      {"tp_btf/inet_sock_set_state", ProbeKind::TpBtf},
      {"uprobe//usr/lib/libcurl.so.4:curl_version_info", ProbeKind::Uprobe},
      {"uprobe.s//bin/x:f", ProbeKind::Uprobe},
      {"uretprobe//lib/libbz2.so.1:BZ2_bzReadClose", ProbeKind::Uretprobe},
      {"uretprobe.s//bin/x:f", ProbeKind::Uretprobe},
      {"kprobe/do_unlinkat", ProbeKind::Kprobe},
      {"ksyscall/unlinkat", ProbeKind::Kprobe},
      {"kprobe.multi/do_*", ProbeKind::Kprobe},
      {"kretprobe/do_unlinkat", ProbeKind::Kretprobe},
      {"kretsyscall/unlinkat", ProbeKind::Kretprobe},
      {"uprobe", ProbeKind::Uprobe},
      {"tp_btf", ProbeKind::TpBtf},
  };
  for (const auto& [sec, kind] : probes) {
    EXPECT_EQ(probe_kind_of_section(sec), kind) << sec;
  }
  for (const char* other :
       {"xdp", "xdp_ratelimiting", "tc", "tcx/ingress", "iter/tcp", "fentry/do_unlinkat", "tpx/a/b",
        "tracepoints/a/b", "kprobes/x", "uprobex//bin/x:f", ".text", ""}) {
    EXPECT_EQ(probe_kind_of_section(other), std::nullopt) << other;
  }
  EXPECT_TRUE(needs_kprobes(ProbeKind::Kprobe));
  EXPECT_TRUE(needs_kprobes(ProbeKind::Kretprobe));
  EXPECT_FALSE(needs_kprobes(ProbeKind::Uprobe));
  EXPECT_FALSE(needs_kprobes(ProbeKind::Tracepoint));
}

TEST(ProbeSections, AutoAttachNeedsATargetLibbpfCanParse) {
  for (const auto& [kind, sec] : std::vector<std::pair<ProbeKind, std::string>>{
           {ProbeKind::Tracepoint, "tracepoint/syscalls/sys_enter_getppid"},
           {ProbeKind::RawTracepoint, "raw_tp/sched_switch"},
           {ProbeKind::TpBtf, "tp_btf/inet_sock_set_state"},
           {ProbeKind::Uprobe, "uprobe//bin/x:f"},
           {ProbeKind::Uprobe, "uprobe/libc.so.6:malloc"},
           {ProbeKind::Uprobe, "uprobe//bin/x:f+0x10"},
           {ProbeKind::Uprobe, "uprobe//bin/x:f.cold"},
           {ProbeKind::Uretprobe, "uretprobe//bin/x:f"},
           {ProbeKind::Kprobe, "kprobe/do_unlinkat"},
       }) {
    EXPECT_EQ(auto_attach_problem(kind, sec), "") << sec;
  }
  EXPECT_THAT(auto_attach_problem(ProbeKind::Uprobe, "uprobe"),
              HasSubstr("section uprobe cannot be attached automatically: it names no attach "
                        "point (expected uprobe/<binary path>:<function>[+<offset>])"));
  EXPECT_THAT(auto_attach_problem(ProbeKind::Uprobe, "uprobe//bin/x"),
              HasSubstr("no <binary>:<function>"));
  EXPECT_THAT(auto_attach_problem(ProbeKind::Uprobe, "uprobe/:f"),
              HasSubstr("no <binary>:<function>"));
  EXPECT_THAT(auto_attach_problem(ProbeKind::Uprobe, "uprobe//bin/x:"),
              HasSubstr("no function after ':'"));
  EXPECT_THAT(auto_attach_problem(ProbeKind::Uprobe, "uprobe//bin/x:f@GLIBC"),
              HasSubstr("unexpected characters"));
  EXPECT_THAT(auto_attach_problem(ProbeKind::Uretprobe, "uretprobe//bin/x:f+8"),
              HasSubstr("uretprobes take no offset"));
  EXPECT_THAT(auto_attach_problem(ProbeKind::Tracepoint, "tracepoint/syscalls"),
              HasSubstr("no <category>/<event>"));
  EXPECT_THAT(auto_attach_problem(ProbeKind::Tracepoint, "tp/syscalls/"),
              HasSubstr("no <category>/<event>"));
  EXPECT_THAT(auto_attach_problem(ProbeKind::Kprobe, "kprobe"), HasSubstr("no attach point"));
}

TEST(ProbeSections, ClassifyKeepsTheObjectsOrderAndSkipsOtherPrograms) {
  const std::vector<ObjectProgram> programs = {
      {"xdp_main", "xdp"},
      {"on_state", "tracepoint/sock/inet_sock_set_state"},
      {"seed", "iter/tcp"},
      {"on_call", "uprobe//bin/x:f"},
      {"on_unlink", "kprobe/do_unlinkat"},
  };
  auto out = classify_probe_programs("/pkg/x.bpf.o", programs, KprobeSupport{true, ""});
  ASSERT_TRUE(out) << out.error().to_string();
  EXPECT_THAT(*out,
              ElementsAre(ProbeSection{"on_state", "tracepoint/sock/inet_sock_set_state",
                                       ProbeKind::Tracepoint},
                          ProbeSection{"on_call", "uprobe//bin/x:f", ProbeKind::Uprobe},
                          ProbeSection{"on_unlink", "kprobe/do_unlinkat", ProbeKind::Kprobe}));
}

TEST(ProbeSections, RefusalsAreInvalidPayloadOnObjectFile) {
  auto check = [](const Result<std::vector<ProbeSection>>& r, const std::string& words) {
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, Errc::InvalidPayload);
    EXPECT_THAT(r.error().message, HasSubstr(words));
    ASSERT_EQ(r.error().items.size(), 1u);
    EXPECT_EQ(r.error().items[0].field, "object_file");
  };
  check(classify_probe_programs("/pkg/x.bpf.o", {{"xdp_main", "xdp"}}, {}),
        "object_file x.bpf.o: object holds no probe program (sections tracepoint/, raw_tp/, "
        "tp_btf/, uprobe/, uretprobe/, kprobe/, kretprobe/)");
  check(classify_probe_programs("/pkg/x.bpf.o", {}, {}), "object holds no probe program");
  check(classify_probe_programs(
            "/pkg/x.bpf.o",
            {{"on_state", "tp/sock/inet_sock_set_state"}, {"r", "kretprobe/do_unlinkat"}},
            KprobeSupport{false, "no kprobe PMU"}),
        "section kretprobe/do_unlinkat needs kprobes, but this kernel has no kprobe support "
        "(no kprobe PMU)");
  check(classify_probe_programs("/pkg/x.bpf.o", {{"m", "uprobe"}}, {}),
        "object_file x.bpf.o: section uprobe cannot be attached automatically");
}

TEST(ProbeSections, LinkPinNamesRoundTrip) {
  const ProbeSection tp{"on_state", "tracepoint/sock/inet_sock_set_state", ProbeKind::Tracepoint};
  EXPECT_EQ(probe_link_pin_name(tp), "on_state_tracepoint");
  EXPECT_EQ(probe_link_pin_name({"f", "raw_tp/x", ProbeKind::RawTracepoint}), "f_raw_tracepoint");
  EXPECT_EQ(probe_link_pin_name({"f", "uretprobe//b:g", ProbeKind::Uretprobe}), "f_uretprobe");
  using P = std::pair<std::string, ProbeKind>;
  EXPECT_THAT(parse_probe_link_pin_name("on_state_tracepoint"),
              ElementsAre(P{"on_state", ProbeKind::Tracepoint}));
  EXPECT_THAT(parse_probe_link_pin_name("f_raw_tracepoint"),
              ElementsAre(P{"f", ProbeKind::RawTracepoint}, P{"f_raw", ProbeKind::Tracepoint}));
  EXPECT_THAT(parse_probe_link_pin_name("g_uretprobe"), ElementsAre(P{"g", ProbeKind::Uretprobe}));
  EXPECT_THAT(parse_probe_link_pin_name("g_tp_btf"), ElementsAre(P{"g", ProbeKind::TpBtf}));
  EXPECT_TRUE(parse_probe_link_pin_name("cl_track_state_tp").empty()) << "a companion pin";
  EXPECT_TRUE(parse_probe_link_pin_name("_uprobe").empty());
  EXPECT_TRUE(parse_probe_link_pin_name("xdp_counter_xdp").empty());
}

}  // namespace
}  // namespace l3afd::kernel
