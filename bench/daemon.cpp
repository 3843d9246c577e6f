#include "daemon.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>
#include <vector>

#include "support/http_client.h"

extern char** environ;

namespace l3afd::bench {

namespace {

using Clock = std::chrono::steady_clock;

/// What the interrupt cleanup must undo. A process-wide registry is the only way a signal
/// arriving at any moment can find the daemon and the workspace; it is guarded by `mu`.
struct CleanupRegistry {
  std::mutex mu;
  pid_t daemon_pid = -1;
  std::filesystem::path workspace;
};

std::atomic<bool> g_interrupted{false};

CleanupRegistry& registry() {
  static CleanupRegistry r;
  return r;
}

std::string errno_text(const std::string& what) {
  return what + ": " + std::strerror(errno);
}

/// Waits for `pid` to exit for at most `limit`; true if it was reaped. `status` gets its
/// wait status.
bool wait_exit(pid_t pid, std::chrono::milliseconds limit, int& status) {
  const auto deadline = Clock::now() + limit;
  for (;;) {
    const pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid) return true;
    if (r < 0 && errno != EINTR) return true;  // not our child any more: nothing to wait for
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

/// SIGTERM, then SIGKILL after `grace`. Returns "" or a description of an unclean exit.
std::string terminate(pid_t pid, std::chrono::milliseconds grace) {
  int status = 0;
  if (::kill(pid, SIGTERM) != 0 && errno != ESRCH) return errno_text("kill SIGTERM");
  if (!wait_exit(pid, grace, status)) {
    ::kill(pid, SIGKILL);
    wait_exit(pid, std::chrono::seconds(10), status);
    return "daemon did not stop within " + std::to_string(grace.count()) + " ms; killed";
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) != 0) {
    return "daemon exited with status " + std::to_string(WEXITSTATUS(status));
  }
  if (WIFSIGNALED(status)) return "daemon died of signal " + std::to_string(WTERMSIG(status));
  return {};
}

/// Mount points at or below `root`, deepest first, from /proc/self/mounts.
std::vector<std::string> mounts_under(const std::filesystem::path& root) {
  std::vector<std::string> out;
  std::ifstream in("/proc/self/mounts");
  std::string dev, dir, rest;
  const std::string prefix = root.string();
  while (in >> dev >> dir && std::getline(in, rest)) {
    if (dir == prefix || dir.rfind(prefix + "/", 0) == 0) out.insert(out.begin(), dir);
  }
  return out;
}

std::string write_config(const DaemonOptions& o, const std::filesystem::path& cfg) {
  const std::string d = o.work_dir.string();
  std::ofstream out(cfg, std::ios::trunc);
  if (!out) return "cannot write " + cfg.string();
  out << "[l3afd]\n"
      << "pid-file: " << d << "/l3afd.pid\n"
      << "datacenter: bench\n"
      << "bpf-dir: " << d << "/bpf\n"
      << "bpf-log-dir:\n"
      << "kernel-major-version: 5\n"
      << "kernel-minor-version: 15\n"
      << "shutdown-timeout: 30s\n"
      << "bpf-chaining-enabled: " << (o.chaining ? "true" : "false") << "\n"
      << "swagger-api-enabled: false\n"
      << "environment: DEV\n"
      << "BpfMapDefaultPath: " << d << "/bpffs\n"
      << "json-format-logs: false\n"
      << "\n[ebpf-repo]\nurl: " << o.repo_url << "\n"
      << "trusted-keys-dir: " << o.trusted_keys_dir.string() << "\n"
      << "\n[web]\nmetrics-addr: 127.0.0.1:" << o.metrics_port << "\n"
      << "\n[ebpf-chain-debug]\nenabled: false\n"
      << "\n[l3af-configs]\nrestapi-addr: 127.0.0.1:" << o.api_port << "\n"
      << "\n[l3af-config-store]\nfilename: " << d << "/l3af-config.json\n"
      << "\n[mtls]\nenabled: false\n"
      // No install layout: a graceful restart starts the same binary again (section 10).
      << "\n[graceful-restart]\nbasepath: " << d << "/no-install\ntime-to-restart: 30\n";
  out.flush();
  return out ? std::string() : "writing " + cfg.string() + " failed";
}

}  // namespace

std::filesystem::path make_workspace(std::string& error) {
  char tmpl[] = "/tmp/l3afd-bench.XXXXXX";
  if (::mkdtemp(tmpl) == nullptr) {
    error = errno_text("mkdtemp /tmp/l3afd-bench.XXXXXX");
    return {};
  }
  std::lock_guard lock(registry().mu);
  registry().workspace = tmpl;
  return tmpl;
}

std::string remove_workspace(const std::filesystem::path& root) {
  std::string err;
  for (const auto& m : mounts_under(root)) {
    if (::umount2(m.c_str(), MNT_DETACH) != 0) err += errno_text("umount " + m) + "; ";
  }
  std::error_code ec;
  std::filesystem::remove_all(root, ec);
  if (ec) err += "remove " + root.string() + ": " + ec.message();
  return err;
}

bool interrupted() {
  return g_interrupted;
}

void install_signal_cleanup() {
  sigset_t sigs;
  sigemptyset(&sigs);
  for (int s : {SIGINT, SIGTERM, SIGQUIT, SIGHUP}) sigaddset(&sigs, s);
  pthread_sigmask(SIG_BLOCK, &sigs, nullptr);
  std::thread([sigs] {
    int sig = 0;
    while (sigwait(&sigs, &sig) != 0) {
    }
    g_interrupted = true;
    std::fprintf(stderr, "\nbench: signal %d: stopping the daemon and removing the workspace\n",
                 sig);
    auto& r = registry();
    std::lock_guard lock(r.mu);
    if (r.daemon_pid > 0) (void)terminate(r.daemon_pid, std::chrono::seconds(10));
    if (!r.workspace.empty()) {
      const std::string err = remove_workspace(r.workspace);
      if (!err.empty()) std::fprintf(stderr, "bench: cleanup: %s\n", err.c_str());
    }
    std::_Exit(128 + sig);
  }).detach();
}

std::unique_ptr<Daemon> Daemon::start(const DaemonOptions& opts, std::string& error) {
  std::unique_ptr<Daemon> d(new Daemon(opts));
  const auto& dir = opts.work_dir;
  std::error_code ec;
  std::filesystem::create_directories(dir / "bpffs", ec);
  if (ec) {
    error = "create " + (dir / "bpffs").string() + ": " + ec.message();
    return nullptr;
  }
  // A bpffs of our own: pins never reach the host's /sys/fs/bpf and vanish with the mount.
  if (::mount("bpffs", (dir / "bpffs").c_str(), "bpf", 0, "mode=0700") != 0) {
    error = errno_text("mount bpffs on " + (dir / "bpffs").string());
    (void)remove_workspace(dir);
    return nullptr;
  }
  const auto cfg = dir / "l3afd.cfg";
  if (error = write_config(opts, cfg); !error.empty()) {
    (void)remove_workspace(dir);
    return nullptr;
  }

  if (error = d->spawn(); !error.empty()) {
    (void)remove_workspace(dir);
    return nullptr;
  }
  return d;
}

std::string Daemon::spawn() {
  const auto& opts = opts_;
  const auto& dir = opts.work_dir;
  const auto cfg = dir / "l3afd.cfg";
  Daemon* d = this;
  std::string error;
  // Everything the child needs is prepared before fork: after it only async-signal-safe calls.
  const std::string bin = opts.binary.string();
  const std::string cfg_s = cfg.string();
  std::vector<char*> argv{const_cast<char*>(bin.c_str()), const_cast<char*>("--config"),
                          const_cast<char*>(cfg_s.c_str()), nullptr};
  std::vector<std::string> env_store;
  for (char** e = environ; *e != nullptr; ++e) {
    if (std::strncmp(*e, "L3AF_LOG_LEVEL=", 15) != 0) env_store.emplace_back(*e);
  }
  env_store.emplace_back("L3AF_LOG_LEVEL=info");  // same logging cost in every run
  std::vector<char*> envp;
  for (auto& s : env_store) envp.push_back(s.data());
  envp.push_back(nullptr);
  const int log_fd =
      ::open((dir / "l3afd.log").c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  const int null_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (log_fd < 0 || null_fd < 0) {
    error = errno_text("open the daemon log or /dev/null");
    if (log_fd >= 0) ::close(log_fd);
    if (null_fd >= 0) ::close(null_fd);
    return error;
  }
  sigset_t none;
  sigemptyset(&none);

  std::unique_lock lock(registry().mu);  // the cleanup thread must see the pid or no child
  const pid_t pid = ::fork();
  if (pid == 0) {
    // Own process group: a terminal ^C reaches only the bench, which stops the daemon itself.
    // PDEATHSIG: if the bench dies without cleaning up, the daemon goes too.
    ::setpgid(0, 0);
    ::prctl(PR_SET_PDEATHSIG, SIGTERM);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    ::dup2(null_fd, 0);
    ::dup2(log_fd, 1);
    ::dup2(log_fd, 2);
    ::execve(argv[0], argv.data(), envp.data());
    ::_exit(127);
  }
  const int fork_errno = errno;
  ::close(log_fd);
  ::close(null_fd);
  if (pid < 0) {
    lock.unlock();
    return std::string("fork: ") + std::strerror(fork_errno);
  }
  d->pid_ = pid;
  registry().daemon_pid = pid;
  lock.unlock();

  const auto deadline = Clock::now() + std::chrono::seconds(30);
  for (;;) {
    int status = 0;
    if (::waitpid(pid, &status, WNOHANG) == pid) {
      {
        std::lock_guard g(registry().mu);
        registry().daemon_pid = -1;
      }
      d->pid_ = -1;
      std::string how = WIFEXITED(status) ? "exit status " + std::to_string(WEXITSTATUS(status))
                                          : "signal " + std::to_string(WTERMSIG(status));
      if (WIFEXITED(status) && WEXITSTATUS(status) == 127) how += ", could not execute " + bin;
      error = "l3afd exited during start-up (" + how + "); log:\n" + d->log_tail(20);
      return error;
    }
    auto r = test::request("127.0.0.1", opts.api_port, "GET", "/l3af/configs/v1");
    if (r.status == 200) return {};
    if (Clock::now() >= deadline) {
      error = "l3afd did not become ready within 30 s (last answer: " +
              (r.error.empty() ? std::to_string(r.status) : r.error) + "); log:\n" +
              d->log_tail(20);
      ::kill(pid, SIGKILL);
      int st = 0;
      wait_exit(pid, std::chrono::seconds(10), st);
      std::lock_guard g(registry().mu);
      registry().daemon_pid = -1;
      d->pid_ = -1;
      return error;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

std::string Daemon::kill_and_start() {
  {
    std::lock_guard lock(registry().mu);
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      int status = 0;
      wait_exit(pid_, std::chrono::seconds(10), status);
      pid_ = -1;
      registry().daemon_pid = -1;
    }
  }
  return spawn();
}

std::string Daemon::graceful_restart(const std::string& version) {
  // The new daemon is started by the old one; once the old exits it becomes our child.
  ::prctl(PR_SET_CHILD_SUBREAPER, 1);
  const std::string body =
      "{\"hostname\": \"" + host_name_ + "\", \"version\": \"" + version + "\"}";
  auto r = test::request("127.0.0.1", opts_.api_port, "PUT", "/l3af/configs/v1/restart", body);
  if (r.status != 200) {
    return "PUT restart: " + (r.status == 0 ? r.error : std::to_string(r.status) + " " + r.body);
  }
  pid_t now = 0;
  {
    std::ifstream in(opts_.work_dir / "l3afd.pid");
    long v = 0;
    if (in >> v) now = static_cast<pid_t>(v);
  }
  if (now <= 0 || now == pid_) return "the PID file does not name a new process after a restart";
  int status = 0;
  if (!wait_exit(pid_, std::chrono::seconds(30), status) || !WIFEXITED(status) ||
      WEXITSTATUS(status) != 0) {
    return "the old daemon did not exit 0 after the restart";
  }
  std::lock_guard lock(registry().mu);
  pid_ = now;
  registry().daemon_pid = now;
  return {};
}

Daemon::~Daemon() {
  (void)stop();
}

std::string Daemon::stop() {
  std::string err;
  std::lock_guard lock(registry().mu);
  if (pid_ > 0) {
    err = terminate(pid_, std::chrono::seconds(40));
    pid_ = -1;
    registry().daemon_pid = -1;
  }
  if (std::filesystem::exists(opts_.work_dir)) {
    const std::string rm = remove_workspace(opts_.work_dir);
    if (!rm.empty()) err += (err.empty() ? "" : "; ") + rm;
  }
  return err;
}

std::optional<double> Daemon::rss_mib() const {
  std::ifstream in("/proc/" + std::to_string(pid_) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) {
      std::istringstream fields(line.substr(6));
      double kib = 0;
      if (fields >> kib) return kib / 1024.0;
    }
  }
  return std::nullopt;
}

std::optional<double> Daemon::cpu_seconds() const {
  std::ifstream in("/proc/" + std::to_string(pid_) + "/stat");
  std::string stat;
  if (!std::getline(in, stat)) return std::nullopt;
  // Fields after the parenthesised command name: state is field 3, utime 14, stime 15.
  const auto close = stat.rfind(')');
  if (close == std::string::npos) return std::nullopt;
  std::istringstream fields(stat.substr(close + 2));
  std::string skip;
  for (int f = 3; f < 14; ++f) fields >> skip;
  double utime = 0, stime = 0;
  if (!(fields >> utime >> stime)) return std::nullopt;
  return (utime + stime) / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

std::string Daemon::log_tail(std::size_t lines) const {
  std::ifstream in(opts_.work_dir / "l3afd.log");
  std::deque<std::string> last;
  std::string line;
  while (std::getline(in, line)) {
    last.push_back(line);
    if (last.size() > lines) last.pop_front();
  }
  std::string out;
  for (const auto& l : last) out += "  | " + l + "\n";
  return out;
}

}  // namespace l3afd::bench
