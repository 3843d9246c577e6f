// attach()/detach() of the libbpf adapter on veth pairs with real traffic.
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/if_link.h>
#include <net/if.h>

#include "kernel/libbpf/compat.h"
#include "kernel/libbpf/libbpf_kernel.h"
#include "kernel/libbpf/link_swap.h"
#include "kernel/libbpf/rtnetlink.h"
#include "kernel/libbpf/tc_constants.h"
#include "kernel_fixture.h"
#include "support/netns.h"

namespace l3afd::kernel::libbpf {
namespace {

using l3afd::testing::run_command;
using l3afd::testing::VethPair;

constexpr int kPackets = 10;

class AttachTest : public KernelTest {
 protected:
  void SetUp() override {
    KernelTest::SetUp();
    ASSERT_EQ(veth_.error(), "");
    ifindex_ = ::if_nametoindex(veth_.root_name().c_str());
    ASSERT_NE(ifindex_, 0u);
  }
  AttachSpec spec(const std::string& key, model::Hook hook, const fs::path& pin,
                  TcMode mode = TcMode::Auto) const {
    return {key, veth_.root_name(), hook, pin, mode, std::nullopt};
  }
  uint32_t xdp_prog_id(uint8_t* mode = nullptr) const {
    LIBBPF_OPTS(bpf_xdp_query_opts, q);
    if (bpf_xdp_query(static_cast<int>(ifindex_), 0, &q) != 0) return 0;
    if (mode != nullptr) *mode = q.attach_mode;
    return q.prog_id;
  }
  uint32_t tcx_count(bool egress = false) const {
    uint32_t flags = 0, count = 0;
    if (bpf_prog_query(static_cast<int>(ifindex_), egress ? kBpfTcxEgress : kBpfTcxIngress, 0,
                       &flags, nullptr, &count) != 0) {
      return 0;
    }
    return count;
  }
  std::vector<TcFilterInfo> filters(bool egress = false) const {
    auto nl = Rtnetlink::open();
    EXPECT_TRUE(nl);
    auto f = nl->list_filters(ifindex_, clsact_parent(egress));
    EXPECT_TRUE(f) << (f ? "" : f.error().to_string());
    return f ? *f : std::vector<TcFilterInfo>{};
  }

