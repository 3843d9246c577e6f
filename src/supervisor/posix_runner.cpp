#include "supervisor/posix_runner.h"

#include <fcntl.h>
#include <linux/capability.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
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

/// The steps of the child between fork and execve; a failing one is reported with its errno.
enum class Step : int {
  SignalMask,
  Cgroup,
  Stdio,
  Limits,
  Groups,
  Gid,
  Uid,
  KeepCaps,
  Capabilities,
  Ambient,
  Chdir,
  NoNewPrivs,
  Exec,
};

const char* step_name(Step s) {
  switch (s) {
    case Step::SignalMask: return "reset the signal mask";
    case Step::Cgroup: return "join the cgroup";
    case Step::Stdio: return "set up stdin/stdout/stderr";
    case Step::Limits: return "setrlimit";
    case Step::Groups: return "setgroups";
    case Step::Gid: return "setresgid";
    case Step::Uid: return "setresuid";
    case Step::KeepCaps: return "prctl(PR_SET_KEEPCAPS)";
    case Step::Capabilities: return "capset";
    case Step::Ambient: return "prctl(PR_CAP_AMBIENT_RAISE)";
    case Step::Chdir: return "chdir to the package directory";
    case Step::NoNewPrivs: return "prctl(PR_SET_NO_NEW_PRIVS)";
    case Step::Exec: return "execve";
  }
  return "?";
}

/// What the child sends through the report pipe when a step fails.
struct ChildFailure {
  Step step = Step::Exec;
  int err = 0;
};

/// Everything the child uses, prepared before the fork (the child allocates nothing).
struct ChildPlan {
  int report = -1;     ///< close-on-exec write end of the report pipe
  int log_fd = -1;     ///< stdout/stderr; -1: /dev/null
  int cgroup_fd = -1;  ///< <cgroup>/cgroup.procs, or -1
  const char* cwd = "";
  const char* exe = "";
  char* const* argv = nullptr;
  char* const* envp = nullptr;
  const rlimit* mem = nullptr;
  const rlimit* cpu = nullptr;
  bool ignore_sigpipe = false;
  const Credentials* creds = nullptr;  ///< nullptr: the daemon's identity
  __user_cap_header_struct cap_header{};
  std::array<__user_cap_data_struct, _LINUX_CAPABILITY_U32S_3> cap_data{};
};

// The 32-bit-id system calls: on architectures that kept the 16-bit originals (i386, arm) the
// 32-bit ones have their own numbers; elsewhere (x86_64, arm64) the plain ones take 32-bit ids.
#ifdef SYS_setresuid32
constexpr long kSetgroups = SYS_setgroups32;
constexpr long kSetresgid = SYS_setresgid32;
constexpr long kSetresuid = SYS_setresuid32;
#else
constexpr long kSetgroups = SYS_setgroups;
constexpr long kSetresgid = SYS_setresgid;
constexpr long kSetresuid = SYS_setresuid;
#endif

/// Reports the failed step to the parent and ends the child (async-signal-safe).
[[noreturn]] void child_failed(int report, Step step, int err) {
  const ChildFailure f{step, err};
  (void)!::write(report, &f, sizeof f);
  ::_exit(127);
}

/// Takes the identity of `c` (Credentials). Raw system calls, not the libc wrappers: glibc's
/// set*id functions synchronise every thread of the process, state this single-threaded child
/// inherited from the multi-threaded daemon; credentials are per thread for the kernel, and
/// the child has one thread.
void take_identity(const ChildPlan& p) {
  const Credentials& c = *p.creds;
  auto die = [&p](Step s) { child_failed(p.report, s, errno); };
  // Keeps the permitted set across the change of uid (cleared again by execve), so that the
  // capabilities to keep can still be made inheritable and ambient below.
  if (c.ambient != 0 && ::prctl(PR_SET_KEEPCAPS, 1L, 0L, 0L, 0L) != 0) die(Step::KeepCaps);
  if (::syscall(kSetgroups, c.groups.size(), c.groups.data()) != 0) die(Step::Groups);
  if (::syscall(kSetresgid, c.gid, c.gid, c.gid) != 0) die(Step::Gid);
  if (::syscall(kSetresuid, c.uid, c.uid, c.uid) != 0) die(Step::Uid);
  // Without capabilities to keep: a uid other than 0 has none left (the kernel cleared them with
  // the change of uid); uid 0 keeps its own.
  if (c.ambient == 0) return;
  if (::syscall(SYS_capset, &p.cap_header, p.cap_data.data()) != 0) die(Step::Capabilities);
  for (unsigned long cap = 0; cap < 64; ++cap) {
    if ((c.ambient & (std::uint64_t{1} << cap)) == 0) continue;
    if (::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0L, 0L) != 0) die(Step::Ambient);
  }
}

