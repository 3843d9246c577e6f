// §7: companion programs (user_program_daemon: true) through the real daemon: how long from the
// add request until the companion runs, and from a crash (SIGKILL) until the restarted
// companion runs. "Runs" = the companion (test_companion of the test-companion package) has
// written its pid file, which is the first thing it does; the file is seen through inotify.
#include <poll.h>
#include <signal.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <climits>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <optional>
#include <thread>

#include "measure.h"
#include "payloads.h"
#include "support/netns.h"

namespace l3afd::bench {

namespace {
using Clock = std::chrono::steady_clock;

double ms_between(Clock::time_point from, Clock::time_point to) {
  return std::chrono::duration<double, std::milli>(to - from).count();
}

/// The pid written in `file`, 0 if it is missing or holds no positive number.
pid_t pid_in(const std::filesystem::path& file) {
  std::ifstream in(file);
  long pid = 0;
  if (!(in >> pid) || pid <= 0 || pid > INT_MAX) return 0;
  return static_cast<pid_t>(pid);
}

/// True while `pid` exists (a zombie counts: the daemon has not reaped it yet).
bool exists(pid_t pid) {
  return ::kill(pid, 0) == 0 || errno == EPERM;
}

/// /proc/<pid>/comm without the newline ("" if unreadable).
std::string comm_of(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/comm");
  std::string s;
  std::getline(in, s);
  return s;
}

/// Sees a pid file being written: an inotify watch on its directory for IN_MOVED_TO (the
/// companion writes <file>.tmp and renames it) and IN_CLOSE_WRITE (a writer in place), read
/// by a thread of its own that sits in poll() and takes the time the moment it wakes, so
/// the sample does not depend on a polling interval or on what the main thread is doing (it is
/// blocked in the add request while the companion starts). One wait at a time; not thread-safe.
class PidFileWatch {
 public:
  struct Seen {
    Clock::time_point at;  ///< when the watching thread woke for the event
    pid_t pid = 0;         ///< the pid the file held then
  };

  explicit PidFileWatch(std::filesystem::path file) : file_(std::move(file)) {
    fd_ = ::inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
    if (fd_ < 0) {
      error_ = std::string("inotify_init1: ") + std::strerror(errno);
      return;
    }
    if (::inotify_add_watch(fd_, file_.parent_path().c_str(), IN_MOVED_TO | IN_CLOSE_WRITE) < 0) {
      error_ = "inotify_add_watch " + file_.parent_path().string() + ": " + std::strerror(errno);
    }
  }
  ~PidFileWatch() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
    if (fd_ >= 0) ::close(fd_);
  }
  PidFileWatch(const PidFileWatch&) = delete;
  PidFileWatch& operator=(const PidFileWatch&) = delete;

  const std::string& error() const { return error_; }

  /// Drops events queued so far, then starts the thread waiting for the file to be written with
  /// a pid other than `old_pid`. Call before the action that makes the companion start.
  void start(pid_t old_pid) {
    alignas(inotify_event) char buf[4096];
    while (::read(fd_, buf, sizeof buf) > 0) {
    }
    seen_.reset();
    stop_ = false;
    thread_ = std::thread([this, old_pid] { wait_for(old_pid); });
  }

  /// Joins the thread: what it saw, or nullopt when nothing came within kGiveUp (a failure of
  /// the run, not a measurement: the daemon did not start the companion at all).
  std::optional<Seen> finish() {
    if (thread_.joinable()) thread_.join();
    return seen_;
  }

  static constexpr std::chrono::seconds kGiveUp{30};

 private:
  void wait_for(pid_t old_pid) {
    const std::string name = file_.filename().string();
    const auto deadline = Clock::now() + kGiveUp;
    alignas(inotify_event) char buf[4096];
    while (!stop_ && Clock::now() < deadline) {
      pollfd p{.fd = fd_, .events = POLLIN, .revents = 0};
      // The timeout only bounds how long a stop request waits; an event wakes poll at once.
      if (::poll(&p, 1, 100) <= 0) continue;
      const auto woke = Clock::now();
      const ssize_t n = ::read(fd_, buf, sizeof buf);
      bool ours = false;
      for (ssize_t off = 0; off < n;) {
        const auto* ev = reinterpret_cast<const inotify_event*>(buf + off);
        if (ev->len > 0 && name == ev->name) ours = true;
        off += static_cast<ssize_t>(sizeof(inotify_event) + ev->len);
      }
      if (!ours) continue;
      const pid_t pid = pid_in(file_);
      if (pid > 0 && pid != old_pid) {
        seen_ = Seen{woke, pid};
        return;
      }
    }
  }

