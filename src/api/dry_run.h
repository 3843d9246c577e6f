// `?dry_run=1` (or `dry_run=true`) on the write routes, an extension of the L3AF API: the
// engine validates and plans the request as usual and returns the plan instead of running it.
// This file reads the query flag and encodes the plan (docs/api/openapi.yaml, DryRunPlan).
#pragma once

#include <string>
#include <string_view>

#include "engine/engine.h"

namespace l3afd::api {

/// True when the raw query string has dry_run=1 or dry_run=true (other parameters ignored).
bool wants_dry_run(std::string_view query);

/// The plan as JSON, one object per step in run order:
/// {"dry_run":true,"steps":[{"label":..,"action":..,"detail":..}],"release":[..]}
/// followed by a newline. `action` is engine::action_kind, `detail` engine::describe.
std::string encode_preview(const engine::PlanPreview& p);

}  // namespace l3afd::api
