// Order statistics of a sample set (bench only). Pure functions; thread-safe.
#pragma once

#include <cstddef>
#include <vector>

namespace l3afd::bench {

/// Summary of one measured quantity. `p90` is meaningful only when the caller asked for it.
struct Summary {
  double median = 0;
  double p90 = 0;
  double min = 0;
  double max = 0;
  std::size_t samples = 0;
};

/// Median (mean of the two middle values for an even count), nearest-rank 90th percentile,
/// min and max of `values`. An empty input gives an all-zero Summary with samples == 0.
Summary summarize(std::vector<double> values);

/// Nearest-rank percentile `q` in [0, 1] of an ascending-sorted, non-empty `sorted`.
double percentile_sorted(const std::vector<double>& sorted, double q);

}  // namespace l3afd::bench
