#include "metrics/exposition.h"

#include <algorithm>
#include <stdexcept>

#include <prometheus/text_serializer.h>

namespace l3afd::metrics {
namespace {

// The text format wants a HELP text with backslash and newline escaped ("\\", "\n"), and
// prometheus-cpp 1.0.1's TextSerializer writes it raw (it escapes label values only), so a
// newline would end the line early and a backslash would be an invalid escape for the scraper.
// Found by tests/fuzz/fuzz_exposition.cpp, which also notices if a later prometheus-cpp starts
// escaping on its own (the text would then be escaped twice).
std::string escape_help(const std::string& help) {
  std::string out;
  out.reserve(help.size());
  for (const char c : help) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

}  // namespace

prometheus::MetricFamily& Exposition::family(const std::string& name, const std::string& help,
                                             prometheus::MetricType type) {
  auto it = families_.find(name);
  if (it == families_.end()) {
    it = families_.emplace(name, prometheus::MetricFamily{name, escape_help(help), type, {}}).first;
  }
  return it->second;
}

void Exposition::declare(const std::string& name, const std::string& help,
                         prometheus::MetricType type) {
  family(name, help, type);
}

void Exposition::add(const std::string& name, const std::string& help, prometheus::MetricType type,
                     const Labels& labels, double value) {
  auto& f = family(name, help, type);
  prometheus::ClientMetric m;
  for (const auto& [k, v] : labels) m.label.push_back({k, v});
  switch (f.type) {
    case prometheus::MetricType::Counter: m.counter.value = value; break;
    case prometheus::MetricType::Gauge: m.gauge.value = value; break;
    case prometheus::MetricType::Untyped: m.untyped.value = value; break;
    default: throw std::invalid_argument("Exposition::add: " + name + " is not a counter or gauge");
  }
  f.metric.push_back(std::move(m));
}

void Exposition::add_families(std::vector<prometheus::MetricFamily> families) {
  for (auto& f : families) {
    auto& mine = family(f.name, f.help, f.type);
    for (auto& m : f.metric) mine.metric.push_back(std::move(m));
  }
}

std::string Exposition::serialize() const {
  std::vector<prometheus::MetricFamily> out;
  out.reserve(families_.size());
  for (const auto& [name, f] : families_) {  // std::map: name order
    if (f.metric.empty()) continue;
    out.push_back(f);
    for (auto& m : out.back().metric) {
      std::sort(m.label.begin(), m.label.end(),
                [](const auto& a, const auto& b) { return a.name < b.name; });
    }
  }
  return prometheus::TextSerializer().Serialize(out);
}

}  // namespace l3afd::metrics