  VethPair veth_;
  uint32_t ifindex_ = 0;
};

TEST_F(AttachTest, XdpNativeCountsTrafficAndDetachRemovesEverything) {
  auto loaded = kernel_->load(xdp_spec("x"));
  ASSERT_TRUE(loaded) << loaded.error().to_string();
  const fs::path pin = link_pin("xdp-counter", "_xdp");
  auto att = kernel_->attach(spec("x", model::Hook::XdpIngress, pin));
  ASSERT_TRUE(att) << att.error().to_string();
  EXPECT_EQ(att->mode, AttachMode::XdpNative);
  EXPECT_EQ(att->ifindex, ifindex_);
  EXPECT_NE(att->link_id, 0u);
  EXPECT_EQ(pinned_id(pin), att->link_id);
  uint8_t mode = 0;
  EXPECT_EQ(xdp_prog_id(&mode), loaded->prog_id);
  EXPECT_EQ(mode, XDP_ATTACHED_DRV);

  EXPECT_EQ(veth_.send_udp_from_peer(kPackets), kPackets);
  EXPECT_GE(read("x", "xdp_counter_packets"), static_cast<uint64_t>(kPackets));

  EXPECT_EQ(kernel_->attach(spec("x", model::Hook::XdpIngress, pin)).error().code, Errc::Conflict);
  ASSERT_TRUE(kernel_->detach("x"));
  EXPECT_FALSE(fs::exists(pin));
  EXPECT_TRUE(eventually([&] { return xdp_prog_id() == 0; }));
  EXPECT_EQ(kernel_->detach("x").error().code, Errc::NotFound);
  ASSERT_TRUE(kernel_->unload("x"));
  EXPECT_TRUE(eventually([&] { return !kernel_->program_exists(loaded->prog_id); }));
  EXPECT_EQ(pins_under_base(), std::vector<fs::path>{});
}

TEST_F(AttachTest, XdpGenericWhenForced) {
  kernel_ = std::make_unique<LibbpfKernel>(LibbpfKernelOptions{.xdp_generic_only = true});
  auto loaded = kernel_->load(xdp_spec("x"));
  ASSERT_TRUE(loaded) << loaded.error().to_string();
  auto att = kernel_->attach(spec("x", model::Hook::XdpIngress, link_pin("xdp-counter", "_xdp")));
  ASSERT_TRUE(att) << att.error().to_string();
  EXPECT_EQ(att->mode, AttachMode::XdpGeneric);
  uint8_t mode = 0;
  EXPECT_EQ(xdp_prog_id(&mode), loaded->prog_id);
  EXPECT_EQ(mode, XDP_ATTACHED_SKB);
  EXPECT_EQ(veth_.send_udp_from_peer(kPackets), kPackets);
  EXPECT_GE(read("x", "xdp_counter_packets"), static_cast<uint64_t>(kPackets));
  ASSERT_TRUE(kernel_->unload("x"));  // detaches too
  EXPECT_TRUE(eventually([&] { return xdp_prog_id() == 0; }));
}

TEST_F(AttachTest, TcxIngressCountsTraffic) {
  auto loaded = kernel_->load(tc_spec("t"));
  ASSERT_TRUE(loaded) << loaded.error().to_string();
  const fs::path pin = link_pin("tc-counter", "_tc_ingress");
  auto att = kernel_->attach(spec("t", model::Hook::TcIngress, pin, TcMode::Auto));
  ASSERT_TRUE(att) << att.error().to_string();
  EXPECT_EQ(att->mode, AttachMode::Tcx);  // this kernel has TCX, so Auto picks it
  EXPECT_EQ(pinned_id(pin), att->link_id);
  EXPECT_EQ(tcx_count(), 1u);
  EXPECT_EQ(veth_.send_udp_from_peer(kPackets), kPackets);
  EXPECT_GE(read("t", "tc_counter_packets"), static_cast<uint64_t>(kPackets));
  ASSERT_TRUE(kernel_->detach("t"));
  EXPECT_FALSE(fs::exists(pin));
  EXPECT_TRUE(eventually([&] { return tcx_count() == 0; }));
}

TEST_F(AttachTest, TcClassicDeletesOnlyItsOwnFilter) {
  auto loaded = kernel_->load(tc_spec("t"));
  ASSERT_TRUE(loaded) << loaded.error().to_string();
  // A foreign filter (another owner's bpf program, added with tc) behind ours: ours returns
  // TC_ACT_UNSPEC, so the foreign one still sees the packets.
  const LoadSpec fspec = tc_spec("foreign", "foreign");
  auto foreign_obj = kernel_->load(fspec);
  ASSERT_TRUE(foreign_obj) << foreign_obj.error().to_string();
  ASSERT_EQ(run_command({"tc", "qdisc", "add", "dev", veth_.root_name(), "clsact"}).exit_code, 0);
  auto foreign =
      run_command({"tc", "filter", "add", "dev", veth_.root_name(), "ingress", "prio", "60000",
                   "handle", "7", "bpf", "object-pinned", fspec.prog_pin_path.string(), "da"});
  ASSERT_EQ(foreign.exit_code, 0) << foreign.output;

  auto att = kernel_->attach(spec("t", model::Hook::TcIngress, {}, TcMode::Classic));
  ASSERT_TRUE(att) << att.error().to_string();
  EXPECT_EQ(att->mode, AttachMode::TcClassic);
  EXPECT_EQ(att->link_id, 0u);
  auto f = filters();
  ASSERT_EQ(f.size(), 2u);
  const auto ours = std::find_if(f.begin(), f.end(), [](const TcFilterInfo& x) {
    return x.handle == kClassicFilterHandle && x.priority == kClassicFilterPriority;
  });
  ASSERT_NE(ours, f.end());
  EXPECT_EQ(ours->kind, "bpf");
  EXPECT_TRUE(ours->bpf_direct_action);
  EXPECT_EQ(ours->bpf_prog_id, loaded->prog_id);
  EXPECT_EQ(ours->protocol, 3);  // ETH_P_ALL

  EXPECT_EQ(veth_.send_udp_from_peer(kPackets), kPackets);
  EXPECT_GE(read("t", "tc_counter_packets"), static_cast<uint64_t>(kPackets));
  EXPECT_GE(read("foreign", "tc_counter_packets"), static_cast<uint64_t>(kPackets));

  ASSERT_TRUE(kernel_->detach("t"));
  f = filters();
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].handle, 7u);
  EXPECT_EQ(f[0].priority, 60000);
  EXPECT_EQ(f[0].bpf_prog_id, foreign_obj->prog_id);
  auto qdisc = run_command({"tc", "qdisc", "show", "dev", veth_.root_name()});
  EXPECT_NE(qdisc.output.find("clsact"), std::string::npos) << qdisc.output;
}

