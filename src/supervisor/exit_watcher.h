// The supervisor's one thread (issue 9): an epoll loop — no polling, no sleeps — over
//  * the pidfd of every supervised process: when it becomes readable the process ended; it is
//    reaped with waitid(P_PIDFD) when it is our child (an adopted process of a previous daemon
//    run is not: waitid says ECHILD, init reaps it, and its exit status is unknown) and the
//    callback is told;
//  * the read end of its stdout/stderr pipe: appended to its CappedLog;
//  * a timerfd per stop in progress: SIGKILL when the grace period after SIGTERM is over;
//  * an eventfd that wakes the loop to end it (destructor).
//
// Thread-safety: watch(), terminate() and alive() may be called from any thread (a mutex guards
// the table; epoll_ctl is thread-safe). The callback runs on the watcher thread, never with the
// watcher's mutex held, so it may call back into the watcher. Lock order for users holding
// their own mutex: theirs, then the watcher's — the callback is the only way back.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <utility>
#include <vector>

#include "core/result.h"
#include "core/unique_fd.h"
#include "supervisor/capped_log.h"
#include "supervisor/posix_runner.h"

namespace l3afd::supervisor {

/// A watched process ended.
struct WatchedExit {
  std::uint64_t token = 0;
  pid_t pid = -1;
  std::optional<Exit> exit;  ///< nullopt: not our child (adopted), the status is unknown
  bool stopped = false;      ///< it ended after terminate()
};

class ExitWatcher {
 public:
  using Callback = std::function<void(const WatchedExit&)>;

  /// Starts the thread. Errors: Kernel (epoll, eventfd), Internal (thread).
  static Result<std::unique_ptr<ExitWatcher>> create(Callback callback);

  /// Ends the thread. Processes still running are left running (a later daemon run adopts
  /// them), except those being stopped: they are SIGKILLed now and reaped (no callback).
  ~ExitWatcher();

  ExitWatcher(const ExitWatcher&) = delete;
  ExitWatcher& operator=(const ExitWatcher&) = delete;

  /// Supervises the process of `pidfd` until it ends (the watcher owns the fds from now on).
  /// `output` (optional) is read into `log`. Returns the token the exit will carry.
  /// Errors: Kernel (epoll_ctl).
  Result<std::uint64_t> watch(pid_t pid, UniqueFd pidfd, UniqueFd output,
                              std::shared_ptr<CappedLog> log);

  /// Stops the process: SIGTERM now (through the pidfd), SIGKILL when it is still there after
  /// `grace`. Returns at once; the exit comes with stopped = true. Idempotent. Errors: NotFound
  /// (the token already ended), Kernel.
  Status terminate(std::uint64_t token, std::chrono::milliseconds grace);

  /// True while the process of `token` has not ended.
  bool alive(std::uint64_t token) const;

  /// Copies (dup, close-on-exec) of the output pipes still open, by pid: a graceful restart
  /// hands them to the new daemon, so an adopted companion's output keeps a reader.
  std::vector<std::pair<pid_t, UniqueFd>> dup_outputs() const;

 private:
  struct Entry {
    pid_t pid = -1;
    UniqueFd pidfd;
    UniqueFd output;
    std::shared_ptr<CappedLog> log;
    UniqueFd timer;
    bool stopping = false;
  };

  ExitWatcher(Callback callback, UniqueFd epoll, UniqueFd wake);
  void loop();
  /// Handles one epoll event; fills `ended` when the process ended. Called with mu_ held.
  void handle_locked(std::uint64_t data, std::uint32_t events, std::optional<WatchedExit>& ended);
  /// Reads what the output pipe holds (at most `budget` bytes); closes it at EOF or error.
  void drain_locked(Entry& e, std::size_t budget);
  void forget_locked(std::map<std::uint64_t, Entry>::iterator it);

  const Callback callback_;
  UniqueFd epoll_;
  UniqueFd wake_;
  mutable std::mutex mu_;
  std::map<std::uint64_t, Entry> entries_;
  std::uint64_t next_token_ = 1;
  std::atomic<bool> quit_{false};
  std::thread thread_;
};

}  // namespace l3afd::supervisor
