// The real l3afd binary run by the bench: a private work directory (config, run files, artifact
// cache, store, log, bpffs mount point), start, readiness, RSS and stop. Also the bench's
// scratch workspace and the signal-driven cleanup that stops the daemon and removes the
// workspace when the bench is interrupted.
//
// Preconditions: the process runs as root inside the private network and mount namespaces of
// enter_private_namespaces(), so loopback ports, interfaces and bpffs mounts are the bench's own.
// Thread-safety: a Daemon is used from one thread; the cleanup thread only touches the state
// registered through this header, under its own lock.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>

namespace l3afd::bench {

/// Creates the scratch directory /tmp/l3afd-bench.XXXXXX and registers it for removal on an
/// interrupt. Returns the path, or an empty path with `error` set.
std::filesystem::path make_workspace(std::string& error);

/// Unmounts everything mounted under `root` and removes it. Returns "" or what failed.
std::string remove_workspace(const std::filesystem::path& root);

/// Blocks SIGINT, SIGTERM, SIGQUIT and SIGHUP in the calling thread (and so in every thread
/// started later) and starts a thread that, on one of them, stops the running daemon, removes
/// the workspace and exits with 128 + signal. Call before starting any other thread.
void install_signal_cleanup();

/// True once the cleanup thread has received a signal (the bench is being torn down; failures
/// seen by other threads from then on are consequences of it and need no report).
bool interrupted();

struct DaemonOptions {
  std::filesystem::path binary;  ///< the l3afd executable
  std::string repo_url;          ///< [ebpf-repo] url, e.g. file:///…/build/repo
  /// [ebpf-repo] trusted-keys-dir: the build's trust directory beside its repository
  /// (build/trusted-keys; build/repo is signed, docs/security-packages.md)
  std::filesystem::path trusted_keys_dir;
  std::filesystem::path work_dir;     ///< created by start(), removed by stop()
  std::uint16_t api_port = 53000;     ///< on 127.0.0.1 in the private network namespace
  std::uint16_t metrics_port = 8898;  ///< on 127.0.0.1 in the private network namespace
  /// [l3afd] bpf-chaining-enabled. Off for the non-chained rows (one program per interface and
  /// hook); on for the chained rows, which use separate daemon instances. Every other key,
  /// retire-grace-period included, is the same (left at the daemon's default) in both modes.
  bool chaining = false;
};

class Daemon {
 public:
  /// Writes a config into opts.work_dir, mounts a fresh bpffs for it, starts the binary in its
  /// own process group with output to <work_dir>/l3afd.log, and waits (at most 30 s) until
  /// GET /l3af/configs/v1 answers 200. Returns nullptr with `error` set (including the log tail
  /// when the daemon exited) on failure; everything started is undone then.
  static std::unique_ptr<Daemon> start(const DaemonOptions& opts, std::string& error);

  ~Daemon();
  Daemon(const Daemon&) = delete;
  Daemon& operator=(const Daemon&) = delete;

  /// SIGTERM, waits up to 40 s (then SIGKILL), unmounts the bpffs and removes the work
  /// directory. Returns "" or why the daemon did not stop cleanly. Idempotent.
  std::string stop();

  /// SIGKILL, then the same binary started again on the same config and bpffs (it adopts the
  /// pinned state); returns once it answers GET (30 s at most). "" or why it failed.
  std::string kill_and_start();
  /// PUT /l3af/configs/v1/restart to `version` (the running one: no install layout is
  /// configured); returns once the answer is 200, the PID file names the new process and the
  /// old one has exited 0, the new one then being this object's process. "" or why it failed.
  std::string graceful_restart(const std::string& version);
  /// The hostname the daemon compares the restart body's with.
  void set_host_name(std::string h) { host_name_ = std::move(h); }

  pid_t pid() const { return pid_; }
  const std::filesystem::path& work_dir() const { return opts_.work_dir; }
  std::uint16_t api_port() const { return opts_.api_port; }
  std::uint16_t metrics_port() const { return opts_.metrics_port; }
  /// VmRSS of the daemon from /proc/<pid>/status in MiB; nullopt if it cannot be read.
  std::optional<double> rss_mib() const;
  /// User + system CPU time the daemon has used so far (/proc/<pid>/stat), in seconds, with
  /// clock-tick resolution; nullopt if it cannot be read.
  std::optional<double> cpu_seconds() const;
  /// The last `lines` lines of the daemon's log.
  std::string log_tail(std::size_t lines) const;

 private:
  explicit Daemon(DaemonOptions opts) : opts_(std::move(opts)) {}
  /// Forks and execs the daemon on <work_dir>/l3afd.cfg and waits until it answers.
  std::string spawn();

  DaemonOptions opts_;
  std::string host_name_;
  pid_t pid_ = -1;
};

}  // namespace l3afd::bench
