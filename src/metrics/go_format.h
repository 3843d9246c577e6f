// Sample values printed as the Go Prometheus client prints them (docs/compatibility.md §13):
// strconv.FormatFloat(v, 'g', -1, 64), the shortest text that reads back as the same double,
// in exponent form when the decimal exponent is below -4 or at least 6 (21 for %v is not what
// the client uses). The L3AF e2e suite does shell integer arithmetic on values below 10^6, so
// those must print as plain digits. Pure.
#pragma once

#include <string>

namespace l3afd::metrics {

/// 0 → "0", 37 → "37", 1.5e6 → "1.5e+06", 1723456789 → "1.723456789e+09", 0.25 → "0.25",
/// 1e-05 → "1e-05", NaN → "NaN", ±Inf → "+Inf"/"-Inf".
std::string go_float(double v);

}  // namespace l3afd::metrics
