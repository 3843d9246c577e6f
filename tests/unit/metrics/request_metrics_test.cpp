// l3afd_api_request_duration_seconds (metrics/request_metrics.h): one histogram series per
// method/route/status with bounded label values, written through metrics::Exposition.
#include "metrics/request_metrics.h"

#include <gtest/gtest.h>

#include "metrics/exposition.h"

namespace l3afd::metrics {
namespace {

std::string text(const RequestMetrics& r) {
  Exposition e;
  e.add_families(r.collect());
  return e.serialize();
}

TEST(RequestMetrics, CountsAndBucketsByMethodRouteAndStatus) {
  RequestMetrics r("node1");
  r.observe("GET", "/l3af/configs/{version}/{iface}", 200, 0.0003);
  r.observe("GET", "/l3af/configs/{version}/{iface}", 200, 0.002);
  r.observe("POST", "/l3af/configs/{version}/add", 400, 0.004);
  const std::string out = text(r);
  EXPECT_NE(out.find("# TYPE l3afd_api_request_duration_seconds histogram\n"), std::string::npos)
      << out;
  EXPECT_NE(out.find("l3afd_api_request_duration_seconds_count{host=\"node1\",method=\"GET\","
                     "route=\"/l3af/configs/{version}/{iface}\",status=\"200\"} 2\n"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("l3afd_api_request_duration_seconds_bucket{host=\"node1\",method=\"GET\","
                     "route=\"/l3af/configs/{version}/{iface}\",status=\"200\",le=\"0.0005\"} 1\n"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("l3afd_api_request_duration_seconds_bucket{host=\"node1\",method=\"GET\","
                     "route=\"/l3af/configs/{version}/{iface}\",status=\"200\",le=\"0.0025\"} 2\n"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("method=\"POST\",route=\"/l3af/configs/{version}/add\",status=\"400\"} 1\n"),
            std::string::npos)
      << out;
}

TEST(RequestMetrics, LabelValuesStayBoundedWhateverClientsSend) {
  RequestMetrics r("h");
  r.observe("BREW", "", 405, 0.001);
  r.observe("GET", "", 404, 0.001);
  const std::string out = text(r);
  EXPECT_NE(out.find("method=\"other\",route=\"unmatched\",status=\"405\"} 1\n"), std::string::npos)
      << out;
  EXPECT_NE(out.find("method=\"GET\",route=\"unmatched\",status=\"404\"} 1\n"), std::string::npos)
      << out;
  EXPECT_EQ(out.find("BREW"), std::string::npos);
}

}  // namespace
}  // namespace l3afd::metrics
