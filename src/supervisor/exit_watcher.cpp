#include "supervisor/exit_watcher.h"

#include <fcntl.h>

#include <poll.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <exception>

#include <spdlog/spdlog.h>

namespace l3afd::supervisor {

namespace {

// epoll data: token << 2 | kind; data 0 is the wake eventfd (tokens start at 1).
enum Kind : std::uint64_t { kPid = 0, kOutput = 1, kTimer = 2 };
constexpr std::uint64_t encode(std::uint64_t token, Kind k) {
  return token << 2 | k;
}

constexpr std::size_t kChunk = 64 * 1024;
constexpr std::size_t kReadBudget = 16 * kChunk;   // per readiness event
constexpr std::size_t kFinalBudget = 64 * kChunk;  // after the process ended

int pidfd_send_signal(int pidfd, int sig) {
  return static_cast<int>(::syscall(SYS_pidfd_send_signal, pidfd, sig, nullptr, 0));
}

Status add(int epoll, int fd, std::uint64_t data) {
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = data;
  if (::epoll_ctl(epoll, EPOLL_CTL_ADD, fd, &ev) != 0) {
    return fail(Errc::Kernel, "epoll_ctl add", errno);
  }
  return ok();
}

}  // namespace

Result<std::unique_ptr<ExitWatcher>> ExitWatcher::create(Callback callback) {
  UniqueFd epoll(::epoll_create1(EPOLL_CLOEXEC));
  if (!epoll) return fail(Errc::Kernel, "epoll_create1", errno);
  UniqueFd wake(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!wake) return fail(Errc::Kernel, "eventfd", errno);
  if (auto st = add(epoll.get(), wake.get(), 0); !st) return fail(std::move(st.error()));
  try {
    return std::unique_ptr<ExitWatcher>(
        new ExitWatcher(std::move(callback), std::move(epoll), std::move(wake)));
  } catch (const std::exception& e) {
    return fail(Errc::Internal, std::string("start exit watcher thread: ") + e.what());
  }
}

ExitWatcher::ExitWatcher(Callback callback, UniqueFd epoll, UniqueFd wake)
    : callback_(std::move(callback)), epoll_(std::move(epoll)), wake_(std::move(wake)) {
  thread_ = std::thread([this] { loop(); });
}

ExitWatcher::~ExitWatcher() {
  quit_ = true;
  const std::uint64_t one = 1;
  (void)!::write(wake_.get(), &one, sizeof one);
  if (thread_.joinable()) thread_.join();
  // A stop in progress is finished now rather than left without its SIGKILL timer.
  for (auto& [token, e] : entries_) {
    if (!e.stopping) continue;
    if (pidfd_send_signal(e.pidfd.get(), SIGKILL) == 0) {
      spdlog::warn("companion stop cut short by shutdown pid={}: SIGKILL", e.pid);
    }
    siginfo_t info{};
    int r;
    do {
      r = ::waitid(static_cast<idtype_t>(P_PIDFD), static_cast<id_t>(e.pidfd.get()), &info,
                   WEXITED);
    } while (r != 0 && errno == EINTR);
  }
}

std::vector<std::pair<pid_t, UniqueFd>> ExitWatcher::dup_outputs() const {
  std::lock_guard lock(mu_);
  std::vector<std::pair<pid_t, UniqueFd>> out;
  for (const auto& [token, e] : entries_) {
    if (!e.output || e.stopping) continue;
    UniqueFd copy(::fcntl(e.output.get(), F_DUPFD_CLOEXEC, 3));
    if (copy) out.emplace_back(e.pid, std::move(copy));
  }
  return out;
}

Result<std::uint64_t> ExitWatcher::watch(pid_t pid, UniqueFd pidfd, UniqueFd output,
                                         std::shared_ptr<CappedLog> log) {
  std::lock_guard lock(mu_);
  const std::uint64_t token = next_token_++;
  Entry e{pid, std::move(pidfd), std::move(output), std::move(log), {}, false};
  if (auto st = add(epoll_.get(), e.pidfd.get(), encode(token, kPid)); !st) {
    return fail(std::move(st.error()));
  }
  if (e.output) {
    if (auto st = add(epoll_.get(), e.output.get(), encode(token, kOutput)); !st) {
      ::epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, e.pidfd.get(), nullptr);
      return fail(std::move(st.error()));
    }
  }
  entries_.emplace(token, std::move(e));
  return token;
}

