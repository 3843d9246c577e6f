// The engine's USDT probe sites (core/usdt.h; every probe and argument in docs/tracing.md):
// op_start/op_done around each command, plan_step after each step of a plan, rollback when a
// plan is undone. Each function is one probe site.
//
// The op id, first argument of each probe, is the request id of the command being run: the
// engine thread's log::RequestScope (Engine::submit keeps the X-Request-ID of the HTTP request,
// or the id the API made for it, with the command). Commands without a request (the restore at
// start, the shutdown, retries of pending entries) trace an empty op id.
//
// Called on the thread that runs the command (the engine thread, or run_now's caller). The
// strings handed to a probe are copies on this thread's stack or heap, alive during the probe.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>

#include "engine/action.h"

namespace l3afd::engine {

/// What a step works on, as plan_step's `target`: the step's program (Step::subject) as
/// `<iface>/<direction>/<program>`, empty parts left out (a chain's root step of no program is
/// `eth0/xdpingress`), or the step's label when the subject is empty (a fetch, the commit).
std::string step_target(const Step& step);

/// Fires `op_start(op_id, command_kind)`.
void trace_op_start(std::string_view command_kind);
/// Fires `op_done(op_id, command_kind, ok, duration_ns)`.
void trace_op_done(std::string_view command_kind, bool ok, std::chrono::nanoseconds took);
/// Fires `plan_step(op_id, step_index, step_kind, target, ok, duration_ns)` for step
/// `index` (1-based, as in the log lines) after it ran. step_kind is action_kind().
void trace_plan_step(std::size_t index, const Step& step, bool ok, std::chrono::nanoseconds took);
/// Fires `rollback(op_id, steps_undone, ok, duration_ns)` after the undo stack of a failed
/// plan ran: `steps_undone` completed steps were undone, `ok` when every undo action succeeded.
void trace_rollback(std::size_t steps_undone, bool ok, std::chrono::nanoseconds took);

}  // namespace l3afd::engine
