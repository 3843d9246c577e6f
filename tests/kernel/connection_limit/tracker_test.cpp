// The connection tracker (tp_btf/inet_sock_set_state) and the seeding iterator (iter/tcp) of
// connection_limit.bpf.o with real TCP connections: over loopback (never counted), over a veth
// pair into another network namespace (counted exactly), with the namespace filter, seeding of
// connections that existed before load, and the overflow counter.
//
// Determinism without timing: a server-side socket is ESTABLISHED when accept() returns it;
// closing it leaves ESTABLISHED inside close(); after the peer closed first, recv() returns 0
// only after the socket has moved to CLOSE_WAIT. Counts are therefore checked right after
// those calls. The tracker is host-wide; cl_netns restricts it to this test's namespace.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "kernel/connection_limit/cl_fixture.h"
#include "support/netns.h"

namespace l3afd::cl_test {
namespace {

using l3afd::testing::VethPair;

constexpr uint16_t kPort = 39001;      // listed
constexpr uint16_t kPort2 = 39003;     // listed
constexpr uint16_t kUnlisted = 39002;  // not listed

class ConnLimitTracker : public ::testing::Test {
 protected:
  void SetUp() override {
    own_ns_ = netns_inode("/proc/thread-self/ns/net");
    ASSERT_NE(own_ns_, 0U);
  }

  /// Loads the object, lists kPort and kPort2, counts only this namespace, attaches the
  /// tracker. Call with ASSERT_NO_FATAL_FAILURE.
  void load(uint32_t conn_info_max = 0) {
    ASSERT_EQ(obj_.load(kObject, conn_info_max), "");
    ASSERT_TRUE(obj_.list_port(kPort));
    ASSERT_TRUE(obj_.list_port(kPort2));
    ASSERT_TRUE(obj_.set0("cl_netns", own_ns_));
    ASSERT_EQ(obj_.attach("cl_track_state"), "");
  }

  uint64_t count() const { return obj_.get0("cl_conn_count"); }

  /// Opens `n` connections from fresh sockets made by `make_client` to ip:port on `listener`.
  template <typename MakeClient>
  void open(int n, MakeClient make_client, int listener, const std::string& ip, uint16_t port,
            std::vector<Conn>& out) {
    for (int i = 0; i < n; ++i) {
      Conn c;
      ASSERT_TRUE(open_conn(make_client(), listener, ip, port, c))
          << "connection " << i << " to " << ip << ":" << port << ": " << std::strerror(errno);
      out.push_back(std::move(c));
    }
  }