  std::filesystem::path file_;
  int fd_ = -1;
  std::string error_;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::optional<Seen> seen_;  ///< written by the thread, read after join
};

/// Waits (outside any timed region) until `pid` is gone: the daemon has stopped and reaped it.
bool wait_gone(pid_t pid) {
  const auto deadline = Clock::now() + std::chrono::seconds(30);
  while (exists(pid)) {
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return true;
}

}  // namespace

std::string measure_companions(const BenchEnv& env, Daemon& d, const std::string& iface,
                               const BenchSizes& sizes, Table& out) {
  const std::uint16_t port = d.api_port();
  const std::filesystem::path dir = env.workspace / "companion";
  const std::filesystem::path pid_file = dir / "c.pid";
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return "create " + dir.string() + ": " + ec.message();
  PidFileWatch watch(pid_file);
  if (!watch.error().empty()) return watch.error();
  const std::string add = companion_add_payload(env.host, iface, pid_file.string());
  const std::string del = companion_delete_payload(env.host, iface);
  std::unique_ptr<test::HttpConnection> conn;
  auto connect = [&]() -> std::string {
    if (conn) return {};
    conn = std::make_unique<test::HttpConnection>("127.0.0.1", port);
    return conn->connect_error().empty() ? std::string() : "connect: " + conn->connect_error();
  };
  const auto no_file = [&](const char* what) {
    return std::string("no companion wrote ") + pid_file.string() + " within " +
           std::to_string(PidFileWatch::kGiveUp.count()) + " s " + what;
  };

  std::vector<double> add_ms, start_ms, restart_ms;
  const int total = sizes.companion_warmup + sizes.companion_cycles;
  for (int i = 0; i < total; ++i) {
    const bool record = i >= sizes.companion_warmup;
    const bool check = i == sizes.companion_warmup;
    std::filesystem::remove(pid_file, ec);
    if (auto e = connect(); !e.empty()) return e;

    // add → 200, and add → companion running (its pid file), from the same request write.
    watch.start(0);
    const auto t0 = Clock::now();
    if (auto e = post_ok(conn, port, "/l3af/configs/v1/add", add); !e.empty()) {
      (void)watch.finish();
      return e;
    }
    const auto answered = Clock::now();
    const auto first = watch.finish();
    if (!first) return no_file("after the add answered 200");
    if (check) {
      if (!exists(first->pid) || comm_of(first->pid) != "test_companion") {
        return "the pid file names " + std::to_string(first->pid) + " (comm \"" +
               comm_of(first->pid) + "\"), not a running test_companion";
      }
      auto link = testing::run_command({"ip", "link", "show", "dev", iface});
      if (link.output.find(" xdp") == std::string::npos) {
        return "companion add answered 200 but ip link shows no XDP program on " + iface + ": " +
               link.output;
      }
    }

    // SIGKILL → the restarted companion's pid file.
    watch.start(first->pid);
    const auto k0 = Clock::now();
    if (::kill(first->pid, SIGKILL) != 0) {
      const std::string why = std::strerror(errno);
      (void)watch.finish();
      return "kill -9 of companion " + std::to_string(first->pid) + ": " + why;
    }
    const auto second = watch.finish();
    if (!second) return no_file("after it was killed (not restarted)");
    if (check && (!exists(second->pid) || comm_of(second->pid) != "test_companion")) {
      return "after the restart the pid file names " + std::to_string(second->pid) +
             ", not a running test_companion";
    }

    // Delete (untimed): the program and its companion go; the next cycle starts from nothing
    // and with a fresh restart count. The daemon stops the companion after its retire grace
    // period (1 s); waiting for that keeps the release out of the next cycle's add.
    if (auto e = connect(); !e.empty()) return e;
    if (auto e = post_ok(conn, port, "/l3af/configs/v1/delete", del); !e.empty()) return e;
    if (!wait_gone(second->pid)) {
      return "companion " + std::to_string(second->pid) + " still runs 30 s after the delete";
    }
    if (record) {
      add_ms.push_back(ms_between(t0, answered));
      start_ms.push_back(ms_between(t0, first->at));
      restart_ms.push_back(ms_between(k0, second->at));
    }
    if ((i + 1) % 10 == 0) {
      std::fprintf(stderr, "bench:   %d/%d companion add/crash/delete cycles\n", i + 1, total);
    }
  }
  std::filesystem::remove(pid_file, ec);

  out.rows.push_back({"companion_add_latency", "ms", summarize(add_ms), true, Better::Lower});
  out.rows.push_back({"companion_start_latency", "ms", summarize(start_ms), true, Better::Lower});
  out.rows.push_back(
      {"companion_restart_latency", "ms", summarize(restart_ms), true, Better::Lower});
  out.notes.push_back(
      std::to_string(sizes.companion_cycles) + " cycles after " +
      std::to_string(sizes.companion_warmup) + " unrecorded ones on veth " + iface +
      ", xdp_ingress: add test-companion (xdp_counter + supervised test_companion), SIGKILL the "
      "companion, delete. add = request write to 200; start = request write to the companion's "
      "pid file (its first action), seen by an inotify thread; restart = SIGKILL to the "
      "restarted companion's pid file.");
  out.notes.push_back(
      "companion_restart_latency includes the engine's restart backoff by design: the first "
      "restart after a crash waits 500 ms (RestartLimits first_delay). The delete between "
      "cycles keeps every crash a first one; after it the bench waits (untimed) until the "
      "daemon has stopped the companion, which happens after its retire grace period (1 s).");
  return {};
}

}  // namespace l3afd::bench
