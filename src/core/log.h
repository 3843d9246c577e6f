// Logging facade over spdlog. The daemon configures one logger at start-up (console or JSON
// lines, level from L3AF_LOG_LEVEL); everything else logs with spdlog's free functions and the
// convention below. Thread-safe (spdlog loggers are).
//
// How to log (the one convention; reviews hold code to it):
//
// * Call spdlog's free functions: spdlog::info("applying plan: {} step(s)", n). There is no
//   other wrapper; per-module loggers are not used.
// * Levels:
//     critical  the daemon cannot start or must exit (configuration error, lost PID lock).
//     error     something failed and left work for the operator: a rollback or release step
//               failed, a restore failed, programs could not be stopped.
//     warn      something went wrong and was handled without the operator, or the daemon runs
//               degraded: a request answered 5xx, native XDP refused (generic used), a pin
//               that could not be removed, a config key that is read but ignored.
//     info      what changed and the daemon's life: start, listening, ready, stop; each plan;
//               each kernel change (load, attach, detach, unload); one line per API request.
//     debug     detail to follow a request step by step: each plan step, each metrics and
//               debug listener request, connection timeouts.
//     trace     reserved; the daemon writes nothing at trace today.
// * Message shape: `<event>[ key=value ...][: <cause>]`.
//     <event>   lower-case prose naming what happened or is happening, no trailing period,
//               prefixed with `<component>: ` when the event alone is ambiguous
//               ("api: request", "restore: keeping interface eth0 pending"). The kernel
//               adapter names its operation as the first field instead (`op=attach key=...`).
//     fields    the facts one filters on, lower_snake_case keys that mean the same
//               everywhere: iface, key, prog_id, link_id, map, path, method, status,
//               duration_ms, remote, bytes. The unit goes in the key, never in the value.
//               Values hold no spaces; a value that may (a path, a message) comes last.
//     <cause>   an Error is written with Error::to_string(), always last, after ": ";
//               errno, std::error_code and exception texts likewise.
// * Requests: the edge (api/http session) writes exactly one line per request with its
//   outcome (`api: request method=.. path=.. status=.. duration_ms=.. remote=..[: <error>]`);
//   handlers do not log their outcome again. Lines are not given the request id by hand: the
//   formatter appends it (` req=<id>` on console lines, "request_id" in JSON lines) to every
//   line written on a thread inside a RequestScope, including the engine thread while it runs
//   the request's command.
#pragma once

#include <spdlog/formatter.h>
#include <spdlog/spdlog.h>

#include <memory>
#include <string>
#include <string_view>

namespace l3afd::log {

enum class Format { Console, Json };

/// Configures the default logger (stderr and, when `file_path` is set, that file appended to)
/// with make_formatter(format). `level` is a zerolog name (trace, debug, info, warn, error,
/// fatal, panic); unknown names fall back to info. Call once, before other threads start.
void setup(Format format, std::string_view level, const std::string& file_path = {});

/// The daemon's line format, the only place it is defined:
///   Console: `2026-12-01T19:59:28.394+00:00 info  <message>[ req=<id>]`
///   Json:    `{"time":"..","level":"..",["request_id":"..",]"message":".."}` (valid JSON
///            whatever the message holds).
/// The request id part appears only while the logging thread is inside a RequestScope.
std::unique_ptr<spdlog::formatter> make_formatter(Format format);

/// Parses a zerolog level name; returns false for unknown names.
bool parse_level(std::string_view name, spdlog::level::level_enum& out);

/// The calling thread's current request id; empty outside every RequestScope. The view is
/// valid until the innermost scope of this thread ends.
std::string_view current_request_id() noexcept;

/// Makes `id` the calling thread's current request id for the scope's lifetime and restores
/// the previous one (possibly none) when it ends, so scopes nest. An empty `id` means "no
/// request" for the scope. Thread-local: other threads never see it; carry the id across
/// threads by value (Engine::submit does). Create and destroy on the same thread, in LIFO
/// order (it is not movable). Loggers must be synchronous (they are): the formatter reads the
/// id on the thread that logs.
class RequestScope {
 public:
  explicit RequestScope(std::string id);
  ~RequestScope();
  RequestScope(const RequestScope&) = delete;
  RequestScope& operator=(const RequestScope&) = delete;

 private:
  std::string previous_;
};

}  // namespace l3afd::log
