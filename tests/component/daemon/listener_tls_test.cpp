// The PROD rule's loopback test (docs/compatibility.md §8.4, ours: names are resolved, an
// empty host is all interfaces) and when the API listener must use mTLS.
#include "daemon/listener_tls.h"

#include <gtest/gtest.h>

namespace l3afd::daemon {
namespace {

TEST(ListenerTls, LoopbackAddresses) {
  EXPECT_TRUE(is_loopback_listen_address("localhost:53000"));
  EXPECT_TRUE(is_loopback_listen_address("127.0.0.1:53000"));
  EXPECT_TRUE(is_loopback_listen_address("127.8.9.10:1"));
  EXPECT_TRUE(is_loopback_listen_address("[::1]:53000"));
  // inet_aton's short form, resolved by getaddrinfo to 127.0.0.1.
  EXPECT_TRUE(is_loopback_listen_address("127.1:53000"));
}

TEST(ListenerTls, NonLoopbackAddresses) {
  EXPECT_FALSE(is_loopback_listen_address(":53000"));  // all interfaces (the Original: loopback)
  EXPECT_FALSE(is_loopback_listen_address("0.0.0.0:53000"));
  EXPECT_FALSE(is_loopback_listen_address("[::]:53000"));
  EXPECT_FALSE(is_loopback_listen_address("198.18.0.1:53000"));
  EXPECT_FALSE(is_loopback_listen_address("no-such-host.invalid:53000"));  // unresolvable
  EXPECT_FALSE(is_loopback_listen_address("garbage"));
}

TEST(ListenerTls, WhenTheApiNeedsMtls) {
  config::DaemonConfig c;
  c.mtls.enabled = false;
  c.l3afd.environment = "PROD";
  c.l3af_configs.restapi_addr = "localhost:53000";
  std::string why;
  EXPECT_FALSE(api_mtls_required(c, why));
  c.l3af_configs.restapi_addr = "0.0.0.0:53000";
  EXPECT_TRUE(api_mtls_required(c, why));
  EXPECT_NE(why.find("environment: PROD"), std::string::npos) << why;
  c.l3afd.environment = "DEV";
  EXPECT_FALSE(api_mtls_required(c, why));
  c.mtls.enabled = true;
  EXPECT_TRUE(api_mtls_required(c, why));
  EXPECT_EQ(why, "[mtls] enabled");
}

}  // namespace
}  // namespace l3afd::daemon
