#include "config/host_port.h"

#include <gtest/gtest.h>

namespace l3afd::config {
namespace {

using HostPort = std::pair<std::string, std::uint16_t>;

TEST(SplitHostPort, SplitsNamesIpv4AndBracketedIpv6) {
  EXPECT_EQ(split_host_port("localhost:53000").value(), (HostPort{"localhost", 53000}));
  EXPECT_EQ(split_host_port("127.0.0.1:0").value(), (HostPort{"127.0.0.1", 0}));
  EXPECT_EQ(split_host_port("[::1]:8080").value(), (HostPort{"::1", 8080}));
  EXPECT_EQ(split_host_port("[fe80::1%eth0]:1").value(), (HostPort{"fe80::1%eth0", 1}));
  EXPECT_EQ(split_host_port(":7080").value(), (HostPort{"", 7080}));
  EXPECT_EQ(split_host_port("[]:65535").value(), (HostPort{"", 65535}));
}

TEST(SplitHostPort, RejectsMalformedAddresses) {
  for (const char* s :
       {"", "localhost", "[::1]", "[::1]8080", "[::1]x:80", "[::1:80", "::1:80", "a:b:80", "x]:80",
        "[a]:[80", "[a]:80]", "host[:80", "localhost:", "localhost:http", "localhost:-1",
        "localhost:+1", "localhost:65536", "localhost:99999999999", "[::1]::80"}) {
    auto r = split_host_port(s);
    ASSERT_FALSE(r.has_value()) << '"' << s << '"';
    EXPECT_EQ(r.error().code, Errc::InvalidPayload);
    EXPECT_NE(r.error().message.find(std::string("\"") + s + "\""), std::string::npos)
        << r.error().message;
  }
}

}  // namespace
}  // namespace l3afd::config

namespace l3afd::config {
namespace {

TEST(ClassifyHost, RecognisesLiteralLoopbackAddresses) {
  for (const char* h : {"127.0.0.1", "127.1.2.3", "::1", "0:0:0:0:0:0:0:1", "::ffff:127.0.0.1"}) {
    EXPECT_EQ(classify_host(h), HostKind::LoopbackIp) << h;
  }
}

TEST(ClassifyHost, OtherLiteralsWildcardAndNames) {
  for (const char* h :
       {"0.0.0.0", "10.0.0.1", "::", "fe80::1%eth0", "::ffff:10.0.0.1", "2001:db8::1"}) {
    EXPECT_EQ(classify_host(h), HostKind::OtherIp) << h;
  }
  EXPECT_EQ(classify_host(""), HostKind::Wildcard);
  for (const char* h : {"localhost", "example.com", "[::1]", "127.0.0.1.nip.io", "1.2.3"}) {
    EXPECT_EQ(classify_host(h), HostKind::Name) << h;
  }
}

TEST(ClassifyHost, WorksOnSplitHostPortOutput) {
  EXPECT_EQ(classify_host(split_host_port("[::1]:53000")->first), HostKind::LoopbackIp);
  EXPECT_EQ(classify_host(split_host_port("localhost:53000")->first), HostKind::Name);
  EXPECT_EQ(classify_host(split_host_port(":53000")->first), HostKind::Wildcard);
}

}  // namespace
}  // namespace l3afd::config
