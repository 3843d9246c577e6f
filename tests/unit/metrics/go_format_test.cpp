// Values printed like Go's strconv.FormatFloat(v, 'g', -1, 64) (docs/compatibility.md §13).
#include "metrics/go_format.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

namespace l3afd::metrics {
namespace {

TEST(GoFloat, IntegersBelowAMillionArePlainDigits) {
  EXPECT_EQ(go_float(0), "0");
  EXPECT_EQ(go_float(3), "3");
  EXPECT_EQ(go_float(37), "37");
  EXPECT_EQ(go_float(100), "100");
  EXPECT_EQ(go_float(999999), "999999");
  EXPECT_EQ(go_float(-12), "-12");
}

TEST(GoFloat, AMillionAndAboveUseTheShortestExponentForm) {
  EXPECT_EQ(go_float(1e6), "1e+06");
  EXPECT_EQ(go_float(1.5e6), "1.5e+06");
  EXPECT_EQ(go_float(1234567), "1.234567e+06");
  EXPECT_EQ(go_float(1723456789), "1.723456789e+09");
  EXPECT_EQ(go_float(1e21), "1e+21");
  EXPECT_EQ(go_float(1.8446744073709552e19), "1.8446744073709552e+19");
}

TEST(GoFloat, FractionsAndSmallValues) {
  EXPECT_EQ(go_float(0.25), "0.25");
  EXPECT_EQ(go_float(2.5), "2.5");
  EXPECT_EQ(go_float(0.0001), "0.0001");
  EXPECT_EQ(go_float(0.00001), "1e-05");
  EXPECT_EQ(go_float(123456.5), "123456.5");
  EXPECT_EQ(go_float(0.1), "0.1");
}

TEST(GoFloat, SpecialValues) {
  EXPECT_EQ(go_float(std::numeric_limits<double>::quiet_NaN()), "NaN");
  EXPECT_EQ(go_float(std::numeric_limits<double>::infinity()), "+Inf");
  EXPECT_EQ(go_float(-std::numeric_limits<double>::infinity()), "-Inf");
}

}  // namespace
}  // namespace l3afd::metrics
