#include "daemon/handover.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <string_view>

extern char** environ;

namespace l3afd::daemon {

namespace {

constexpr std::uint32_t kMagic = 0x4c334148;  // "L3AH"
constexpr std::uint32_t kFormat = 1;
constexpr std::size_t kMaxFds = 64;
constexpr std::uint64_t kMaxText = 64ull << 20;

struct Header {
  std::uint32_t magic;
  std::uint32_t format;
  std::uint32_t nfds;
  std::uint32_t reserved;
  std::uint64_t names_len;
  std::uint64_t state_len;
};

using Clock = std::chrono::steady_clock;

int remaining_ms(Clock::time_point deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  return left.count() <= 0 ? 0 : static_cast<int>(left.count());
}

/// Waits until `fd` is ready for `events` or the deadline passes.
Status wait_fd(int fd, short events, Clock::time_point deadline, const char* what) {
  for (;;) {
    pollfd p{fd, events, 0};
    const int r = ::poll(&p, 1, remaining_ms(deadline));
    if (r > 0) return ok();
    if (r == 0) return fail(Errc::Timeout, std::string("handover: ") + what + " timed out");
    if (errno != EINTR) return fail(Errc::Io, std::string("handover: poll while ") + what, errno);
  }
}

Status write_all(int fd, std::string_view data, Clock::time_point deadline) {
  while (!data.empty()) {
    if (auto st = wait_fd(fd, POLLOUT, deadline, "sending"); !st) return st;
    const ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      return fail(Errc::Io, "handover: send", errno);
    }
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return ok();
}

Status read_all(int fd, char* buf, std::size_t len, Clock::time_point deadline) {
  while (len > 0) {
    if (auto st = wait_fd(fd, POLLIN, deadline, "receiving"); !st) return st;
    const ssize_t n = ::recv(fd, buf, len, MSG_DONTWAIT);
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      return fail(Errc::Io, "handover: recv", errno);
    }
    if (n == 0) return fail(Errc::Io, "handover: the other process closed the channel");
    buf += n;
    len -= static_cast<std::size_t>(n);
  }
  return ok();
}

int pidfd_open(pid_t pid) {
  return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
}

int pidfd_send_signal(int pidfd, int sig) {
  return static_cast<int>(::syscall(SYS_pidfd_send_signal, pidfd, sig, nullptr, 0));
}

std::string exit_text(const siginfo_t& info) {
  if (info.si_code == CLD_EXITED) return "exited with status " + std::to_string(info.si_status);
  return std::string("killed by signal ") + ::strsignal(info.si_status);
}

}  // namespace

Status send_handover(int sock, const std::string& state,
                     const std::vector<std::pair<std::string, int>>& fds,
                     std::chrono::milliseconds timeout) {
  if (fds.size() > kMaxFds) {
    return fail(Errc::InvalidPayload, "handover: " + std::to_string(fds.size()) +
                                          " descriptors, at most " + std::to_string(kMaxFds));
  }
  const auto deadline = Clock::now() + timeout;
  std::string names;
  for (const auto& [name, fd] : fds) names += name + "\n";
  Header h{kMagic, kFormat, static_cast<std::uint32_t>(fds.size()), 0, names.size(), state.size()};
  // The header and its descriptors in one sendmsg: SCM_RIGHTS rides on the header's bytes.
  iovec iov{&h, sizeof h};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  std::vector<char> control(CMSG_SPACE(sizeof(int) * kMaxFds));
  if (!fds.empty()) {
    msg.msg_control = control.data();
    msg.msg_controllen = CMSG_SPACE(sizeof(int) * fds.size());
    cmsghdr* c = CMSG_FIRSTHDR(&msg);
    if (c == nullptr) return fail(Errc::Internal, "handover: no room for the descriptors");
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int) * fds.size());
    auto* out = reinterpret_cast<int*>(CMSG_DATA(c));
    for (std::size_t i = 0; i < fds.size(); ++i) out[i] = fds[i].second;
  }
  if (auto st = wait_fd(sock, POLLOUT, deadline, "sending"); !st) return st;
  ssize_t n;
  do {
    n = ::sendmsg(sock, &msg, MSG_NOSIGNAL);
  } while (n < 0 && errno == EINTR);
  if (n < 0) return fail(Errc::Io, "handover: sendmsg", errno);
  // A stream socket may take the header partly: the rest goes as plain bytes.
  const std::string_view header(reinterpret_cast<const char*>(&h), sizeof h);
  if (auto st = write_all(sock, header.substr(static_cast<std::size_t>(n)), deadline); !st) {
    return st;
  }
  if (auto st = write_all(sock, names, deadline); !st) return st;
  return write_all(sock, state, deadline);
}

