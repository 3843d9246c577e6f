#include "supervisor/posix_runner.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstring>

#include <spdlog/spdlog.h>

#include "layout/bpffs_layout.h"

namespace l3afd::supervisor {

namespace {

int pidfd_open(pid_t pid) {
  return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
}
int pidfd_send_signal(int pidfd, int sig) {
  return static_cast<int>(::syscall(SYS_pidfd_send_signal, pidfd, sig, nullptr, 0));
}

/// Reports `err` to the parent and ends the child (async-signal-safe).
[[noreturn]] void child_failed(int report, int err) {
  (void)!::write(report, &err, sizeof err);
  ::_exit(127);
}

/// The child's side between fork and execve: async-signal-safe calls only. Reports the failing
/// errno through `report` (close-on-exec, so a successful execve closes it with nothing sent).
[[noreturn]] void exec_child(int report, int log_fd, int cgroup_fd, const char* cwd,
                             const char* exe, char* const* argv, char* const* envp,
                             const rlimit* mem, const rlimit* cpu, bool ignore_sigpipe) {
  auto die = [report](int err) { child_failed(report, err); };
  // The daemon blocks its stop signals in every thread and the mask survives execve: a companion
  // must start with nothing blocked, or SIGTERM would never reach it. SIGPIPE: with an output
  // pipe, a companion outliving the daemon (adopted by the next run) must not die of its next
  // write to the closed pipe, so it is ignored (the write fails with EPIPE); else default.
  sigset_t none;
  sigemptyset(&none);
  if (::sigprocmask(SIG_SETMASK, &none, nullptr) != 0) die(errno);
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  struct sigaction ign {};
  ign.sa_handler = SIG_IGN;
  if (::sigaction(SIGCHLD, &dfl, nullptr) != 0) die(errno);
  if (::sigaction(SIGPIPE, ignore_sigpipe ? &ign : &dfl, nullptr) != 0) die(errno);
  // Joins the cgroup first, so that everything the child allocates is charged to it.
  if (cgroup_fd >= 0 && ::write(cgroup_fd, "0", 1) != 1) die(errno);
  const int null_fd = ::open("/dev/null", O_RDONLY);
  if (null_fd < 0 || ::dup2(null_fd, STDIN_FILENO) < 0) die(errno);
  const int out = log_fd >= 0 ? log_fd : null_fd;
  if (::dup2(out, STDOUT_FILENO) < 0 || ::dup2(out, STDERR_FILENO) < 0) die(errno);
  // No inherited fds: everything above stderr is closed but the report pipe, which closes at
  // exec by itself.
  if (report > STDERR_FILENO + 1) ::close_range(STDERR_FILENO + 1, report - 1, 0);
  ::close_range(report + 1, ~0U, 0);
  if (mem != nullptr && ::setrlimit(RLIMIT_AS, mem) != 0) die(errno);
  if (cpu != nullptr && ::setrlimit(RLIMIT_CPU, cpu) != 0) die(errno);
  if (cwd[0] != '\0' && ::chdir(cwd) != 0) die(errno);
  ::execve(exe, argv, envp);
  child_failed(report, errno);
}

}  // namespace

Result<Child> spawn(const CommandLine& cmd, const SpawnOptions& options) {
  // The command line was checked lexically; a symbolic link in the package must not lead out of
  // it either (an archive may carry one): the real path has to stay inside the real cwd.
  if (!options.cwd.empty()) {
    std::error_code ec1, ec2;
    const auto real_exe = std::filesystem::weakly_canonical(cmd.executable, ec1);
    const auto real_dir = std::filesystem::weakly_canonical(options.cwd, ec2);
    if (ec1 || ec2 || !layout::is_within(real_dir, real_exe)) {
      return fail(Errc::InvalidPayload, "companion " + cmd.executable.string() +
                                            " resolves outside the package directory " +
                                            options.cwd.string());
    }
  }
  struct stat st {};
  if (::stat(cmd.executable.c_str(), &st) != 0) {
    return fail(Errc::NotFound, "companion " + cmd.executable.string(), errno);
  }
  if (!S_ISREG(st.st_mode) || (st.st_mode & 0111) == 0) {
    return fail(Errc::InvalidPayload,
                "companion " + cmd.executable.string() + " is not an executable regular file");
  }
  UniqueFd log;
  UniqueFd output_read;
  if (options.output_pipe) {
    int out_fds[2];
    if (::pipe2(out_fds, O_CLOEXEC) != 0) return fail(Errc::Io, "pipe", errno);
    output_read.reset(out_fds[0]);
    log.reset(out_fds[1]);
    const int flags = ::fcntl(output_read.get(), F_GETFL);
    if (flags < 0 || ::fcntl(output_read.get(), F_SETFL, flags | O_NONBLOCK) != 0) {
      return fail(Errc::Io, "fcntl O_NONBLOCK", errno);
    }
  } else if (!options.log_file.empty()) {
    log.reset(::open(options.log_file.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640));
    if (!log) return fail(Errc::Io, "open companion log " + options.log_file.string(), errno);
  }
  UniqueFd cgroup;
  if (!options.cgroup.empty()) {
    const auto procs = options.cgroup / "cgroup.procs";
    cgroup.reset(::open(procs.c_str(), O_WRONLY | O_CLOEXEC));
    if (!cgroup) return fail(Errc::Io, "open " + procs.string(), errno);
  }
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) return fail(Errc::Io, "pipe", errno);
  UniqueFd report_read(pipe_fds[0]);
  UniqueFd report_write(pipe_fds[1]);

