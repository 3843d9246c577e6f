// monitor_maps aggregators (docs/compatibility.md §12.2): what one l3afd_BPFMonitorMap series
// publishes from the raw counter value sampled once a second. Pure; one object per series,
// owned by one thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <string_view>

namespace l3afd::metrics {

enum class Aggregator {
  Scalar,   ///< the raw value
  MaxRate,  ///< the largest |value - previous| of the last N samples (per-second increase)
  Avg,      ///< the mean of the last N raw values
};

/// "scalar", "max-rate", "avg"; nullopt for anything else (refused at validation).
std::optional<Aggregator> parse_aggregator(std::string_view name);

/// The value of one series. N = n-metric-samples (at least 1).
class SeriesAggregator {
 public:
  SeriesAggregator(Aggregator kind, std::size_t n);

  /// The raw value read at this tick. A failed read is not a sample: the caller skips add() (and
  /// counts the failure), so a gap never shows up as a drop to 0.
  void add(std::uint64_t raw);

  /// What to publish; nullopt before the first sample. max-rate: the first sample only sets the
  /// baseline and publishes 0 (Changed, D34: the original published the raw counter as a spike).
  std::optional<double> value() const;

 private:
  Aggregator kind_;
  std::size_t n_;
  std::optional<std::uint64_t> last_;
  std::deque<std::uint64_t> window_;  ///< max-rate: deltas; avg: raw values; at most n_
};

}  // namespace l3afd::metrics