  uint64_t own_ns_ = 0;
  BpfObject obj_;
};

auto local_client(int family) {
  return [family] { return tcp_socket(family); };
}

auto peer_client(const VethPair& veth, int family) {
  return [&veth, family] {
    return Fd(veth.peer_ns().socket_in(family, SOCK_STREAM | SOCK_CLOEXEC, 0));
  };
}

/// Closes the client end first and waits (blocking recv, no timeout) until the server end has
/// seen the FIN, i.e. has left ESTABLISHED; then closes the server end.
void close_passively(Conn& c) {
  c.client.reset();
  char b = 0;
  for (int i = 0; i < 1000; ++i) {  // EOF after at most a few reads (no data is ever sent)
    const ssize_t n = ::recv(c.server.get(), &b, 1, 0);
    if (n == 0 || (n < 0 && errno != EINTR)) break;
  }
  c.server.reset();
}

TEST_F(ConnLimitTracker, LoadsAndAttaches) {
  ASSERT_NO_FATAL_FAILURE(load());
  EXPECT_EQ(count(), 0U);
  EXPECT_EQ(obj_.get0("cl_overflow_count"), 0U);
  EXPECT_EQ(obj_.conn_info_entries(), 0U);
}

// The original's hand-written tracepoint layout made every loopback test fail (P7); here
// IPv4 127/8, IPv6 ::1 and v4-mapped ::ffff:127/104 are all excluded, while a non-loopback
// address reached over lo in the same namespace is counted (exclusion is by address).
TEST_F(ConnLimitTracker, LoopbackConnectionsAreNotCounted) {
  ASSERT_NO_FATAL_FAILURE(load());
  VethPair veth;  // only for a non-loopback local address (root_addr) in this namespace
  ASSERT_EQ(veth.error(), "");

  Fd dual = listen_on(tcp_socket(AF_INET6), "::", kPort);  // sees v4-mapped peers
  Fd v4 = listen_on(tcp_socket(AF_INET), "0.0.0.0", kPort2);
  ASSERT_TRUE(dual);
  ASSERT_TRUE(v4);

  std::vector<Conn> conns;
  for (int round = 0; round < 3; ++round) {
    ASSERT_NO_FATAL_FAILURE(open(2, local_client(AF_INET6), dual.get(), "::1", kPort, conns));
    ASSERT_NO_FATAL_FAILURE(open(2, local_client(AF_INET), dual.get(), "127.0.0.1", kPort, conns));
    ASSERT_NO_FATAL_FAILURE(open(2, local_client(AF_INET), v4.get(), "127.0.0.1", kPort2, conns));
    ASSERT_NO_FATAL_FAILURE(open(2, local_client(AF_INET), v4.get(), "127.9.8.7", kPort2, conns));
    EXPECT_EQ(count(), 0U) << "round " << round;
    EXPECT_EQ(obj_.conn_info_entries(), 0U);
  }

  // Positive control: same namespace, over lo, but with a non-loopback address.
  ASSERT_NO_FATAL_FAILURE(
      open(1, local_client(AF_INET), v4.get(), veth.root_addr(), kPort2, conns));
  EXPECT_EQ(count(), 1U);
  ASSERT_NO_FATAL_FAILURE(
      open(1, local_client(AF_INET), dual.get(), veth.root_addr(), kPort, conns));  // v4-mapped
  EXPECT_EQ(count(), 2U);

  conns.clear();  // closes every socket
  EXPECT_EQ(count(), 0U);
  EXPECT_EQ(obj_.conn_info_entries(), 0U);
  EXPECT_EQ(obj_.get0("cl_overflow_count"), 0U);
}

// Connections from another namespace over a veth pair are counted exactly through repeated
// open/close rounds (active and passive close); an unlisted port is never counted.
TEST_F(ConnLimitTracker, VethConnectionsAreCountedExactly) {
  ASSERT_NO_FATAL_FAILURE(load());
  VethPair veth;
  ASSERT_EQ(veth.error(), "");
  Fd listed = listen_on(tcp_socket(AF_INET), "0.0.0.0", kPort);
  Fd unlisted = listen_on(tcp_socket(AF_INET), "0.0.0.0", kUnlisted);
  ASSERT_TRUE(listed);
  ASSERT_TRUE(unlisted);
  const auto peer = peer_client(veth, AF_INET);
  constexpr int kConns = 6;

  for (int round = 0; round < 3; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    std::vector<Conn> conns, others;
    ASSERT_NO_FATAL_FAILURE(open(kConns, peer, listed.get(), veth.root_addr(), kPort, conns));
    EXPECT_EQ(count(), static_cast<uint64_t>(kConns));
    ASSERT_NO_FATAL_FAILURE(open(3, peer, unlisted.get(), veth.root_addr(), kUnlisted, others));
    EXPECT_EQ(count(), static_cast<uint64_t>(kConns));
    EXPECT_EQ(obj_.conn_info_entries(), static_cast<uint64_t>(kConns));

    conns[0].server.reset();  // active close: ESTABLISHED -> FIN_WAIT1
    EXPECT_EQ(count(), static_cast<uint64_t>(kConns - 1));
    close_passively(conns[1]);  // passive close: ESTABLISHED -> CLOSE_WAIT
    EXPECT_EQ(count(), static_cast<uint64_t>(kConns - 2));
    conns[2].server.reset();
    conns[2].client.reset();
    EXPECT_EQ(count(), static_cast<uint64_t>(kConns - 3));
    others.clear();
    EXPECT_EQ(count(), static_cast<uint64_t>(kConns - 3));

    for (int i = 3; i < kConns; ++i) conns[static_cast<size_t>(i)].server.reset();
    EXPECT_EQ(count(), 0U);
    EXPECT_EQ(obj_.conn_info_entries(), 0U);
  }
  EXPECT_EQ(obj_.get0("cl_overflow_count"), 0U);
}

// Client sockets are counted by their (ephemeral, unlisted) local port: never. Server sockets of
// another namespace are counted only when cl_netns names that namespace or is 0.
TEST_F(ConnLimitTracker, ClientSocketsAndNamespaceFilter) {
  ASSERT_NO_FATAL_FAILURE(load());
  VethPair veth;
  ASSERT_EQ(veth.error(), "");
  // Listener inside the peer namespace, clients here.
  Fd listener = listen_on(Fd(veth.peer_ns().socket_in(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)),
                          "0.0.0.0", kPort);
  ASSERT_TRUE(listener);
  const uint64_t peer_ns = netns_inode("/run/netns/" + veth.peer_ns().name());
  ASSERT_NE(peer_ns, 0U);
  ASSERT_NE(peer_ns, own_ns_);
  constexpr int kConns = 4;

  struct Case {
    uint64_t netns;
    uint64_t expected;
  };
  for (const Case c : {Case{own_ns_, 0}, Case{peer_ns, kConns}, Case{0, kConns}}) {
    SCOPED_TRACE("cl_netns " + std::to_string(c.netns));
    ASSERT_TRUE(obj_.set0("cl_netns", c.netns));
    std::vector<Conn> conns;
    ASSERT_NO_FATAL_FAILURE(
        open(kConns, local_client(AF_INET), listener.get(), veth.peer_addr(), kPort, conns));
    EXPECT_EQ(count(), c.expected);
    for (auto& conn : conns) conn.server.reset();
    EXPECT_EQ(count(), 0U);
  }
}

// IPv6 over the veth pair (RFC 5180 benchmarking addresses, private namespaces only).
TEST_F(ConnLimitTracker, Ipv6ConnectionsAreCounted) {
  ASSERT_NO_FATAL_FAILURE(load());
  VethPair veth;
  ASSERT_EQ(veth.error(), "");
  using l3afd::testing::run_command;
  ASSERT_EQ(
      run_command({"ip", "-6", "addr", "add", "2001:2::1/64", "dev", veth.root_name(), "nodad"})
          .exit_code,
      0);
  ASSERT_EQ(veth.peer_ns()
                .exec({"ip", "-6", "addr", "add", "2001:2::2/64", "dev", veth.peer_name(), "nodad"})
                .exit_code,
            0);
  Fd listener = listen_on(tcp_socket(AF_INET6), "::", kPort);
  ASSERT_TRUE(listener);
  for (int round = 0; round < 3; ++round) {
    std::vector<Conn> conns;
    ASSERT_NO_FATAL_FAILURE(
        open(3, peer_client(veth, AF_INET6), listener.get(), "2001:2::1", kPort, conns));
    EXPECT_EQ(count(), 3U);
    conns.clear();
    EXPECT_EQ(count(), 0U);
  }
}

// Connections established before load are counted by one run of the iter/tcp program, with the
// same keys as the tracker: closing them afterwards brings the count back to exactly 0 (P8).
TEST_F(ConnLimitTracker, SeedingCountsExistingConnections) {
  VethPair veth;
  ASSERT_EQ(veth.error(), "");
  Fd listed = listen_on(tcp_socket(AF_INET), "0.0.0.0", kPort);
  Fd unlisted = listen_on(tcp_socket(AF_INET), "0.0.0.0", kUnlisted);
  ASSERT_TRUE(listed);
  ASSERT_TRUE(unlisted);
  const auto peer = peer_client(veth, AF_INET);
  constexpr int kConns = 5;
  std::vector<Conn> before, loopback, others, after;
  ASSERT_NO_FATAL_FAILURE(open(kConns, peer, listed.get(), veth.root_addr(), kPort, before));
  ASSERT_NO_FATAL_FAILURE(
      open(2, local_client(AF_INET), listed.get(), "127.0.0.1", kPort, loopback));
  ASSERT_NO_FATAL_FAILURE(open(2, peer, unlisted.get(), veth.root_addr(), kUnlisted, others));

  ASSERT_NO_FATAL_FAILURE(load());  // tracker attached first, then the seeding run
  EXPECT_EQ(count(), 0U);
  ASSERT_EQ(obj_.run_iter("cl_seed_tcp"), "");
  EXPECT_EQ(count(), static_cast<uint64_t>(kConns));
  EXPECT_EQ(obj_.conn_info_entries(), static_cast<uint64_t>(kConns));
  ASSERT_EQ(obj_.run_iter("cl_seed_tcp"), "");  // idempotent: already counted keys stay once
  EXPECT_EQ(count(), static_cast<uint64_t>(kConns));

  ASSERT_NO_FATAL_FAILURE(open(2, peer, listed.get(), veth.root_addr(), kPort, after));
  EXPECT_EQ(count(), static_cast<uint64_t>(kConns + 2));

  before[0].server.reset();
  EXPECT_EQ(count(), static_cast<uint64_t>(kConns + 1));
  close_passively(before[1]);
  EXPECT_EQ(count(), static_cast<uint64_t>(kConns));
  before.clear();
  loopback.clear();
  others.clear();
  EXPECT_EQ(count(), 2U);
  after.clear();
  EXPECT_EQ(count(), 0U);
  EXPECT_EQ(obj_.conn_info_entries(), 0U);
}

// Sockets that do not fit into cl_conn_info are not counted but reported in cl_overflow_count;
// the count still returns to 0 when everything is closed.
TEST_F(ConnLimitTracker, OverflowIsCountedAndExported) {
  ASSERT_NO_FATAL_FAILURE(load(/*conn_info_max=*/2));
  VethPair veth;
  ASSERT_EQ(veth.error(), "");
  Fd listed = listen_on(tcp_socket(AF_INET), "0.0.0.0", kPort);
  ASSERT_TRUE(listed);
  std::vector<Conn> conns;
  ASSERT_NO_FATAL_FAILURE(
      open(4, peer_client(veth, AF_INET), listed.get(), veth.root_addr(), kPort, conns));
  EXPECT_EQ(count(), 2U);
  EXPECT_EQ(obj_.get0("cl_overflow_count"), 2U);
  conns.clear();
  EXPECT_EQ(count(), 0U);
  EXPECT_EQ(obj_.get0("cl_overflow_count"), 2U);
}

}  // namespace
}  // namespace l3afd::cl_test
