// monitor_maps aggregators (docs/compatibility.md §12.2) on sample sequences.
#include "metrics/aggregator.h"

#include <gtest/gtest.h>

namespace l3afd::metrics {
namespace {

TEST(Aggregator, NamesOfThePayload) {
  EXPECT_EQ(parse_aggregator("scalar"), Aggregator::Scalar);
  EXPECT_EQ(parse_aggregator("max-rate"), Aggregator::MaxRate);
  EXPECT_EQ(parse_aggregator("avg"), Aggregator::Avg);
  EXPECT_FALSE(parse_aggregator("max_rate").has_value());
  EXPECT_FALSE(parse_aggregator("").has_value());
}

TEST(Aggregator, ScalarIsTheLastRawValue) {
  SeriesAggregator a(Aggregator::Scalar, 20);
  EXPECT_FALSE(a.value().has_value()) << "nothing before the first sample";
  a.add(5);
  a.add(42);
  EXPECT_EQ(a.value(), 42.0);
}

TEST(Aggregator, MaxRateStartsFromABaselineNotASpike) {
  SeriesAggregator a(Aggregator::MaxRate, 3);
  a.add(1'000'000);  // a counter that was already high when sampling started
  EXPECT_EQ(a.value(), 0.0) << "the first sample only sets the baseline (D34)";
  a.add(1'000'010);
  a.add(1'000'040);
  a.add(1'000'045);
  EXPECT_EQ(a.value(), 30.0) << "largest per-second increase of the window";
  a.add(1'000'050);  // window: 30, 5, 5
  a.add(1'000'051);  // window: 5, 5, 1 — the 30 left the window
  EXPECT_EQ(a.value(), 5.0);
}

TEST(Aggregator, MaxRateTakesTheAbsoluteDifferenceAsTheReference) {
  SeriesAggregator a(Aggregator::MaxRate, 5);
  a.add(100);
  a.add(40);  // a counter reset or a gauge going down
  EXPECT_EQ(a.value(), 60.0);
}

TEST(Aggregator, AvgIsTheMeanOfTheLastNRawValues) {
  SeriesAggregator a(Aggregator::Avg, 4);
  a.add(1);
  EXPECT_EQ(a.value(), 1.0);
  a.add(2);
  a.add(3);
  a.add(4);
  EXPECT_EQ(a.value(), 2.5);
  a.add(10);  // window 2, 3, 4, 10
  EXPECT_EQ(a.value(), 4.75);
}

TEST(Aggregator, AWindowOfZeroIsOneSample) {
  SeriesAggregator a(Aggregator::Avg, 0);
  a.add(3);
  a.add(9);
  EXPECT_EQ(a.value(), 9.0);
}

}  // namespace
}  // namespace l3afd::metrics