  // Everything the child needs is prepared before the fork (no allocation after it).
  std::vector<char*> argv;
  for (const auto& a : cmd.argv) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  std::vector<char*> envp;
  for (const auto& e : options.env) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);
  rlimit mem{}, cpu{};
  if (options.memory_bytes) mem.rlim_cur = mem.rlim_max = *options.memory_bytes;
  if (options.cpu_seconds) cpu.rlim_cur = cpu.rlim_max = *options.cpu_seconds;
  const std::string cwd = options.cwd.string();
  const std::string exe = cmd.executable.string();

  const pid_t pid = ::fork();
  if (pid < 0) return fail(Errc::Io, "fork", errno);
  if (pid == 0) {
    exec_child(report_write.get(), log.get(), cgroup.get(), cwd.c_str(), exe.c_str(), argv.data(),
               envp.data(), options.memory_bytes ? &mem : nullptr,
               options.cpu_seconds ? &cpu : nullptr, options.output_pipe);
  }
  report_write.reset();
  log.reset();  // the write end of an output pipe must live in the child only (EOF at its exit)
  cgroup.reset();
  Child child{pid, UniqueFd(pidfd_open(pid)), std::move(output_read)};
  const int pidfd_errno = errno;
  int child_errno = 0;
  ssize_t n;
  do {
    n = ::read(report_read.get(), &child_errno, sizeof child_errno);
  } while (n < 0 && errno == EINTR);
  if (n == static_cast<ssize_t>(sizeof child_errno)) {
    int status = 0;
    ::waitpid(pid, &status, 0);  // the child exits at once: reap it here
    return fail(Errc::Io, "start " + exe, child_errno);
  }
  if (!child.pidfd) {
    // Cannot supervise it safely without a pidfd: stop it right away.
    ::kill(pid, SIGKILL);
    int status = 0;
    ::waitpid(pid, &status, 0);
    return fail(Errc::Kernel, "pidfd_open for " + exe, pidfd_errno);
  }
  spdlog::debug("companion process started exe={} pid={}", exe, pid);
  return child;
}

Result<std::optional<Exit>> wait_exit(const Child& child, std::chrono::milliseconds timeout) {
  pollfd p{child.pidfd.get(), POLLIN, 0};
  const auto ms = static_cast<int>(std::min<std::int64_t>(timeout.count(), INT_MAX));
  int r;
  do {
    r = ::poll(&p, 1, ms);
  } while (r < 0 && errno == EINTR);
  if (r < 0) return fail(Errc::Kernel, "poll pidfd", errno);
  if (r == 0) return std::optional<Exit>{};
  siginfo_t info{};
  if (::waitid(static_cast<idtype_t>(P_PIDFD), static_cast<id_t>(child.pidfd.get()), &info,
               WEXITED) != 0) {
    return fail(Errc::Kernel, "waitid", errno);
  }
  Exit e;
  e.signaled = info.si_code == CLD_KILLED || info.si_code == CLD_DUMPED;
  e.code = info.si_status;
  return std::optional<Exit>(e);
}

Result<Exit> stop(const Child& child, std::chrono::milliseconds grace) {
  if (pidfd_send_signal(child.pidfd.get(), SIGTERM) != 0 && errno != ESRCH) {
    return fail(Errc::Kernel, "signal companion " + std::to_string(child.pid), errno);
  }
  auto done = wait_exit(child, grace);
  if (!done) return fail(std::move(done.error()));
  if (*done) return **done;
  spdlog::warn("companion pid={} ignored SIGTERM for {} ms: SIGKILL", child.pid, grace.count());
  if (pidfd_send_signal(child.pidfd.get(), SIGKILL) != 0 && errno != ESRCH) {
    return fail(Errc::Kernel, "kill companion " + std::to_string(child.pid), errno);
  }
  auto killed = wait_exit(child, std::chrono::milliseconds(INT_MAX));
  if (!killed) return fail(std::move(killed.error()));
  return killed->value_or(Exit{true, SIGKILL});
}

}  // namespace l3afd::supervisor