/// The child's side between fork and execve: async-signal-safe calls only. Reports the failing
/// step through `report` (close-on-exec, so a successful execve closes it with nothing sent).
[[noreturn]] void exec_child(const ChildPlan& p) {
  auto die = [&p](Step s) { child_failed(p.report, s, errno); };
  // The daemon blocks its stop signals in every thread and the mask survives execve: a companion
  // must start with nothing blocked, or SIGTERM would never reach it. SIGPIPE: with an output
  // pipe, a companion outliving the daemon (adopted by the next run) must not die of its next
  // write to the closed pipe, so it is ignored (the write fails with EPIPE); else default.
  sigset_t none;
  sigemptyset(&none);
  if (::sigprocmask(SIG_SETMASK, &none, nullptr) != 0) die(Step::SignalMask);
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  struct sigaction ign {};
  ign.sa_handler = SIG_IGN;
  if (::sigaction(SIGCHLD, &dfl, nullptr) != 0) die(Step::SignalMask);
  if (::sigaction(SIGPIPE, p.ignore_sigpipe ? &ign : &dfl, nullptr) != 0) die(Step::SignalMask);
  // Joins the cgroup first, so that everything the child allocates is charged to it (and while
  // it is still the daemon's user, who may write cgroup.procs).
  if (p.cgroup_fd >= 0 && ::write(p.cgroup_fd, "0", 1) != 1) die(Step::Cgroup);
  const int null_fd = ::open("/dev/null", O_RDONLY);
  if (null_fd < 0 || ::dup2(null_fd, STDIN_FILENO) < 0) die(Step::Stdio);
  const int out = p.log_fd >= 0 ? p.log_fd : null_fd;
  if (::dup2(out, STDOUT_FILENO) < 0 || ::dup2(out, STDERR_FILENO) < 0) die(Step::Stdio);
  // No inherited fds: everything above stderr is closed but the report pipe, which closes at
  // exec by itself.
  if (p.report > STDERR_FILENO + 1) ::close_range(STDERR_FILENO + 1, p.report - 1, 0);
  ::close_range(p.report + 1, ~0U, 0);
  if (p.mem != nullptr && ::setrlimit(RLIMIT_AS, p.mem) != 0) die(Step::Limits);
  if (p.cpu != nullptr && ::setrlimit(RLIMIT_CPU, p.cpu) != 0) die(Step::Limits);
  if (p.creds != nullptr) take_identity(p);
  // As the companion's user: a package directory that user cannot enter fails here, clearly.
  if (p.cwd[0] != '\0' && ::chdir(p.cwd) != 0) die(Step::Chdir);
  if (::prctl(PR_SET_NO_NEW_PRIVS, 1L, 0L, 0L, 0L) != 0) die(Step::NoNewPrivs);
  ::execve(p.exe, p.argv, p.envp);
  die(Step::Exec);
  ::_exit(127);  // not reached: die() does not return
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
  ChildPlan plan;
  plan.report = report_write.get();
  plan.log_fd = log.get();
  plan.cgroup_fd = cgroup.get();
  plan.cwd = cwd.c_str();
  plan.exe = exe.c_str();
  plan.argv = argv.data();
  plan.envp = envp.data();
  plan.mem = options.memory_bytes ? &mem : nullptr;
  plan.cpu = options.cpu_seconds ? &cpu : nullptr;
  plan.ignore_sigpipe = options.output_pipe;
  if (options.credentials) {
    plan.creds = &*options.credentials;
    // The capability sets of capset(2), version 3 (two 32-bit words per set): exactly the
    // capabilities to keep, permitted, effective and inheritable (ambient needs the last).
    plan.cap_header.version = _LINUX_CAPABILITY_VERSION_3;
    plan.cap_header.pid = 0;
    for (std::size_t word = 0; word < plan.cap_data.size(); ++word) {
      const auto bits = static_cast<std::uint32_t>(options.credentials->ambient >> (32 * word));
      plan.cap_data[word].effective = bits;
      plan.cap_data[word].permitted = bits;
      plan.cap_data[word].inheritable = bits;
    }
  }

  const pid_t pid = ::fork();
  if (pid < 0) return fail(Errc::Io, "fork", errno);
  if (pid == 0) exec_child(plan);
  report_write.reset();
  log.reset();  // the write end of an output pipe must live in the child only (EOF at its exit)
  cgroup.reset();
  Child child{pid, UniqueFd(pidfd_open(pid)), std::move(output_read)};
  const int pidfd_errno = errno;
  ChildFailure failure;
  ssize_t n;
  do {
    n = ::read(report_read.get(), &failure, sizeof failure);
  } while (n < 0 && errno == EINTR);
  if (n == static_cast<ssize_t>(sizeof failure)) {
    int status = 0;
    ::waitpid(pid, &status, 0);  // the child exits at once: reap it here
    std::string what = "start " + exe;
    if (failure.step != Step::Exec) what += ": " + std::string(step_name(failure.step));
    if (options.credentials) {
      what += " (as uid " + std::to_string(options.credentials->uid) + ", gid " +
              std::to_string(options.credentials->gid) + ")";
    }
    return fail(Errc::Io, std::move(what), failure.err);
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
