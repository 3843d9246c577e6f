#include "metrics/aggregator.h"

#include <algorithm>

namespace l3afd::metrics {

std::optional<Aggregator> parse_aggregator(std::string_view name) {
  if (name == "scalar") return Aggregator::Scalar;
  if (name == "max-rate") return Aggregator::MaxRate;
  if (name == "avg") return Aggregator::Avg;
  return std::nullopt;
}

SeriesAggregator::SeriesAggregator(Aggregator kind, std::size_t n)
    : kind_(kind), n_(std::max<std::size_t>(n, 1)) {}

void SeriesAggregator::add(std::uint64_t raw) {
  switch (kind_) {
    case Aggregator::Scalar: break;
    case Aggregator::MaxRate:
      // |value - previous|, as the reference (a counter that was reset counts its new value).
      if (last_) window_.push_back(raw >= *last_ ? raw - *last_ : *last_ - raw);
      break;
    case Aggregator::Avg: window_.push_back(raw); break;
  }
  while (window_.size() > n_) window_.pop_front();
  last_ = raw;
}

std::optional<double> SeriesAggregator::value() const {
  if (!last_) return std::nullopt;
  switch (kind_) {
    case Aggregator::Scalar: return static_cast<double>(*last_);
    case Aggregator::MaxRate:
      if (window_.empty()) return 0.0;  // the baseline sample
      return static_cast<double>(*std::max_element(window_.begin(), window_.end()));
    case Aggregator::Avg: {
      long double sum = 0;
      for (auto v : window_) sum += static_cast<long double>(v);
      return static_cast<double>(sum / static_cast<long double>(window_.size()));
    }
  }
  return std::nullopt;
}

}  // namespace l3afd::metrics