TEST_F(AttachTest, TcClassicCreatesClsactOnEgress) {
  auto loaded = kernel_->load(tc_spec("t", "tc-counter", model::Hook::TcEgress));
  ASSERT_TRUE(loaded) << loaded.error().to_string();
  auto att = kernel_->attach(spec("t", model::Hook::TcEgress, {}, TcMode::Classic));
  ASSERT_TRUE(att) << att.error().to_string();
  auto f = filters(true);
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].bpf_prog_id, loaded->prog_id);
  EXPECT_EQ(filters(false).size(), 0u);
  ASSERT_TRUE(kernel_->detach("t"));
  EXPECT_EQ(filters(true).size(), 0u);
}

TEST_F(AttachTest, ReplaceLinkPinSwapsXdpProgramWithoutDetaching) {
  auto a = kernel_->load(xdp_spec("a", "prog-a"));
  ASSERT_TRUE(a) << a.error().to_string();
  auto b = kernel_->load(xdp_spec("b", "prog-b"));
  ASSERT_TRUE(b) << b.error().to_string();
  const fs::path pin_a = link_pin("prog-a", "_xdp");
  const fs::path pin_b = link_pin("prog-b", "_xdp");
  auto att_a = kernel_->attach(spec("a", model::Hook::XdpIngress, pin_a));
  ASSERT_TRUE(att_a) << att_a.error().to_string();

  AttachSpec sb = spec("b", model::Hook::XdpIngress, pin_b);
  sb.replace_link_pin = pin_a;
  auto att_b = kernel_->attach(sb);
  ASSERT_TRUE(att_b) << att_b.error().to_string();
  EXPECT_TRUE(att_b->replaced);
  EXPECT_FALSE(att_a->replaced);
  EXPECT_EQ(att_b->link_id, att_a->link_id);
  EXPECT_EQ(att_b->mode, att_a->mode);
  EXPECT_FALSE(fs::exists(pin_a));
  EXPECT_EQ(pinned_id(pin_b), att_a->link_id);
  EXPECT_EQ(xdp_prog_id(), b->prog_id);

  const uint64_t a_before = read("a", "xdp_counter_packets");
  EXPECT_EQ(veth_.send_udp_from_peer(kPackets), kPackets);
  EXPECT_GE(read("b", "xdp_counter_packets"), static_cast<uint64_t>(kPackets));
  EXPECT_EQ(read("a", "xdp_counter_packets"), a_before);

  // The link now belongs to b: a is no longer attached and unloading it leaves the link alone.
  EXPECT_EQ(kernel_->detach("a").error().code, Errc::NotFound);
  ASSERT_TRUE(kernel_->unload("a"));
  EXPECT_EQ(xdp_prog_id(), b->prog_id);
  ASSERT_TRUE(kernel_->detach("b"));
  EXPECT_TRUE(eventually([&] { return xdp_prog_id() == 0; }));
}

