// The /metrics text (Prometheus text format 0.0.4) built on prometheus-cpp's data model and
// written by its TextSerializer (docs/compatibility.md §13; docs/metrics.md).
//
// The daemon's series are not kept in a long-lived registry: they are a view of the engine's
// published snapshot, so each scrape builds the families afresh here. Families that do have
// process-lifetime state (the API request histogram) come from a prometheus::Registry and are
// merged in with add_families().
//
// Rules applied here, once, for every family (the Go client's, which L3AF's tools read):
//  * families are written in name order; a family without series is not written at all;
//  * labels of a series are written sorted by name;
//  * help texts are escaped as the format requires (backslash, newline), label values by
//    prometheus-cpp; any bytes round-trip (tests/fuzz/fuzz_exposition.cpp);
//  * values as prometheus-cpp prints doubles (16 significant digits): integral values below
//    10^6 come out as plain digits, which is what §13 requires ("37", never "37.0"/"3.7e+01").
#pragma once

#include <map>
#include <string>
#include <vector>

#include <prometheus/metric_family.h>

namespace l3afd::metrics {

using Labels = std::map<std::string, std::string>;

class Exposition {
 public:
  /// Adds one sample to the family `name`, creating it with `help` and `type` on first use
  /// (later calls keep the first help/type). Only Counter, Gauge and Untyped are accepted here;
  /// histograms and summaries arrive through add_families().
  void add(const std::string& name, const std::string& help, prometheus::MetricType type,
           const Labels& labels, double value);
  /// Declares a family without adding a sample (it is still left out while it has none).
  void declare(const std::string& name, const std::string& help, prometheus::MetricType type);
  /// Merges families collected elsewhere (e.g. prometheus::Registry::Collect()); a family whose
  /// name exists already gets the metrics appended.
  void add_families(std::vector<prometheus::MetricFamily> families);

  /// The exposition text.
  std::string serialize() const;

 private:
  prometheus::MetricFamily& family(const std::string& name, const std::string& help,
                                   prometheus::MetricType type);
  std::map<std::string, prometheus::MetricFamily> families_;
};

}  // namespace l3afd::metrics