Result<HandoverMessage> receive_handover(int sock, std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  Header h{};
  iovec iov{&h, sizeof h};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  std::vector<char> control(CMSG_SPACE(sizeof(int) * kMaxFds));
  msg.msg_control = control.data();
  msg.msg_controllen = control.size();
  if (auto st = wait_fd(sock, POLLIN, deadline, "receiving"); !st) return fail(st.error());
  ssize_t n;
  do {
    n = ::recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
  } while (n < 0 && errno == EINTR);
  if (n < 0) return fail(Errc::Io, "handover: recvmsg", errno);
  if (n == 0) return fail(Errc::Io, "handover: the old process closed the channel");
  HandoverMessage out;
  std::vector<UniqueFd> fds;
  for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
    const std::size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    const auto* in = reinterpret_cast<const int*>(CMSG_DATA(c));
    for (std::size_t i = 0; i < count; ++i) fds.emplace_back(in[i]);
  }
  if ((msg.msg_flags & MSG_CTRUNC) != 0) {
    return fail(Errc::InvalidPayload, "handover: too many descriptors (truncated)");
  }
  if (static_cast<std::size_t>(n) < sizeof h) {
    if (auto st = read_all(sock, reinterpret_cast<char*>(&h) + n, sizeof h - n, deadline); !st) {
      return fail(st.error());
    }
  }
  if (h.magic != kMagic || h.format != kFormat) {
    return fail(Errc::InvalidPayload, "handover: not an l3afd handover of format " +
                                          std::to_string(kFormat) + " (got format " +
                                          std::to_string(h.format) + ")");
  }
  if (h.nfds != fds.size() || h.names_len > kMaxText || h.state_len > kMaxText) {
    return fail(Errc::InvalidPayload, "handover: header and descriptors disagree");
  }
  std::string names(h.names_len, '\0');
  if (auto st = read_all(sock, names.data(), names.size(), deadline); !st) return fail(st.error());
  out.state.resize(h.state_len);
  if (auto st = read_all(sock, out.state.data(), out.state.size(), deadline); !st) {
    return fail(st.error());
  }
  std::size_t pos = 0;
  for (auto& fd : fds) {
    const std::size_t end = names.find('\n', pos);
    if (end == std::string::npos) {
      return fail(Errc::InvalidPayload, "handover: fewer names than descriptors");
    }
    out.fds.emplace_back(names.substr(pos, end - pos), std::move(fd));
    pos = end + 1;
  }
  return out;
}

Status send_verdict(int sock, bool ready, const std::string& reason) {
  std::string text = reason;
  for (char& c : text) {
    if (c == '\n' || c == '\r') c = ' ';  // one line, whatever the reason says
  }
  const std::string line = ready ? "ready\n" : "failed: " + text + "\n";
  if (auto st = write_all(sock, line, Clock::now() + std::chrono::seconds(5)); !st) return st;
  return ok();
}