TEST_F(AttachTest, ReplaceSwapsTcxAndClassicPrograms) {
  auto a = kernel_->load(tc_spec("a", "prog-a"));
  ASSERT_TRUE(a) << a.error().to_string();
  auto b = kernel_->load(tc_spec("b", "prog-b"));
  ASSERT_TRUE(b) << b.error().to_string();
  const fs::path pin = link_pin("prog-a", "_tc_ingress");
  auto att_a = kernel_->attach(spec("a", model::Hook::TcIngress, pin, TcMode::Tcx));
  ASSERT_TRUE(att_a) << att_a.error().to_string();
  AttachSpec sb = spec("b", model::Hook::TcIngress, pin, TcMode::Tcx);
  sb.replace_link_pin = pin;  // same path: the pin stays, its program changes
  auto att_b = kernel_->attach(sb);
  ASSERT_TRUE(att_b) << att_b.error().to_string();
  EXPECT_EQ(att_b->link_id, att_a->link_id);
  EXPECT_EQ(tcx_count(), 1u);
  EXPECT_EQ(pinned_id(pin), att_a->link_id);
  EXPECT_EQ(veth_.send_udp_from_peer(kPackets), kPackets);
  EXPECT_GE(read("b", "tc_counter_packets"), static_cast<uint64_t>(kPackets));
  EXPECT_EQ(read("a", "tc_counter_packets"), 0u);
  ASSERT_TRUE(kernel_->unload("a"));
  EXPECT_TRUE(fs::exists(pin));
  ASSERT_TRUE(kernel_->detach("b"));
  EXPECT_TRUE(eventually([&] { return tcx_count() == 0; }));

  // Classic: the filter with l3afd's handle and priority is replaced in place.
  ASSERT_TRUE(kernel_->attach(spec("b", model::Hook::TcIngress, {}, TcMode::Classic)));
  auto c = kernel_->load(tc_spec("c", "prog-c"));
  ASSERT_TRUE(c) << c.error().to_string();
  AttachSpec sc = spec("c", model::Hook::TcIngress, {}, TcMode::Classic);
  sc.replace_link_pin = base_ / "no-such-link";
  auto att_c = kernel_->attach(sc);
  ASSERT_TRUE(att_c) << att_c.error().to_string();
  auto f = filters();
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].bpf_prog_id, c->prog_id);
  EXPECT_EQ(kernel_->detach("b").error().code, Errc::NotFound);
  ASSERT_TRUE(kernel_->detach("c"));
  EXPECT_EQ(filters().size(), 0u);
}

/// A new fd of the program with kernel id `id`.
UniqueFd prog_fd(uint32_t id) {
  UniqueFd fd(bpf_prog_get_fd_by_id(id));
  EXPECT_TRUE(fd.valid()) << "program " << id << " errno " << errno;
  return fd;
}

// swap_link_program() is a compare-and-swap: it switches the link only from the program the
// caller expects, and otherwise leaves the link alone and says what it found.
TEST_F(AttachTest, SwapLinkProgramSwapsOnlyFromTheExpectedProgram) {
  auto a = kernel_->load(xdp_spec("a", "prog-a"));
  ASSERT_TRUE(a) << a.error().to_string();
  auto b = kernel_->load(xdp_spec("b", "prog-b"));
  ASSERT_TRUE(b) << b.error().to_string();
  auto c = kernel_->load(xdp_spec("c", "prog-c"));
  ASSERT_TRUE(c) << c.error().to_string();
  const fs::path pin = link_pin("prog-a", "_xdp");
  auto att = kernel_->attach(spec("a", model::Hook::XdpIngress, pin));
  ASSERT_TRUE(att) << att.error().to_string();
  UniqueFd link(bpf_obj_get(pin.c_str()));
  ASSERT_TRUE(link.valid()) << errno;
  const UniqueFd fa = prog_fd(a->prog_id);
  const UniqueFd fb = prog_fd(b->prog_id);
  const UniqueFd fc = prog_fd(c->prog_id);

  // Expecting b while a runs: refused, a keeps running.
  auto refused = swap_link_program(link.get(), fc.get(), fb.get());
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, Errc::Conflict);
  const std::string& msg = refused.error().message;
  EXPECT_NE(msg.find("link " + std::to_string(att->link_id)), std::string::npos) << msg;
  EXPECT_NE(msg.find("runs program " + std::to_string(a->prog_id)), std::string::npos) << msg;
  EXPECT_NE(msg.find("expected program " + std::to_string(b->prog_id)), std::string::npos) << msg;
  EXPECT_NE(msg.find("changed by another tool"), std::string::npos) << msg;
  EXPECT_EQ(xdp_prog_id(), a->prog_id);

  // Expecting a: swapped.
  auto swapped = swap_link_program(link.get(), fc.get(), fa.get());
  ASSERT_TRUE(swapped) << swapped.error().to_string();
  EXPECT_EQ(xdp_prog_id(), c->prog_id);
  ASSERT_TRUE(kernel_->detach("a"));
}

