// Companion programs of an object (docs/packages.md §1, §4): the libbpf adapter attaches the
// tracepoint-family programs of connection_limit.bpf.o at load, pins their links next to the
// program's links, runs its iter/tcp seeding program on demand, and removes everything with the
// key. Proved with real TCP connections between two namespaces.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <vector>

#include "kernel/libbpf/libbpf_kernel.h"
#include "kernel_fixture.h"
#include "support/netns.h"

namespace l3afd::kernel::libbpf {
namespace {

constexpr uint16_t kPort = 18080;

/// A listener on the root side of a veth pair and clients connecting from the peer namespace.
class Connections {
 public:
  explicit Connections(const testing::VethPair& v) : v_(v) {
    listener_.reset(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    const int one = 1;
    (void)::setsockopt(listener_.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    sockaddr_in a = addr();
    ok_ = listener_.valid() &&
          ::bind(listener_.get(), reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0 &&
          ::listen(listener_.get(), 64) == 0;
  }
  bool ok() const { return ok_; }
  /// Opens `n` connections (client in the peer namespace, server socket accepted here).
  bool open(int n) {
    for (int i = 0; i < n; ++i) {
      UniqueFd c(v_.peer_ns().socket_in(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
      sockaddr_in a = addr();
      if (!c || ::connect(c.get(), reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0) return false;
      UniqueFd s(::accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC));
      if (!s) return false;
      pairs_.emplace_back(std::move(c), std::move(s));
    }
    return true;
  }
  void close_all() { pairs_.clear(); }

 private:
  sockaddr_in addr() const {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(kPort);
    ::inet_pton(AF_INET, v_.root_addr().c_str(), &a.sin_addr);
    return a;
  }
  const testing::VethPair& v_;
  UniqueFd listener_;
  bool ok_ = false;
  std::vector<std::pair<UniqueFd, UniqueFd>> pairs_;
};

class CompanionTest : public KernelTest {
 protected:
  LoadSpec cl_spec(const std::string& key) const {
    LoadSpec s{key,
               kObjectDir / "connection_limit.bpf.o",
               "_xdp_limit_conn",
               model::Hook::XdpIngress,
               base_ / "eth0" / "connection-limit" / "1_0",
               base_ / "progs" / "eth0" / "connection-limit" / "1_0" / "_xdp_limit_conn_xdp",
               "xdp_cl_ingress_next_prog"};
    s.companion_link_dir = base_ / "links" / "eth0" / "connection-limit" / "1_0";
    return s;
  }
  uint64_t count(const std::string& key) {
    return kernel_->read_map_value(key, "cl_conn_count", 0).value_or(999999);
  }
  Status listen_on_port(const std::string& key) {
    return kernel_->configure_maps(key, {{"cl_tcp_conns", {{{kPort, 1}}}}}, {});
  }
};

TEST_F(CompanionTest, TrackerIsAttachedPinnedAndCountsRealConnections) {
  testing::VethPair v;
  ASSERT_EQ(v.error(), "");
  const LoadSpec spec = cl_spec("cl");
  auto loaded = kernel_->load(spec);
  ASSERT_TRUE(loaded) << loaded.error().to_string();
  const fs::path pin = spec.companion_link_dir / "cl_track_state_tp";
  EXPECT_TRUE(fs::exists(pin)) << "the tracker's link is pinned";
  ASSERT_TRUE(listen_on_port("cl"));
  ASSERT_TRUE(kernel_->run_iterators("cl"));
  EXPECT_EQ(count("cl"), 0u);

  Connections conns(v);
  ASSERT_TRUE(conns.ok());
  ASSERT_TRUE(conns.open(3));
  EXPECT_TRUE(eventually([&] { return count("cl") == 3; })) << count("cl");
  conns.close_all();
  EXPECT_TRUE(eventually([&] { return count("cl") == 0; })) << count("cl");

  ASSERT_TRUE(kernel_->unload("cl"));
  EXPECT_FALSE(fs::exists(pin)) << "unload removes the companion's pin (and so detaches it)";
}

TEST_F(CompanionTest, IteratorSeedsConnectionsThatExistedBeforeTheLoad) {
  testing::VethPair v;
  ASSERT_EQ(v.error(), "");
  Connections conns(v);
  ASSERT_TRUE(conns.ok());
  ASSERT_TRUE(conns.open(4));  // before anything is loaded

  auto loaded = kernel_->load(cl_spec("cl"));
  ASSERT_TRUE(loaded) << loaded.error().to_string();
  ASSERT_TRUE(listen_on_port("cl"));
  EXPECT_EQ(count("cl"), 0u) << "nothing seen yet: they were established before the tracker";
  ASSERT_TRUE(kernel_->run_iterators("cl"));
  EXPECT_EQ(count("cl"), 4u);
  ASSERT_TRUE(kernel_->run_iterators("cl"));
  EXPECT_EQ(count("cl"), 4u) << "seeding twice counts nothing twice";
  conns.close_all();
  EXPECT_TRUE(eventually([&] { return count("cl") == 0; }))
      << "seeded sockets are found again on close: " << count("cl");
}

TEST_F(CompanionTest, DiscardRemovesTheCompanionPinAndAdoptionTakesItOver) {
  const LoadSpec spec = cl_spec("cl");
  ASSERT_TRUE(kernel_->load(spec));
  const fs::path pin = spec.companion_link_dir / "cl_track_state_tp";
  ASSERT_TRUE(fs::exists(pin));
  ASSERT_TRUE(kernel_->discard("cl"));
  EXPECT_FALSE(fs::exists(pin)) << "discard removes the companion pin its load created";

  // The daemon dies with the instance loaded: the pinned tracker link stays attached, and the
  // next run adopts it with the instance; that run's unload removes it.
  ASSERT_TRUE(kernel_->load(spec));
  ASSERT_TRUE(kernel_->pin_map("cl", "xdp_cl_ingress_next_prog",
                               spec.map_pin_dir / "xdp_cl_ingress_next_prog"));
  kernel_.reset();
  ASSERT_TRUE(fs::exists(pin));
  LibbpfKernel next_run;
  AdoptSpec a{"cl2",
              spec.entry_function,
              spec.hook,
              spec.map_pin_dir,
              spec.prog_pin_path,
              spec.private_map,
              spec.map_pin_dir / "xdp_cl_ingress_next_prog",
              spec.companion_link_dir};
  auto adopted = next_run.adopt(a);
  ASSERT_TRUE(adopted) << adopted.error().to_string();
  ASSERT_TRUE(next_run.unload("cl2"));
  EXPECT_FALSE(fs::exists(pin));
  EXPECT_FALSE(fs::exists(spec.prog_pin_path));
}

}  // namespace
}  // namespace l3afd::kernel::libbpf
