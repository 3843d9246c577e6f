// Validity findings of the daily certificate check (docs/compatibility.md §8.4, ours).
#include <gtest/gtest.h>

#include "tls/certificates.h"

namespace l3afd::tls {
namespace {

using namespace std::chrono_literals;

TEST(Validity, ExpiredNotYetValidSoonAndFine) {
  const TimePoint now = std::chrono::system_clock::from_time_t(1'800'000'000);
  const std::vector<CertificateFacts> certs = {
      {"CN=expired", now - 48h, now - 1s},
      {"CN=future", now + 1h, now + 48h},
      {"CN=soon", now - 48h, now + 24h * 3 + 1h},
      {"CN=fine", now - 48h, now + 24h * 31},
  };
  const auto f = check_validity("client CA", "/etc/ca.pem", certs, now, 30);
  ASSERT_EQ(f.size(), 3u);
  EXPECT_TRUE(f[0].error);
  EXPECT_NE(f[0].message.find("client CA /etc/ca.pem (CN=expired) expired on"), std::string::npos)
      << f[0].message;
  EXPECT_TRUE(f[1].error);
  EXPECT_NE(f[1].message.find("(CN=future) is not valid before"), std::string::npos)
      << f[1].message;
  EXPECT_FALSE(f[2].error);
  EXPECT_NE(f[2].message.find("(CN=soon) expires in 3 days"), std::string::npos) << f[2].message;
}

TEST(Validity, ZeroWarningDaysReportsOnlyInvalidCertificates) {
  const TimePoint now = std::chrono::system_clock::from_time_t(1'800'000'000);
  const std::vector<CertificateFacts> certs = {{"CN=soon", now - 1h, now + 1h}};
  EXPECT_TRUE(check_validity("server certificate", "/s.crt", certs, now, 0).empty());
}

}  // namespace
}  // namespace l3afd::tls
