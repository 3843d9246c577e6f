#include "supervisor/run_command.h"

#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <climits>
#include <vector>

#include <spdlog/spdlog.h>

namespace l3afd::supervisor {

namespace {

/// Reads what the pipe holds now into `kept` and the log. False at EOF or error.
bool drain(int fd, std::string& kept, CappedLog* log) {
  std::array<char, 16 * 1024> buf{};
  for (;;) {
    const ssize_t n = ::read(fd, buf.data(), buf.size());
    if (n > 0) {
      const std::string_view chunk(buf.data(), static_cast<std::size_t>(n));
      if (log != nullptr) {
        if (auto st = log->append(chunk); !st) {
          spdlog::warn("companion output lost: {}", st.error().to_string());
        }
      }
      kept.append(chunk);
      if (kept.size() > kOutputKept) kept.erase(0, kept.size() - kOutputKept);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
  }
}

Result<Exit> reap(const Child& c) {
  siginfo_t info{};
  int r;
  do {
    r = ::waitid(static_cast<idtype_t>(P_PIDFD), static_cast<id_t>(c.pidfd.get()), &info, WEXITED);
  } while (r != 0 && errno == EINTR);
  if (r != 0) return fail(Errc::Kernel, "waitid", errno);
  return Exit{info.si_code == CLD_KILLED || info.si_code == CLD_DUMPED, info.si_status};
}

}  // namespace

Result<CommandOutcome> run_to_end(const CommandLine& cmd, SpawnOptions options,
                                  std::chrono::milliseconds timeout, CappedLog* log) {
  options.output_pipe = true;
  auto child = spawn(cmd, options);
  if (!child) return fail(std::move(child.error()));
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  CommandOutcome out;
  bool reading = true;
  for (;;) {
    std::array<pollfd, 2> p{pollfd{child->pidfd.get(), POLLIN, 0},
                            pollfd{child->output.get(), POLLIN, 0}};
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) break;
    const int r = ::poll(p.data(), reading ? 2 : 1,
                         static_cast<int>(std::min<std::int64_t>(left.count() + 1, INT_MAX)));
    if (r < 0 && errno != EINTR) {
      const int err = errno;
      ::syscall(SYS_pidfd_send_signal, child->pidfd.get(), SIGKILL, nullptr, 0);
      (void)reap(*child);
      return fail(Errc::Kernel, "poll", err);
    }
    if (reading && (p[1].revents & (POLLIN | POLLHUP | POLLERR)) != 0) {
      reading = drain(child->output.get(), out.output, log);
    }
    if ((p[0].revents & POLLIN) != 0) {
      // Ended: take what is left in the pipe (a descendant holding it open is not waited for).
      if (reading) drain(child->output.get(), out.output, log);
      auto e = reap(*child);
      if (!e) return fail(std::move(e.error()));
      out.exit = *e;
      return out;
    }
  }
  ::syscall(SYS_pidfd_send_signal, child->pidfd.get(), SIGKILL, nullptr, 0);
  if (reading) drain(child->output.get(), out.output, log);
  (void)reap(*child);
  std::string msg = cmd.executable.filename().string() + " did not end within " +
                    std::to_string(timeout.count()) + " ms: killed";
  if (const auto tail = last_lines(out.output, 3); !tail.empty()) msg += "; output: " + tail;
  return fail(Errc::Timeout, std::move(msg));
}

std::string last_lines(std::string_view text, std::size_t n) {
  std::vector<std::string_view> lines;
  while (!text.empty() && lines.size() < n) {
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.remove_suffix(1);
    if (text.empty()) break;
    const auto at = text.find_last_of('\n');
    const auto start = at == std::string_view::npos ? 0 : at + 1;
    lines.push_back(text.substr(start));
    text = text.substr(0, start);
  }
  std::string out;
  for (auto it = lines.rbegin(); it != lines.rend(); ++it) {
    if (!out.empty()) out += " | ";
    out += *it;
  }
  return out;
}

}  // namespace l3afd::supervisor