Status ExitWatcher::terminate(std::uint64_t token, std::chrono::milliseconds grace) {
  std::lock_guard lock(mu_);
  auto it = entries_.find(token);
  if (it == entries_.end()) return fail(Errc::NotFound, "process already ended");
  Entry& e = it->second;
  if (e.stopping) return ok();
  // ESRCH: it ended and waits to be reaped; the pidfd event follows.
  if (pidfd_send_signal(e.pidfd.get(), SIGTERM) != 0 && errno != ESRCH) {
    return fail(Errc::Kernel, "signal companion pid=" + std::to_string(e.pid), errno);
  }
  UniqueFd timer(::timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK));
  if (!timer) return fail(Errc::Kernel, "timerfd_create", errno);
  itimerspec spec{};
  const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(grace).count();
  spec.it_value.tv_sec = static_cast<time_t>(ns / 1'000'000'000);
  spec.it_value.tv_nsec = static_cast<long>(ns % 1'000'000'000);
  if (spec.it_value.tv_sec == 0 && spec.it_value.tv_nsec == 0) spec.it_value.tv_nsec = 1;
  if (::timerfd_settime(timer.get(), 0, &spec, nullptr) != 0) {
    return fail(Errc::Kernel, "timerfd_settime", errno);
  }
  if (auto st = add(epoll_.get(), timer.get(), encode(token, kTimer)); !st) return st;
  e.timer = std::move(timer);
  e.stopping = true;
  return ok();
}

bool ExitWatcher::alive(std::uint64_t token) const {
  std::lock_guard lock(mu_);
  auto it = entries_.find(token);
  if (it == entries_.end()) return false;
  pollfd p{it->second.pidfd.get(), POLLIN, 0};
  return ::poll(&p, 1, 0) == 0;
}

void ExitWatcher::loop() {
  std::array<epoll_event, 32> events{};
  while (!quit_) {
    const int n = ::epoll_wait(epoll_.get(), events.data(), static_cast<int>(events.size()), -1);
    if (n < 0) {
      if (errno == EINTR) continue;
      spdlog::error("companion exit watcher stopped: epoll_wait: {}", std::strerror(errno));
      return;
    }
    for (int i = 0; i < n && !quit_; ++i) {
      if (events[i].data.u64 == 0) continue;  // the wake eventfd: quit_ is checked above
      std::optional<WatchedExit> ended;
      {
        std::lock_guard lock(mu_);
        handle_locked(events[i].data.u64, events[i].events, ended);
      }
      if (!ended) continue;
      try {
        callback_(*ended);
      } catch (const std::exception& e) {
        spdlog::error("companion exit handler failed pid={}: {}", ended->pid, e.what());
      }
    }
  }
}

void ExitWatcher::handle_locked(std::uint64_t data, std::uint32_t events,
                                std::optional<WatchedExit>& ended) {
  const std::uint64_t token = data >> 2;
  auto it = entries_.find(token);
  if (it == entries_.end()) return;  // an event queued before the entry was forgotten
  Entry& e = it->second;
  switch (static_cast<Kind>(data & 3)) {
    case kOutput:
      (void)events;
      drain_locked(e, kReadBudget);
      return;
    case kTimer: {
      std::uint64_t expirations = 0;
      (void)!::read(e.timer.get(), &expirations, sizeof expirations);
      ::epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, e.timer.get(), nullptr);
      e.timer.reset();
      if (pidfd_send_signal(e.pidfd.get(), SIGKILL) == 0) {
        spdlog::warn("companion ignored SIGTERM for the grace period pid={}: SIGKILL", e.pid);
      }
      return;
    }
    case kPid: {
      if (e.output) drain_locked(e, kFinalBudget);
      WatchedExit out{token, e.pid, std::nullopt, e.stopping};
      siginfo_t info{};
      int r;
      do {
        r = ::waitid(static_cast<idtype_t>(P_PIDFD), static_cast<id_t>(e.pidfd.get()), &info,
                     WEXITED | WNOHANG);
      } while (r != 0 && errno == EINTR);
      if (r == 0 && info.si_pid != 0) {
        out.exit = Exit{info.si_code == CLD_KILLED || info.si_code == CLD_DUMPED, info.si_status};
      } else if (r != 0 && errno != ECHILD) {
        spdlog::warn("companion exit not reaped pid={}: waitid: {}", e.pid, std::strerror(errno));
      }
      forget_locked(it);
      ended = out;
      return;
    }
  }
}

void ExitWatcher::drain_locked(Entry& e, std::size_t budget) {
  std::array<char, kChunk> buf{};
  while (budget > 0 && e.output) {
    const ssize_t n = ::read(e.output.get(), buf.data(), buf.size());
    if (n > 0) {
      budget -= std::min(budget, static_cast<std::size_t>(n));
      if (e.log) {
        if (auto st = e.log->append(std::string_view(buf.data(), static_cast<std::size_t>(n)));
            !st) {
          spdlog::warn("companion output lost pid={}: {}", e.pid, st.error().to_string());
        }
      }
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
    // EOF (every writer is gone) or an error: stop reading it.
    ::epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, e.output.get(), nullptr);
    e.output.reset();
  }
}

void ExitWatcher::forget_locked(std::map<std::uint64_t, Entry>::iterator it) {
  Entry& e = it->second;
  for (const UniqueFd* fd : {&e.pidfd, &e.output, &e.timer}) {
    if (*fd) ::epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, fd->get(), nullptr);
  }
  entries_.erase(it);
}

}  // namespace l3afd::supervisor
