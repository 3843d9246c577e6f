// End-to-end fixture: the real l3afd binary started with posix_spawn in the test process's
// private network + mount namespace (environment.cpp), with a config written into a fresh
// temp dir, talked to over real HTTP on 127.0.0.1. Test-only; single-threaded use except
// where a function says otherwise.
#pragma once

#include <gtest/gtest.h>
#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "e2e/daemon/kernel_probe.h"
#include "model/l3af_types.h"
#include "support/http_client.h"
#include "support/netns.h"
#include "support/tls_client.h"

namespace l3afd::e2e {

namespace fs = std::filesystem;

inline const fs::path kDaemonBinary = L3AFD_BINARY;
inline const fs::path kRepoDir = L3AFD_BPF_REPO_DIR;
/// The build's trust directory: the public key kRepoDir is signed with (bpf/CMakeLists.txt).
inline const fs::path kTrustedKeysDir = L3AFD_TRUSTED_KEYS_DIR;

/// Where config keys of one daemon instance differ from the defaults of write_config().
struct DaemonOptions {
  std::string tc_attach_mode = "auto";
  std::uint64_t max_body_size = 16777216;
  std::string repo_url;  ///< empty: file://<kRepoDir>
  /// [ebpf-repo] trusted-keys-dir; empty: kTrustedKeysDir (kRepoDir is signed, and under the
  /// default policy if-present a signed directory needs a trusted key)
  std::string trusted_keys_dir;
  std::string signature_policy;  ///< [ebpf-repo] signature-policy (empty: not written)
  std::string
      signature_policy_by_url;      ///< [ebpf-repo] signature-policy-by-url (empty: not written)
  bool chaining = false;            ///< [l3afd] bpf-chaining-enabled
  std::string chain_write_order;    ///< [l3afd] chain-write-order (empty: not written)
  std::string retire_grace_period;  ///< [l3afd] retire-grace-period (empty: not written)
  std::string shutdown_timeout = "25s";  ///< [l3afd] shutdown-timeout (companion stop grace)
  std::string user_program_timeout;      ///< [l3afd] user-program-timeout (empty: default)
  int max_ebpf_restart_count = 3;        ///< [l3afd] max-ebpf-restart-count
  std::string ebpf_poll_interval;        ///< [web] ebpf-poll-interval (empty: not written)
  bool bpf_stats_enabled = false;        ///< [l3afd] bpf-stats-enabled (written only if true)
  /// [graceful-restart] basepath, restart-artifacts-url, time-to-restart (empty/0: not written,
  /// the basepath then defaults to <dir>/no-install so no test sees /usr/local/l3afd).
  std::string restart_basepath;
  std::string restart_artifacts_url;
  int time_to_restart = 0;
  /// Appended verbatim to the config (sections may repeat, a repeated key keeps its last
  /// value), e.g. an [mtls] section that replaces `enabled: false`.
  std::string extra_config;
};

/// A temp dir removed (recursively) in the destructor.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

/// A TCP port on 127.0.0.1 that was free a moment ago (bind to port 0, read it, close).
uint16_t free_port();

/// One l3afd process. The destructor SIGKILLs and reaps it if it still runs; if the test process
/// dies first, a watchdog process SIGKILLs it (daemon_fixture.cpp).
class DaemonProcess {
 public:
  DaemonProcess() = default;
  ~DaemonProcess();
  DaemonProcess(const DaemonProcess&) = delete;
  DaemonProcess& operator=(const DaemonProcess&) = delete;

  /// posix_spawn of `kDaemonBinary --config <config>`, stdout+stderr appended to `log`.
  /// Returns "" or why it failed.
  std::string spawn(const fs::path& config, const fs::path& log);
  pid_t pid() const { return pid_; }
  bool running() const { return pid_ > 0; }
  /// Non-blocking check; true (and the status stored) once the process has exited.
  bool reap_if_exited();
  /// Sends `sig`, then waits up to `wait_ms` for the exit. Returns the exit code, 128+signal
  /// for a signal death, or -1 if it did not exit in time (it is then still running).
  int signal_and_wait(int sig, int wait_ms);
  /// Waits up to `wait_ms` for an exit without signalling; same result as signal_and_wait.
  int wait_exit(int wait_ms);
  /// Exit code of the finished process (see signal_and_wait), -1 while running / never run.
  int exit_code() const { return exit_code_; }
  /// Graceful restart: the new l3afd, a child of this process now (child subreaper, see
  /// DaemonFixture::graceful_restart), is tracked from here on.
  void adopt(pid_t pid);

