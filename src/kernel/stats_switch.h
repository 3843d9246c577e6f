// StatsSwitch: the one owner of this daemon's holds on the kernel's BPF run-time statistics
// (docs/operations.md "Program run statistics"). The kernel counts run_cnt/run_time_ns of every
// program (Kernel::program_run_stats) only while statistics are on, which costs two clock
// reads per program run, so they are opt-in:
//  * config: [l3afd] bpf-stats-enabled: true holds them for the daemon's lifetime
//    (hold_for_lifetime(), called once at start);
//  * api:    PUT /l3af/configs/{version}/bpf-stats holds them for a bounded time
//    (hold_for(), release_timed()); a timer thread of this class gives the hold back at the
//    deadline, so nothing has to poll;
//  * sysctl: kernel.bpf_stats_enabled = 1, the machine's own switch, outside the daemon; read
//    from the sysctl file on every query, never written.
// A hold is an fd from the injected opener (kernel/libbpf open_run_time_stats() in the daemon);
// closing it gives it back, and the kernel keeps statistics on while any holder remains
// (another process holding such an fd is invisible to this class: the sysctl file shows only
// the sysctl's own setting).
//
// Thread-safety: every public method may be called from any thread (one internal mutex; the
// opener is called under it). Destruction stops the timer thread and gives every hold back.
#pragma once

#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <functional>
#include <mutex>
#include <optional>
#include <stop_token>
#include <thread>

#include "core/result.h"
#include "core/unique_fd.h"

namespace l3afd::kernel {

/// Who keeps statistics on, in the order state() reports them (the first that holds wins).
enum class StatsSource { Config, Api, Sysctl };
/// "config" | "api" | "sysctl".
const char* stats_source_name(StatsSource s) noexcept;

struct StatsState {
  bool enabled = false;               ///< statistics are on (as far as this daemon can see)
  std::optional<StatsSource> source;  ///< set iff enabled
  /// When the api hold ends; set iff source is Api.
  std::optional<std::chrono::system_clock::time_point> until;
  bool operator==(const StatsState&) const = default;
};

class StatsSwitch {
 public:
  /// Takes one hold: an fd that keeps statistics on while it is open.
  using Opener = std::function<Result<UniqueFd>()>;

  /// The sysctl file read by state() and bpf_stats_on().
  static constexpr const char* kSysctlPath = "/proc/sys/kernel/bpf_stats_enabled";

  /// `sysctl`: the file to read ("1" = on; absent or unreadable = off).
  explicit StatsSwitch(Opener open, std::filesystem::path sysctl = kSysctlPath);
  ~StatsSwitch();
  StatsSwitch(const StatsSwitch&) = delete;
  StatsSwitch& operator=(const StatsSwitch&) = delete;

  /// Takes the config hold, kept until destruction. Idempotent. Errors: the opener's.
  Status hold_for_lifetime();

  /// Takes (or keeps) the api hold and sets its deadline to now + `duration` (replacing an
  /// earlier deadline, also a later one). Precondition: duration > 0 (the API bounds it).
  /// Returns the state afterwards. Errors: the opener's (nothing changes then).
  Result<StatsState> hold_for(std::chrono::milliseconds duration);

  /// Gives the api hold back now (no-op without one); the config hold and the sysctl are not
  /// touched. Returns the state afterwards.
  StatsState release_timed();

  /// What holds statistics on: config hold, else api hold (with its deadline), else the sysctl.
  StatsState state() const;

  /// True while statistics are on as far as this daemon can see: a hold of ours, or the
  /// sysctl reading 1. For the metrics code: counters only grow while this is true.
  bool bpf_stats_on() const { return state().enabled; }

 private:
  /// The timer thread: waits for the api deadline (or a new one), then closes the api hold.
  void expire_loop(std::stop_token stop);
  bool sysctl_on() const;

  Opener open_;
  std::filesystem::path sysctl_;
  mutable std::mutex mutex_;
  std::condition_variable_any changed_;  ///< a new deadline (or release) for expire_loop
  UniqueFd config_hold_;
  UniqueFd api_hold_;
  std::chrono::steady_clock::time_point api_deadline_{};
  std::chrono::system_clock::time_point api_until_{};
  std::jthread timer_;  ///< last member: stopped and joined first at destruction
};

}  // namespace l3afd::kernel
