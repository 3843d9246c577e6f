// api/status.h: the one table from Errc to HTTP status and API code (docs/compatibility.md
// §7.2), checked for the package integrity code and for the table's other rows it borders.
#include "api/status.h"

#include <gtest/gtest.h>

namespace l3afd::api {
namespace {

TEST(StatusTable, PackageIntegrityIsBadGatewayWithItsOwnCode) {
  EXPECT_EQ(http_status(Errc::PackageIntegrity), 502);
  EXPECT_STREQ(api_code(Errc::PackageIntegrity), "package_integrity");
  EXPECT_STREQ(errc_name(Errc::PackageIntegrity), "package_integrity");
  // The neighbouring failures of a fetch keep theirs.
  EXPECT_EQ(http_status(Errc::Unavailable), 500);
  EXPECT_STREQ(api_code(Errc::Unavailable), "apply_failed");
  EXPECT_EQ(http_status(Errc::NotFound), 500);
}

TEST(StatusTable, ErrorResponseOfAnIntegrityFailure) {
  Error e{Errc::PackageIntegrity,
          0,
          "integrity check of file:///r/a.tar.gz failed: bad signature",
          {},
          {},
          "fetch package a@1"};
  e.items.push_back(ErrorItem{.iface = "eth0",
                              .direction = "xdpingress",
                              .program = "a",
                              .field = "/0/bpf_programs/xdp_ingress/0/artifact",
                              .message = "bad signature"});
  const auto r = error_response(e);
  EXPECT_EQ(r.status, 502);
  EXPECT_EQ(r.body,
            "{\"code\":\"package_integrity\",\"message\":\"integrity check of file:///r/a.tar.gz "
            "failed: bad signature\",\"errors\":[{\"iface\":\"eth0\",\"direction\":\"xdpingress\","
            "\"program\":\"a\",\"field\":\"/0/bpf_programs/xdp_ingress/0/artifact\",\"message\":"
            "\"bad signature\"}],\"step\":\"fetch package a@1\"}");
  for (const auto& [name, value] : r.headers) EXPECT_NE(name, "Retry-After");
}

}  // namespace
}  // namespace l3afd::api
