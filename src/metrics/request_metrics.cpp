#include "metrics/request_metrics.h"

#include <array>

namespace l3afd::metrics {

namespace {

std::string method_label(std::string_view m) {
  static constexpr std::array<std::string_view, 9> kStandard = {
      "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "CONNECT", "OPTIONS", "TRACE"};
  for (auto s : kStandard) {
    if (m == s) return std::string(s);
  }
  return "other";
}

}  // namespace

const std::vector<double>& RequestMetrics::buckets() {
  static const std::vector<double> b = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                        0.25,   0.5,   1,      2.5,   5,    10,    30};
  return b;
}

RequestMetrics::RequestMetrics(const std::string& host)
    : registry_(std::make_shared<prometheus::Registry>()),
      family_(&prometheus::BuildHistogram()
                   .Name("l3afd_api_request_duration_seconds")
                   .Help("Time from reading an API request to writing its answer, by method, "
                         "route pattern and status.")
                   .Labels({{"host", host}})
                   .Register(*registry_)) {}

void RequestMetrics::observe(std::string_view method, std::string_view route, int status,
                             double seconds) {
  family_
      ->Add({{"method", method_label(method)},
             {"route", route.empty() ? std::string("unmatched") : std::string(route)},
             {"status", std::to_string(status)}},
            buckets())
      .Observe(seconds);
}

std::vector<prometheus::MetricFamily> RequestMetrics::collect() const {
  return registry_->Collect();
}

}  // namespace l3afd::metrics