Result<Successor> spawn_successor(const std::filesystem::path& binary,
                                  const std::filesystem::path& config) {
  int pair[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) != 0) {
    return fail(Errc::Io, "handover: socketpair", errno);
  }
  UniqueFd ours(pair[0]);
  UniqueFd theirs(pair[1]);

  std::vector<std::string> env_store;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    if (std::string_view(*e).starts_with(std::string(kHandoverFdEnv) + "=")) continue;
    env_store.emplace_back(*e);
  }
  env_store.push_back(std::string(kHandoverFdEnv) + "=3");
  std::vector<char*> envp;
  for (auto& e : env_store) envp.push_back(e.data());
  envp.push_back(nullptr);
  std::string bin = binary.string();
  std::string flag = "--config";
  std::string cfg = config.string();
  char* argv[] = {bin.data(), flag.data(), cfg.data(), nullptr};

  posix_spawn_file_actions_t fa;
  posix_spawnattr_t attr;
  posix_spawn_file_actions_init(&fa);
  posix_spawnattr_init(&attr);
  // fd 3 = our channel (dup2 clears close-on-exec); nothing else of ours is inherited.
  posix_spawn_file_actions_adddup2(&fa, theirs.get(), 3);
  posix_spawn_file_actions_addclosefrom_np(&fa, 4);
  sigset_t none;
  sigemptyset(&none);
  sigset_t defaults;
  sigemptyset(&defaults);
  for (int s : {SIGINT, SIGTERM, SIGQUIT, SIGHUP, SIGPIPE, SIGUSR1, SIGUSR2, SIGCHLD}) {
    sigaddset(&defaults, s);
  }
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &defaults);
  posix_spawnattr_setflags(&attr, static_cast<short>(POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGMASK |
                                                     POSIX_SPAWN_SETSIGDEF));
  pid_t pid = -1;
  const int rc = ::posix_spawn(&pid, bin.c_str(), &fa, &attr, argv, envp.data());
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) return fail(Errc::Io, "handover: start " + bin, rc);
  Successor s;
  s.pid = pid;
  s.pidfd = UniqueFd(pidfd_open(pid));
  s.channel = std::move(ours);
  if (!s.pidfd) {
    const int err = errno;
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
    return fail(Errc::Io, "handover: pidfd_open of the new process", err);
  }
  return s;
}

Status wait_ready(const Successor& s, std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  std::string line;
  for (;;) {
    pollfd p[2] = {{s.channel.get(), POLLIN, 0}, {s.pidfd.get(), POLLIN, 0}};
    const int r = ::poll(p, 2, remaining_ms(deadline));
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return fail(Errc::Io, "handover: poll", errno);
    if (r == 0) {
      return fail(Errc::Timeout, "the new process (pid " + std::to_string(s.pid) +
                                     ") did not report ready within " +
                                     std::to_string(timeout.count() / 1000) + " s");
    }
    if ((p[0].revents & (POLLIN | POLLHUP)) != 0) {
      char buf[512];
      const ssize_t n = ::recv(s.channel.get(), buf, sizeof buf, MSG_DONTWAIT);
      if (n > 0) {
        line.append(buf, static_cast<std::size_t>(n));
        const auto nl = line.find('\n');
        if (nl == std::string::npos) {
          if (line.size() > 4096) return fail(Errc::RestartFailed, "handover: garbled verdict");
          continue;
        }
        line.resize(nl);
        if (line == "ready") return ok();
        return fail(Errc::RestartFailed,
                    "the new process (pid " + std::to_string(s.pid) + ") " + line);
      }
      if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;
      // Closed without a verdict: its exit status says why.
    }
    siginfo_t info{};
    if (::waitid(static_cast<idtype_t>(P_PIDFD), static_cast<id_t>(s.pidfd.get()), &info,
                 WEXITED | WNOHANG | WNOWAIT) == 0 &&
        info.si_pid != 0) {
      return fail(Errc::RestartFailed, "the new process (pid " + std::to_string(s.pid) + ") " +
                                           exit_text(info) + " before it was ready");
    }
    if ((p[0].revents & POLLHUP) != 0) {
      // Channel closed but the process not gone yet: wait a moment for its status.
      pollfd q{s.pidfd.get(), POLLIN, 0};
      (void)::poll(&q, 1, std::min(remaining_ms(deadline), 1000));
      if (::waitid(static_cast<idtype_t>(P_PIDFD), static_cast<id_t>(s.pidfd.get()), &info,
                   WEXITED | WNOHANG | WNOWAIT) == 0 &&
          info.si_pid != 0) {
        return fail(Errc::RestartFailed, "the new process (pid " + std::to_string(s.pid) + ") " +
                                             exit_text(info) + " before it was ready");
      }
      return fail(Errc::RestartFailed, "the new process (pid " + std::to_string(s.pid) +
                                           ") closed the handover channel without a verdict");
    }
  }
}

void kill_successor(Successor& s) {
  if (!s.pidfd) return;
  (void)pidfd_send_signal(s.pidfd.get(), SIGKILL);
  siginfo_t info{};
  int r;
  do {
    r = ::waitid(static_cast<idtype_t>(P_PIDFD), static_cast<id_t>(s.pidfd.get()), &info, WEXITED);
  } while (r != 0 && errno == EINTR);
  s.pidfd.reset();
  s.channel.reset();
}

}  // namespace l3afd::daemon
