// Splitting of listener addresses (`restapi-addr`, `metrics-addr`, `[ebpf-chain-debug] addr`).
// Pure; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

#include "core/result.h"

namespace l3afd::config {

/// Splits "host:port" like Go's net.SplitHostPort, then parses the port as a decimal number in
/// 0..65535. IPv6 literals must be bracketed ("[::1]:8080" -> {"::1", 8080}); the host may be
/// empty (":8080" -> {"", 8080}, meaning all addresses). Host names are returned unresolved.
/// Errors (Errc::InvalidPayload, message names `addr`): missing port, missing ']', too many
/// colons, unexpected '[' or ']', empty or non-numeric port, port above 65535.
Result<std::pair<std::string, std::uint16_t>> split_host_port(std::string_view addr);

}  // namespace l3afd::config
