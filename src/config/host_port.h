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

/// What the host part of a listener address is, without resolving anything.
enum class HostKind {
  Wildcard,    ///< empty: all addresses
  LoopbackIp,  ///< a literal IPv4 address in 127.0.0.0/8, or ::1
  OtherIp,     ///< any other literal IPv4/IPv6 address (0.0.0.0 and :: included)
  Name,        ///< not a literal address: a host name to resolve (e.g. "localhost")
};

/// Classifies `host` as returned by split_host_port (IPv6 without brackets; a zone suffix
/// "%eth0" is ignored). Used for the PROD mTLS rule of docs/compatibility.md §8.4, where names must
/// be resolved by the caller (D49) and a wildcard host is not loopback.
HostKind classify_host(std::string_view host);

}  // namespace l3afd::config
