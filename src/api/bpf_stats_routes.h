// PUT/GET /l3af/configs/{version}/bpf-stats (extension, docs/api/openapi.yaml "BpfStats"):
// switch the kernel's BPF run statistics on for a while without a restart, and see who keeps
// them on. The state lives in kernel::StatsSwitch; this file only decodes and encodes.
#pragma once

#include <atomic>
#include <chrono>
#include <string>
#include <string_view>

#include "api/http/router.h"
#include "core/result.h"
#include "kernel/stats_switch.h"

namespace l3afd::api {

/// Bounds of "seconds" in the PUT body.
inline constexpr std::chrono::seconds kBpfStatsDefaultDuration{600};
inline constexpr std::chrono::seconds kBpfStatsMaxDuration{3600};

/// A decoded PUT body: {"enabled": true, "seconds": 1..3600 (default 600)} or
/// {"enabled": false}.
struct BpfStatsRequest {
  bool enabled = false;
  std::chrono::seconds duration = kBpfStatsDefaultDuration;  ///< meaningful when enabled
};

/// Decodes a PUT body. Errors: InvalidJson (not JSON; field empty), InvalidPayload with one
/// ErrorItem whose field is the JSON pointer of the culprit: "" (not an object), "/enabled"
/// (missing or not a boolean), "/seconds" (not an integer in 1..3600, or given with
/// enabled false), "/<name>" (an unknown member).
Result<BpfStatsRequest> decode_bpf_stats_request(std::string_view body);

/// {"enabled":<bool>,"until":<RFC 3339 UTC with seconds, or null>,"source":<"config"|"api"|
/// "sysctl", or null>}: until is set only for an api hold, source only when enabled.
std::string encode_bpf_stats_state(const kernel::StatsState& s);

/// Adds GET and PUT /l3af/configs/{version}/bpf-stats to `r` (an API router). Both answer 503
/// not_ready until `ready`, like every API route; PUT answers 200 with the state afterwards,
/// 400 for a bad body, 500 apply_failed (with errno) when the kernel refuses the hold.
/// `stats` and `ready` must outlive the router.
void add_bpf_stats_routes(http::Router& r, kernel::StatsSwitch& stats,
                          const std::atomic<bool>& ready);

}  // namespace l3afd::api