// A replace does not overwrite a program another tool put on our link: the owner's program is
// what the swap expects, so the kernel refuses and the foreign program stays.
TEST_F(AttachTest, ReplaceOfALinkChangedByAnotherToolIsAConflict) {
  auto a = kernel_->load(xdp_spec("a", "prog-a"));
  ASSERT_TRUE(a) << a.error().to_string();
  auto b = kernel_->load(xdp_spec("b", "prog-b"));
  ASSERT_TRUE(b) << b.error().to_string();
  auto foreign = kernel_->load(xdp_spec("f", "foreign"));
  ASSERT_TRUE(foreign) << foreign.error().to_string();
  const fs::path pin_a = link_pin("prog-a", "_xdp");
  auto att = kernel_->attach(spec("a", model::Hook::XdpIngress, pin_a));
  ASSERT_TRUE(att) << att.error().to_string();
  {
    // The other tool: a blind update of our link.
    UniqueFd link(bpf_obj_get(pin_a.c_str()));
    ASSERT_TRUE(link.valid()) << errno;
    const UniqueFd ff = prog_fd(foreign->prog_id);
    ASSERT_EQ(bpf_link_update(link.get(), ff.get(), nullptr), 0) << errno;
  }
  AttachSpec sb = spec("b", model::Hook::XdpIngress, link_pin("prog-b", "_xdp"));
  sb.replace_link_pin = pin_a;
  auto r = kernel_->attach(sb);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::Conflict) << r.error().to_string();
  EXPECT_NE(r.error().message.find("runs program " + std::to_string(foreign->prog_id)),
            std::string::npos)
      << r.error().message;
  EXPECT_NE(r.error().message.find("expected program " + std::to_string(a->prog_id)),
            std::string::npos)
      << r.error().message;
  EXPECT_EQ(xdp_prog_id(), foreign->prog_id);
  EXPECT_EQ(pinned_id(pin_a), att->link_id);  // the pin did not move
  EXPECT_FALSE(fs::exists(link_pin("prog-b", "_xdp")));
  EXPECT_EQ(kernel_->detach("b").error().code, Errc::NotFound);
  ASSERT_TRUE(kernel_->detach("a"));
}

// Taking over a link no key owns (left pinned by an earlier run): the swap expects the program
// the link runs when inspected.
TEST_F(AttachTest, ReplaceTakesOverALinkNoKeyOwns) {
  auto a = kernel_->load(xdp_spec("a", "prog-a"));
  ASSERT_TRUE(a) << a.error().to_string();
  const fs::path pin_a = link_pin("prog-a", "_xdp");
  auto att = kernel_->attach(spec("a", model::Hook::XdpIngress, pin_a));
  ASSERT_TRUE(att) << att.error().to_string();

  // A restart: the adapter goes, its pins (and so the attachment) stay.
  kernel_ = std::make_unique<LibbpfKernel>();
  EXPECT_EQ(pinned_id(pin_a), att->link_id);
  EXPECT_EQ(xdp_prog_id(), a->prog_id);

  auto b = kernel_->load(xdp_spec("b", "prog-b"));
  ASSERT_TRUE(b) << b.error().to_string();
  AttachSpec sb = spec("b", model::Hook::XdpIngress, link_pin("prog-b", "_xdp"));
  sb.replace_link_pin = pin_a;
  auto r = kernel_->attach(sb);
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_TRUE(r->replaced);
  EXPECT_EQ(r->link_id, att->link_id);
  EXPECT_EQ(xdp_prog_id(), b->prog_id);
  ASSERT_TRUE(kernel_->detach("b"));
  EXPECT_TRUE(eventually([&] { return xdp_prog_id() == 0; }));
}

TEST_F(AttachTest, InterfaceLookup) {
  auto lo = kernel_->interface("lo");
  ASSERT_TRUE(lo) << lo.error().to_string();
  EXPECT_TRUE(lo->loopback);
  auto v = kernel_->interface(veth_.root_name());
  ASSERT_TRUE(v) << v.error().to_string();
  EXPECT_EQ(v->ifindex, ifindex_);
  EXPECT_FALSE(v->loopback);
  EXPECT_EQ(kernel_->interface("l3nosuchif0").error().code, Errc::NotFound);
  EXPECT_EQ(kernel_->attach(spec("none", model::Hook::XdpIngress, {})).error().code,
            Errc::NotFound);
}

}  // namespace
}  // namespace l3afd::kernel::libbpf
