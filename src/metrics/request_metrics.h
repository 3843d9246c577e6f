// l3afd_api_request_duration_seconds: a histogram of the API listener's requests by method,
// route pattern and status (docs/metrics.md), kept in a prometheus-cpp Registry for the life of
// the process.
//
// Labels are bounded whatever clients send: `route` is the router's pattern (e.g.
// "/l3af/configs/{version}/{iface}"), "unmatched" for 404/405 and for requests the server
// answered itself (malformed, too large); `method` is one of the standard methods or "other".
//
// Thread-safety: observe() and collect() may run concurrently on any threads.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <prometheus/family.h>
#include <prometheus/histogram.h>
#include <prometheus/metric_family.h>
#include <prometheus/registry.h>

namespace l3afd::metrics {

class RequestMetrics {
 public:
  /// `host`: the constant host label every l3afd series carries.
  explicit RequestMetrics(const std::string& host);

  void observe(std::string_view method, std::string_view route, int status, double seconds);
  std::vector<prometheus::MetricFamily> collect() const;

  /// Bucket upper bounds in seconds: 0.5 ms … 30 s (an add that downloads and loads a package
  /// takes seconds; a GET well under a millisecond).
  static const std::vector<double>& buckets();

 private:
  std::shared_ptr<prometheus::Registry> registry_;
  prometheus::Family<prometheus::Histogram>* family_;
};

}  // namespace l3afd::metrics