 private:
  pid_t pid_ = -1;
  int exit_code_ = -1;
};

/// A comparable picture of "the kernel" as far as this test process can own it. The host is
/// shared with other engineers' tests, so global id lists change under us; instead this holds
/// every BPF object the daemon has open (/proc/<pid>/fdinfo), every pin in the private bpffs
/// with the id of the pinned object, and what is attached to the test interfaces.
struct KernelSnapshot {
  std::vector<uint32_t> daemon_prog_ids;
  std::vector<uint32_t> daemon_link_ids;
  std::vector<uint32_t> daemon_map_ids;
  std::map<std::string, std::string> pins;  ///< path -> "prog:ID" | "map:ID" | "link:ID" | "dir"
  std::map<std::string, AttachedPrograms> attached;  ///< per test interface
  bool operator==(const KernelSnapshot&) const = default;
  std::string describe() const;
};

/// One entry of the /bpfs/<iface> listing.
struct DebugEntry {
  std::string name;
  std::string direction_hint;  ///< prog_type of the program ("xdp"/"tc")
  uint32_t prog_id = 0;
  uint32_t link_id = 0;
  std::string attach_mode;
  std::string map_name_path;
  std::string prev_map_name_path;
  std::string map_name;  ///< Program.map_name
  uint32_t prog_map_id = 0;
  uint32_t prev_prog_map_id = 0;
};

/// Test base: a temp dir with config, the daemon, helpers. Stops the daemon in TearDown and
/// prints its log when the test failed.
class DaemonFixture : public ::testing::Test {
 protected:
  void TearDown() override;

  // ---- process -----------------------------------------------------------------------------
  /// Writes the config (fresh ports each call) to dir/l3afd.cfg and returns its path.
  fs::path write_config(const DaemonOptions& opt = {});
  /// Starts the daemon on the current config and waits until GET /l3af/configs/v1 is 200.
  /// Fails the test (ADD_FAILURE) and returns false if it does not become ready.
  bool start_daemon(const DaemonOptions& opt = {});
  /// Re-starts on the existing config (same ports, same store).
  bool restart_daemon();
  /// SIGTERM, bounded wait, SIGKILL fallback. Returns the exit code.
  int stop_daemon();
  /// SIGKILL and reap.
  void kill_daemon();
  std::string daemon_log() const;
  /// PUT /l3af/configs/v1/restart {"hostname": host(), "version": version}. On 200 it also
  /// checks what L3AF's e2e suite does — the PID file names another process within 5 s — and
  /// that the old process exits 0, then tracks the new one (this test process is made a child
  /// subreaper for it, so the new daemon becomes its child and is stopped by TearDown).
  /// `new_pid` (optional) receives the new process's pid.
  test::HttpResult graceful_restart(const std::string& version, pid_t* new_pid = nullptr);
  /// The PID file's content as a number (0 if absent or unparsable).
  pid_t pid_file_value() const;

  // ---- HTTP -----------------------------------------------------------------------------------
  test::HttpResult api(const std::string& method, const std::string& target,
                       const std::string& body = {}) const;
  test::HttpResult add(const std::vector<model::L3afBpfPrograms>& v) const;
  test::HttpResult update(const std::vector<model::L3afBpfPrograms>& v) const;
  test::HttpResult remove(const std::vector<model::L3afBpfProgramNames>& v) const;
  test::HttpResult get(const std::string& iface) const;
  test::HttpResult get_all() const;
  std::vector<DebugEntry> bpfs(const std::string& iface) const;
  std::string metrics() const;
  /// Value of l3afd_BPFMonitorMap for (iface, map_name label), nullopt if absent.
  std::optional<uint64_t> monitor_value(const std::string& iface, const std::string& label) const;
  std::string state_bytes() const;

  // ---- kernel ---------------------------------------------------------------------------------
  KernelSnapshot kernel_snapshot(const std::vector<std::string>& ifaces) const;

 public:
  // ---- payloads -------------------------------------------------------------------------------
  static std::string host();
  static model::BpfProgram xdp_counter(const std::string& version = "1.0",
                                       int64_t config_value = 7);
  static model::BpfProgram tc_counter(const std::string& version = "1.0");
  /// Package chain-<c> (xdp_chain_counter.bpf.o, map_name chain_next: it may sit anywhere in an
  /// XDP chain) at `seq`.
  static model::BpfProgram chain_counter(char c, int64_t seq, const std::string& version = "1.0");
  static model::L3afBpfPrograms entry(const std::string& iface,
                                      std::optional<model::BpfProgram> xdp = std::nullopt,
                                      std::optional<model::BpfProgram> tc_in = std::nullopt,
                                      std::optional<model::BpfProgram> tc_eg = std::nullopt);
  static model::L3afBpfProgramNames names(const std::string& iface,
                                          std::vector<std::string> xdp = {},
                                          std::vector<std::string> tc_in = {},
                                          std::vector<std::string> tc_eg = {});
  /// The GET body of an interface as the daemon must render it.
  static model::L3afBpfPrograms view(const std::string& iface, const std::string& ipv4,
                                     std::optional<model::BpfProgram> xdp = std::nullopt,
                                     std::optional<model::BpfProgram> tc_in = std::nullopt,
                                     std::optional<model::BpfProgram> tc_eg = std::nullopt);

 protected:
  TempDir dir_;
  /// When set, the API is reached over TLS with these client options (readiness and api()).
  std::optional<test::TlsClientOptions> api_tls_;
  fs::path config_;
  fs::path log_;
  fs::path pid_file_;
  fs::path store_;
  uint16_t api_port_ = 0;
  uint16_t metrics_port_ = 0;
  uint16_t debug_port_ = 0;
  DaemonProcess daemon_;
  bool expect_clean_stop_ = true;  ///< TearDown asserts exit 0 and no pins left
};

}  // namespace l3afd::e2e
