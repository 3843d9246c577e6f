#include "kernel/libbpf/dir_lock.h"

#include <fcntl.h>
#include <sys/file.h>

#include <algorithm>
#include <cerrno>
#include <thread>

#include "core/log.h"
#include "core/unique_fd.h"

namespace l3afd::kernel::libbpf {

namespace {
constexpr std::chrono::milliseconds kFirstPause{1};
constexpr std::chrono::milliseconds kLongestPause{50};
}  // namespace

Result<ChangeLock> lock_directory(const std::filesystem::path& dir,
                                  std::chrono::milliseconds timeout) {
  UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd) return fail(Errc::Io, "open bpffs directory " + dir.string() + " to lock it", errno);
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  auto pause = kFirstPause;
  bool waited = false;
  for (;;) {
    if (::flock(fd.get(), LOCK_EX | LOCK_NB) == 0) break;
    if (errno == EINTR) continue;
    if (errno != EWOULDBLOCK) {
      return fail(Errc::Io, "lock bpffs directory " + dir.string(), errno);
    }
    const auto now = std::chrono::steady_clock::now();
    if (now >= deadline) {
      return fail(Errc::Timeout, "bpffs directory " + dir.string() +
                                     " is locked by another process (waited " +
                                     std::to_string(timeout.count()) + " ms)");
    }
    if (!waited) spdlog::info("op=lock_for_change dir={} waiting for another holder", dir.string());
    waited = true;
    std::this_thread::sleep_for(
        std::min<std::chrono::steady_clock::duration>(pause, deadline - now));
    pause = std::min(pause * 2, kLongestPause);
  }
  return ChangeLock(std::move(fd));
}

}  // namespace l3afd::kernel::libbpf
