// parse_restart_version: the accepted shape vX.Y.Z, each rejected shape, the message.
#include "restart/version.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <string>

namespace l3afd::restart {
namespace {

TEST(RestartVersion, AcceptsCanonicalVersionsWithinTheLimit) {
  for (const char* v : {"v0.0.0", "v2.1.0", "v9.10.99", "v100.100.100", "v1.0.100"}) {
    auto got = parse_restart_version(v, 100);
    ASSERT_TRUE(got.has_value()) << v << ": " << got.error().message;
    EXPECT_EQ(*got, v);
  }
}

TEST(RestartVersion, LimitIsInclusiveAndApplied) {
  EXPECT_TRUE(parse_restart_version("v0.0.0", 0).has_value());
  EXPECT_FALSE(parse_restart_version("v0.0.1", 0).has_value());
  EXPECT_TRUE(parse_restart_version("v2.2.2", 2).has_value());
  EXPECT_FALSE(parse_restart_version("v2.3.2", 2).has_value());
  EXPECT_FALSE(parse_restart_version("v0.0.0", -1).has_value())
      << "a negative limit allows nothing";
}

TEST(RestartVersion, HugeNumbersDoNotOverflow) {
  constexpr auto kMax = std::numeric_limits<std::int64_t>::max();
  EXPECT_TRUE(parse_restart_version("v9223372036854775807.0.0", kMax).has_value());
  auto over = parse_restart_version("v9223372036854775808.0.0", kMax);
  ASSERT_FALSE(over.has_value());
  EXPECT_NE(over.error().message.find("is above"), std::string::npos) << over.error().message;
  auto huge = parse_restart_version("v99999999999999999999999999.0.0", 100);
  ASSERT_FALSE(huge.has_value());
  EXPECT_NE(huge.error().message.find("is above 100"), std::string::npos);
}

struct Bad {
  std::string value;
  std::string reason;  ///< expected substring of the message after the common part
};

TEST(RestartVersion, RejectsEveryOtherShapeNamingFieldValueAndReason) {
  const Bad cases[] = {
      {"", "missing leading 'v'"},
      {"2.1.0", "missing leading 'v'"},
      {"V2.1.0", "missing leading 'v'"},
      {" v2.1.0", "missing leading 'v'"},
      {"v", "1 part, not 3"},
      {"v2.1", "2 parts, not 3"},
      {"v2.1.0.4", "4 parts, not 3"},
      {"v01.2.3", "\"01\" has a leading zero"},
      {"v1.00.3", "\"00\" has a leading zero"},
      {"v1.2.03", "\"03\" has a leading zero"},
      {"v101.0.0", "\"101\" is above 100"},
      {"v1.2.101", "\"101\" is above 100"},
      {"v-1.2.3", "\"-1\" is not a decimal integer"},
      {"v+1.2.3", "\"+1\" is not a decimal integer"},
      {"v1. 2.3", "\" 2\" is not a decimal integer"},
      {"v1.2.3 ", "\"3 \" is not a decimal integer"},
      {"v1.2.3x", "\"3x\" is not a decimal integer"},
      {"v1.2.3\n", "\"3\\x0a\" is not a decimal integer"},
      {"vx.y.z", "\"x\" is not a decimal integer"},
      {"v1..3", "empty number"},
      {"v1.2.", "empty number"},
      {"v.1.2", "empty number"},
      {"v1.2.0x10", "\"0x10\" is not a decimal integer"},
      {"v1.2.1e2", "\"1e2\" is not a decimal integer"},
  };
  for (const auto& c : cases) {
    auto got = parse_restart_version(c.value, 100);
    ASSERT_FALSE(got.has_value()) << "accepted: " << c.value;
    EXPECT_EQ(got.error().code, Errc::InvalidPayload) << c.value;
    const std::string& m = got.error().message;
    EXPECT_EQ(m.rfind("version \"", 0), 0u) << m;
    EXPECT_NE(m.find("expected vX.Y.Z with X, Y, Z integers in [0, 100]"), std::string::npos) << m;
    EXPECT_NE(m.find(c.reason), std::string::npos) << "want '" << c.reason << "' in: " << m;
  }
}

TEST(RestartVersion, MessageQuotesTheValue) {
  auto got = parse_restart_version("v1.2", 100);
  ASSERT_FALSE(got.has_value());
  EXPECT_EQ(got.error().message,
            "version \"v1.2\": expected vX.Y.Z with X, Y, Z integers in [0, 100]: 2 parts, not 3");
  auto ctl = parse_restart_version(std::string("v1.2.3\0", 7), 100);
  ASSERT_FALSE(ctl.has_value());
  EXPECT_EQ(ctl.error().message.rfind("version \"v1.2.3\\x00\": ", 0), 0u) << ctl.error().message;
  auto quote = parse_restart_version("v\"1.2.3", 100);
  ASSERT_FALSE(quote.has_value());
  EXPECT_EQ(quote.error().message.rfind("version \"v\\\"1.2.3\": ", 0), 0u)
      << quote.error().message;
  auto longer = parse_restart_version(std::string(100, 'v'), 100);
  ASSERT_FALSE(longer.has_value());
  EXPECT_NE(longer.error().message.find(std::string(64, 'v') + "...\""), std::string::npos)
      << "long values are cut: " << longer.error().message;
}

}  // namespace
}  // namespace l3afd::restart
