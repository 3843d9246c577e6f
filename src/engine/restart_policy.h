// When to restart a supervised companion (user_program_daemon: true) after it exited
// (issue 9; docs/compatibility.md §11.2, §15). Pure: the caller feeds it exit times and asks
// for decisions, so backoff and give-up rules are unit-tested without processes or clocks.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>

namespace l3afd::engine {

struct RestartLimits {
  std::int64_t max_restarts = 3;  ///< [l3afd] max-ebpf-restart-count; 0 = never restart
  std::chrono::milliseconds first_delay{500};
  std::chrono::milliseconds max_delay{30000};
  /// Running this long without an exit resets the count: a companion that crashed once a day
  /// is not given up on after a few days.
  std::chrono::milliseconds healthy_after{60000};
};

/// Exponential backoff: first_delay, then doubled per consecutive restart, capped at max_delay;
/// after max_restarts consecutive restarts the companion is given up on (reported, not
/// restarted). Value type; not thread-safe (the engine thread owns one per companion).
class RestartPolicy {
 public:
  using Clock = std::chrono::steady_clock;
  explicit RestartPolicy(RestartLimits limits) : limits_(limits) {}

  /// The companion was (re)started at `at`.
  void started(Clock::time_point at) { started_at_ = at; }

  /// The companion exited at `at`: the delay before the next start, or nullopt when it is given
  /// up on. Counts the restart it allows.
  std::optional<std::chrono::milliseconds> on_exit(Clock::time_point at);

  /// Restarts in total (never reset).
  std::int64_t restarts() const { return restarts_; }
  /// Consecutive restarts: reset once the companion has run for healthy_after (RestartCount of
  /// /bpfs, docs/compatibility.md §15 "Ours").
  std::int64_t consecutive() const { return consecutive_; }
  /// Resets the consecutive count when the companion has been running since at least
  /// healthy_after before `now`. True when it was reset.
  bool settle(Clock::time_point now);
  /// When settle() would reset the count (nullopt: nothing to reset, or not running).
  std::optional<Clock::time_point> settles_at() const;
  /// True once the policy has given up.
  bool given_up() const { return given_up_; }

 private:
  RestartLimits limits_;
  std::optional<Clock::time_point> started_at_;
  std::int64_t restarts_ = 0;
  std::int64_t consecutive_ = 0;
  bool given_up_ = false;
};

}  // namespace l3afd::engine
