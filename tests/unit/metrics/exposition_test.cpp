// The exposition rules of docs/compatibility.md §13 as metrics::Exposition applies them on top
// of prometheus-cpp's TextSerializer: name order, sorted labels, empty families left out, and
// integral values below 10^6 as plain digits (the L3AF e2e suite does shell arithmetic on them).
#include "metrics/exposition.h"

#include <gtest/gtest.h>

#include <limits>

namespace l3afd::metrics {
namespace {

using prometheus::MetricType;

TEST(Exposition, FamiliesInNameOrderLabelsSortedEmptyFamiliesLeftOut) {
  Exposition e;
  e.add("l3afd_BPFStopCount", "The count of BPF program stopped", MetricType::Counter,
        {{"interface_name", "veth0"}, {"ebpf_program", "ratelimiting"}, {"host", "h"}}, 2);
  e.add("l3afd_BPFRunning", "This value indicates BPF program is running or not", MetricType::Gauge,
        {{"version", "1.0"}, {"direction", "xdpingress"}}, 1);
  e.declare("l3afd_BPFDeployFailedCount", "never added", MetricType::Counter);
  const std::string out = e.serialize();
  EXPECT_EQ(out,
            "# HELP l3afd_BPFRunning This value indicates BPF program is running or not\n"
            "# TYPE l3afd_BPFRunning gauge\n"
            "l3afd_BPFRunning{direction=\"xdpingress\",version=\"1.0\"} 1\n"
            "# HELP l3afd_BPFStopCount The count of BPF program stopped\n"
            "# TYPE l3afd_BPFStopCount counter\n"
            "l3afd_BPFStopCount{ebpf_program=\"ratelimiting\",host=\"h\","
            "interface_name=\"veth0\"} 2\n");
}

TEST(Exposition, IntegralValuesBelowAMillionArePlainDigits) {
  for (double v : {0.0, 3.0, 37.0, 100.0, 999999.0}) {
    Exposition e;
    e.add("m", "h", MetricType::Gauge, {}, v);
    const std::string out = e.serialize();
    const std::string value = out.substr(out.rfind(' ') + 1);
    EXPECT_EQ(value, std::to_string(static_cast<long>(v)) + "\n") << out;
  }
}

TEST(Exposition, OtherValuesAreValidPrometheusFloats) {
  auto value_of = [](double v) {
    Exposition e;
    e.add("m", "h", MetricType::Gauge, {}, v);
    const std::string out = e.serialize();
    return out.substr(out.rfind(' ') + 1);
  };
  EXPECT_EQ(value_of(0.25), "0.25\n");
  EXPECT_EQ(value_of(1796267626.5), "1796267626.5\n");
  EXPECT_EQ(value_of(-1), "-1\n");
  EXPECT_EQ(value_of(std::numeric_limits<double>::infinity()), "+Inf\n");
}

TEST(Exposition, LabelValuesAreEscaped) {
  Exposition e;
  e.add("m", "h", MetricType::Gauge, {{"l", "a\"b\\c\nd"}}, 1);
  EXPECT_NE(e.serialize().find("m{l=\"a\\\"b\\\\c\\nd\"} 1\n"), std::string::npos) << e.serialize();
}

TEST(Exposition, MergedFamiliesKeepTheirOrderByName) {
  Exposition e;
  e.add("b_metric", "h", MetricType::Gauge, {}, 1);
  prometheus::MetricFamily a{"a_metric", "h", MetricType::Counter, {}};
  prometheus::ClientMetric m;
  m.counter.value = 5;
  a.metric.push_back(m);
  e.add_families({a});
  const std::string out = e.serialize();
  EXPECT_LT(out.find("a_metric 5"), out.find("b_metric 1")) << out;
}

}  // namespace
}  // namespace l3afd::metrics
