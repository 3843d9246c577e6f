// PUT /l3af/configs/{version}/restart (docs/compatibility.md §16): decodes the RestartConfig
// body, checks the host name and hands the request to the daemon's RestartService, which does
// the work (install layout, successor process, handover, rollback).
#pragma once

#include <atomic>
#include <string>
#include <string_view>

#include "api/http/router.h"
#include "core/result.h"
#include "model/l3af_types.h"

namespace l3afd::api {

/// The body `{"hostname": .., "version": "vX.Y.Z"}` (§4.7), decoded by model::decode_restart.
using RestartRequest = model::RestartConfig;

/// The daemon side of a restart. restart() returns once the successor serves (success: this
/// process exits after the answer is sent) or everything was rolled back.
/// Errors: InvalidPayload (version), RestartInProgress (another restart holds the write gate),
/// RestartFailed (rolled back; the message says which step failed and why).
class RestartService {
 public:
  virtual ~RestartService() = default;
  virtual Status restart(const RestartRequest& req, const std::string& request_id) = 0;
};

/// Adds the PUT route. Until `ready`: 503 not_ready. `hostname` other than `host_name`: 400
/// wrong_host. A second restart while one runs: 409 restart_in_progress. Success: 200, empty.
void add_restart_route(http::Router& r, RestartService& service, std::string host_name,
                       const std::atomic<bool>& ready);

}  // namespace l3afd::api
