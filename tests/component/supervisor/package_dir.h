// A temporary package directory holding a copy of the fake companion (tests/component/
// supervisor/fake_companion.cpp), small helpers to wait (boundedly) for what real processes do,
// and the Reaper that kills what a test left running. Waits are generous bounds against hangs,
// never assertions about timing.
#pragma once

#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "supervisor/proc_identity.h"

namespace l3afd::supervisor::testing {

namespace fs = std::filesystem;

class PackageDir {
 public:
  explicit PackageDir(const std::string& tag) {
    dir_ = fs::temp_directory_path() /
           ("l3afd-" + tag + "-" + std::to_string(::getpid()) + "-" + std::to_string(counter()++));
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "pkg" / "bin");
    fs::copy_file(L3AFD_FAKE_COMPANION, fake());
  }
  ~PackageDir() {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  PackageDir(const PackageDir&) = delete;
  PackageDir& operator=(const PackageDir&) = delete;

  const fs::path& root() const { return dir_; }
  fs::path pkg() const { return dir_ / "pkg"; }
  /// The fake companion inside the package, as `cmd_*` names it: "bin/fake".
  fs::path fake() const { return pkg() / "bin" / "fake"; }
  fs::path file(const std::string& name) const { return dir_ / name; }

 private:
  static int& counter() {
    static int n = 0;
    return n;
  }
  fs::path dir_;
};

inline std::string read_file(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

/// Waits until `done` holds, at most `bound` (a guard against hangs). Returns done().
inline bool eventually(const std::function<bool()>& done,
                       std::chrono::milliseconds bound = std::chrono::seconds(30)) {
  const auto until = std::chrono::steady_clock::now() + bound;
  while (!done()) {
    if (std::chrono::steady_clock::now() > until) return done();
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
}

/// True when no process `pid` exists (reaped, not a zombie).
inline bool gone(int pid) {
  return !fs::exists("/proc/" + std::to_string(pid));
}

/// Processes the test itself must clean up (started through the port, so ours to signal):
/// killed through a pidfd, and only while the pid still names the process that was started.
struct Reaper {
  std::vector<std::pair<int, std::uint64_t>> procs;
  void add(int pid) {
    auto st = proc_stat(pid);
    if (st) procs.emplace_back(pid, st->start_time);
  }
  ~Reaper() {
    for (auto [pid, start] : procs) {
      auto fd = open_if_same(pid, start);
      if (!fd) continue;
      ::syscall(SYS_pidfd_send_signal, fd->get(), SIGKILL, nullptr, 0);
      siginfo_t info{};
      ::waitid(static_cast<idtype_t>(P_PIDFD), static_cast<id_t>(fd->get()), &info, WEXITED);
    }
  }
};

}  // namespace l3afd::supervisor::testing
