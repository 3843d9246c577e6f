#include "e2e/daemon/daemon_fixture.h"

#include <sys/prctl.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>

#include "json/parse.h"
#include "model/l3af_json.h"

extern char** environ;

namespace l3afd::e2e {

namespace {

void sleep_ms(int ms) {
  std::this_thread::sleep_for(std::chrono::milliseconds(ms));
}

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

const json::Node* member(const json::Node& n, std::string_view key) {
  for (const auto& m : n.members) {
    if (m.key == key) return &m.value;
  }
  return nullptr;
}

uint32_t number_of(const json::Node* n) {
  return n != nullptr && n->kind == json::Node::Kind::Number
             ? static_cast<uint32_t>(std::strtoul(n->text.c_str(), nullptr, 10))
             : 0;
}

std::string string_of(const json::Node* n) {
  return n != nullptr && n->kind == json::Node::Kind::String ? n->text : std::string();
}

}  // namespace

// ---- TempDir ---------------------------------------------------------------------------------

TempDir::TempDir() {
  std::string tmpl = (fs::temp_directory_path() / "l3afd-e2e-XXXXXX").string();
  if (::mkdtemp(tmpl.data()) != nullptr) path_ = tmpl;
}

TempDir::~TempDir() {
  std::error_code ec;
  if (!path_.empty()) fs::remove_all(path_, ec);
}

uint16_t free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return 0;
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(a);
  uint16_t port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0) {
    port = ntohs(a.sin_port);
  }
  ::close(fd);
  return port;
}

// ---- DaemonProcess ---------------------------------------------------------------------------

namespace {

/// Every l3afd a test starts dies with the test process, also when that process is killed: a
/// watchdog process forked once (before any daemon) reads pids from a pipe, holds a pidfd of
/// each (so a reused pid is never hit) and, when the pipe reaches EOF because the test process is
/// gone, SIGKILLs those still running. This covers the new daemon of a graceful restart too,
/// which the old daemon starts (PR_SET_PDEATHSIG could not follow it there).
class Watchdog {
 public:
  static Watchdog& instance() {
    static Watchdog w;
    return w;
  }
  void watch(pid_t pid) {
    if (write_fd_ >= 0) (void)!::write(write_fd_, &pid, sizeof pid);
  }

 private:
  Watchdog() {
    int p[2];
    if (::pipe2(p, O_CLOEXEC) != 0) return;
    const pid_t w = ::fork();
    if (w == 0) {
      // Only system calls from here on (the test process has threads). Nothing of the test's is
      // kept open (a held bpf or namespace fd would keep kernel objects alive).
      if (p[0] > 0) ::close_range(0, static_cast<unsigned>(p[0]) - 1, 0);
      ::close_range(static_cast<unsigned>(p[0]) + 1, ~0U, 0);
      int fds[512];
      int n = 0;
      pid_t pid = 0;
      while (::read(p[0], &pid, sizeof pid) == static_cast<ssize_t>(sizeof pid)) {
        const int fd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
        if (fd >= 0 && n < 512) fds[n++] = fd;
      }
      for (int i = 0; i < n; ++i) ::syscall(SYS_pidfd_send_signal, fds[i], SIGKILL, nullptr, 0);
      ::_exit(0);
    }
    ::close(p[0]);
    if (w > 0)
      write_fd_ = p[1];
    else
      ::close(p[1]);
  }
  int write_fd_ = -1;
};

}  // namespace

void DaemonProcess::adopt(pid_t pid) {
  pid_ = pid;
  exit_code_ = -1;
  Watchdog::instance().watch(pid);
}

DaemonProcess::~DaemonProcess() {
  if (pid_ > 0) (void)signal_and_wait(SIGKILL, 10000);
}

std::string DaemonProcess::spawn(const fs::path& config, const fs::path& log) {
  (void)Watchdog::instance();  // forked before the daemon, so it does not inherit the log fd
  const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) return "open " + log.string() + ": " + std::strerror(errno);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, fd, 1);
  posix_spawn_file_actions_adddup2(&fa, fd, 2);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t none, all;
  sigemptyset(&none);
  sigfillset(&all);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &all);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  const std::string bin = kDaemonBinary.string();
  const std::string cfg = config.string();
  std::string flag = "--config";
  std::vector<char*> argv{const_cast<char*>(bin.c_str()), flag.data(),
                          const_cast<char*>(cfg.c_str()), nullptr};
  const int rc = ::posix_spawn(&pid_, bin.c_str(), &fa, &attr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&attr);
  ::close(fd);
  exit_code_ = -1;
  if (rc != 0) {
    pid_ = -1;
    return "posix_spawn " + bin + ": " + std::strerror(rc);
  }
  Watchdog::instance().watch(pid_);
  return {};
}

bool DaemonProcess::reap_if_exited() {
  if (pid_ <= 0) return true;
  int status = 0;
  const pid_t r = ::waitpid(pid_, &status, WNOHANG);
  if (r != pid_) return false;
  exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  pid_ = -1;
  return true;
}

int DaemonProcess::wait_exit(int wait_ms) {
  for (int waited = 0; waited <= wait_ms; waited += 20) {
    if (reap_if_exited()) return exit_code_;
    sleep_ms(20);
  }
  return reap_if_exited() ? exit_code_ : -1;
}

int DaemonProcess::signal_and_wait(int sig, int wait_ms) {
  if (pid_ <= 0) return exit_code_;
  ::kill(pid_, sig);
  return wait_exit(wait_ms);
}

// ---- DaemonFixture: process ------------------------------------------------------------------

fs::path DaemonFixture::write_config(const DaemonOptions& opt) {
  const fs::path d = dir_.path();
  config_ = d / "l3afd.cfg";
  log_ = d / "l3afd.log";
  pid_file_ = d / "l3afd.pid";
  store_ = d / "store" / "l3af-config.json";
  api_port_ = free_port();
  metrics_port_ = free_port();
  debug_port_ = free_port();
  const std::string repo = opt.repo_url.empty() ? "file://" + kRepoDir.string() : opt.repo_url;
  std::ofstream out(config_, std::ios::trunc);
  out << "[l3afd]\n"
      << "pid-file: " << pid_file_.string() << "\n"
      << "datacenter: e2e\n"
      << "bpf-dir: " << (d / "bpf").string() << "\n"
      << "kernel-major-version: 5\nkernel-minor-version: 15\n"
      << "shutdown-timeout: " << opt.shutdown_timeout << "\n"
      << "max-ebpf-restart-count: " << opt.max_ebpf_restart_count << "\n"
      << (opt.user_program_timeout.empty()
              ? ""
              : "user-program-timeout: " + opt.user_program_timeout + "\n")
      << "bpf-chaining-enabled: " << (opt.chaining ? "true" : "false") << "\n"
      << (opt.chain_write_order.empty() ? "" : "chain-write-order: " + opt.chain_write_order + "\n")
      << (opt.retire_grace_period.empty()
              ? ""
              : "retire-grace-period: " + opt.retire_grace_period + "\n")
      << (opt.bpf_stats_enabled ? "bpf-stats-enabled: true\n" : "") << "environment: DEV\n"
      << "BpfMapDefaultPath: /sys/fs/bpf\n"
      << "tc-attach-mode: " << opt.tc_attach_mode << "\n"
      << "[ebpf-repo]\nurl: " << repo << "\n"
      << "trusted-keys-dir: "
      << (opt.trusted_keys_dir.empty() ? kTrustedKeysDir.string() : opt.trusted_keys_dir) << "\n"
      << (opt.signature_policy.empty() ? "" : "signature-policy: " + opt.signature_policy + "\n")
      << (opt.signature_policy_by_url.empty()
              ? ""
              : "signature-policy-by-url: " + opt.signature_policy_by_url + "\n")
      << "[web]\nmetrics-addr: 127.0.0.1:" << metrics_port_ << "\n"
      << (opt.ebpf_poll_interval.empty() ? ""
                                         : "ebpf-poll-interval: " + opt.ebpf_poll_interval + "\n")
      << "[ebpf-chain-debug]\naddr: 127.0.0.1:" << debug_port_ << "\nenabled: true\n"
      << "[l3af-configs]\nrestapi-addr: 127.0.0.1:" << api_port_ << "\n"
      << "max-body-size: " << opt.max_body_size << "\n"
      << "[l3af-config-store]\nfilename: " << store_.string() << "\n"
      << "[mtls]\nenabled: false\n"
      << "[graceful-restart]\nbasepath: "
      << (opt.restart_basepath.empty() ? (d / "no-install").string() : opt.restart_basepath) << "\n"
      << (opt.restart_artifacts_url.empty()
              ? ""
              : "restart-artifacts-url: " + opt.restart_artifacts_url + "\n")
      << (opt.time_to_restart > 0 ? "time-to-restart: " + std::to_string(opt.time_to_restart) + "\n"
                                  : "")
      << opt.extra_config;
  return config_;
}

bool DaemonFixture::start_daemon(const DaemonOptions& opt) {
  if (dir_.path().empty()) {
    ADD_FAILURE() << "no temp dir";
    return false;
  }
  write_config(opt);
  return restart_daemon();
}

bool DaemonFixture::restart_daemon() {
  if (auto err = daemon_.spawn(config_, log_); !err.empty()) {
    ADD_FAILURE() << err;
    return false;
  }
  for (int i = 0; i < 200; ++i) {
    if (daemon_.reap_if_exited()) {
      ADD_FAILURE() << "l3afd exited during start-up with " << daemon_.exit_code() << "\n"
                    << daemon_log();
      return false;
    }
    auto r = api("GET", "/l3af/configs/v1");
    if (r.status == 200) return true;
    sleep_ms(50);
  }
  ADD_FAILURE() << "l3afd did not become ready\n" << daemon_log();
  return false;
}

int DaemonFixture::stop_daemon() {
  int rc = daemon_.signal_and_wait(SIGTERM, 40000);
  if (rc == -1) {
    ADD_FAILURE() << "l3afd did not stop on SIGTERM; killing it";
    rc = daemon_.signal_and_wait(SIGKILL, 10000);
  }
  return rc;
}

void DaemonFixture::kill_daemon() {
  (void)daemon_.signal_and_wait(SIGKILL, 10000);
}

std::string DaemonFixture::daemon_log() const {
  return read_file(log_);
}

pid_t DaemonFixture::pid_file_value() const {
  std::ifstream in(pid_file_);
  long v = 0;
  if (!(in >> v)) return 0;
  return static_cast<pid_t>(v);
}

test::HttpResult DaemonFixture::graceful_restart(const std::string& version, pid_t* new_pid) {
  // The new daemon is started by the old one (setsid); once the old exits it is re-parented to
  // the nearest child subreaper: this process, so it can be reaped and stopped by pid.
  ::prctl(PR_SET_CHILD_SUBREAPER, 1);
  const pid_t old_pid = daemon_.pid();
  const std::string body = "{\"hostname\": \"" + host() + "\", \"version\": \"" + version + "\"}";
  auto r = api("PUT", "/l3af/configs/v1/restart", body);
  if (r.status != 200) return r;
  const auto start = std::chrono::steady_clock::now();
  pid_t now = 0;
  while (std::chrono::steady_clock::now() - start < std::chrono::seconds(5)) {
    now = pid_file_value();
    if (now != 0 && now != old_pid) break;
    sleep_ms(20);
  }
  EXPECT_NE(now, old_pid) << "the PID file names a new process within 5 s (L3AF e2e)";
  EXPECT_NE(now, 0);
  EXPECT_EQ(daemon_.wait_exit(10000), 0) << "the old process exits 0 after the handover";
  if (now != 0 && now != old_pid) daemon_.adopt(now);
  if (new_pid != nullptr) *new_pid = now;
  return r;
}

void DaemonFixture::TearDown() {
  if (daemon_.running()) {
    const int rc = stop_daemon();
    if (expect_clean_stop_) {
      EXPECT_EQ(rc, 0) << "l3afd exit status on SIGTERM";
      EXPECT_EQ(bpffs_files(), std::vector<std::string>{}) << "pins left after a clean stop";
      EXPECT_FALSE(fs::exists(pid_file_)) << "pid file left after a clean stop";
    }
  }
  // graceful_restart() made this process a child subreaper: undo it, so that later tests'
  // orphans (companions of a killed daemon) go to init as they expect.
  ::prctl(PR_SET_CHILD_SUBREAPER, 0);
  if (HasFailure()) std::fprintf(stderr, "---- l3afd log ----\n%s\n----\n", daemon_log().c_str());
}

// ---- DaemonFixture: HTTP ---------------------------------------------------------------------

test::HttpResult DaemonFixture::api(const std::string& method, const std::string& target,
                                    const std::string& body) const {
  if (api_tls_) {
    const auto t = test::tls_request(api_port_, method, target, *api_tls_, body);
    test::HttpResult r;
    r.status = t.status;
    r.body = t.body;
    r.error = t.error;
    return r;
  }
  return test::request("127.0.0.1", api_port_, method, target, body);
}

test::HttpResult DaemonFixture::add(const std::vector<model::L3afBpfPrograms>& v) const {
  return api("POST", "/l3af/configs/v1/add", model::encode(v));
}

test::HttpResult DaemonFixture::update(const std::vector<model::L3afBpfPrograms>& v) const {
  return api("POST", "/l3af/configs/v1/update", model::encode(v));
}

test::HttpResult DaemonFixture::remove(const std::vector<model::L3afBpfProgramNames>& v) const {
  std::string body = "[";
  for (std::size_t i = 0; i < v.size(); ++i) {
    const auto& e = v[i];
    if (i > 0) body += ',';
    auto list = [](const std::optional<std::vector<std::string>>& l) {
      if (!l) return std::string("null");
      std::string s = "[";
      for (std::size_t k = 0; k < l->size(); ++k) s += (k > 0 ? ",\"" : "\"") + (*l)[k] + "\"";
      return s + "]";
    };
    body += "{\"host_name\":\"" + e.host_name + "\",\"iface\":\"" + e.iface +
            "\",\"ipv4_address\":\"" + e.ipv4_address + "\",\"bpf_programs\":";
    if (!e.bpf_programs) {
      body += "null}";
      continue;
    }
    body += "{\"xdp_ingress\":" + list(e.bpf_programs->xdp_ingress) +
            ",\"tc_ingress\":" + list(e.bpf_programs->tc_ingress) +
            ",\"tc_egress\":" + list(e.bpf_programs->tc_egress) +
            ",\"probes\":" + list(e.bpf_programs->probes) + "}}";
  }
  body += "]";
  return api("POST", "/l3af/configs/v1/delete", body);
}

test::HttpResult DaemonFixture::get(const std::string& iface) const {
  return api("GET", "/l3af/configs/v1/" + iface);
}

test::HttpResult DaemonFixture::get_all() const {
  return api("GET", "/l3af/configs/v1");
}

std::vector<DebugEntry> DaemonFixture::bpfs(const std::string& iface) const {
  std::vector<DebugEntry> out;
  auto r = test::request("127.0.0.1", debug_port_, "GET", "/bpfs/" + iface);
  EXPECT_EQ(r.status, 200) << r.error;
  auto root = json::parse(r.body);
  EXPECT_TRUE(root.has_value()) << r.body;
  if (!root || root->kind != json::Node::Kind::List) return out;
  for (const auto& e : root->elements) {
    DebugEntry d;
    if (const auto* p = member(e, "Program")) {
      d.name = string_of(member(*p, "name"));
      d.direction_hint = string_of(member(*p, "prog_type"));
      d.map_name = string_of(member(*p, "map_name"));
    }
    d.prev_map_name_path = string_of(member(e, "PrevMapNamePath"));
    d.prog_map_id = number_of(member(e, "ProgMapID"));
    d.prev_prog_map_id = number_of(member(e, "PrevProgMapID"));
    d.prog_id = number_of(member(e, "ProgID"));
    d.link_id = number_of(member(e, "LinkID"));
    d.attach_mode = string_of(member(e, "AttachMode"));
    d.map_name_path = string_of(member(e, "MapNamePath"));
    out.push_back(d);
  }
  return out;
}

std::string DaemonFixture::metrics() const {
  auto r = test::request("127.0.0.1", metrics_port_, "GET", "/metrics");
  EXPECT_EQ(r.status, 200) << r.error;
  return r.body;
}

std::optional<uint64_t> DaemonFixture::monitor_value(const std::string& iface,
                                                     const std::string& label) const {
  std::istringstream in(metrics());
  std::string line;
  while (std::getline(in, line)) {
    if (!line.starts_with("l3afd_BPFMonitorMap{")) continue;
    if (line.find("interface_name=\"" + iface + "\"") == std::string::npos) continue;
    if (line.find("map_name=\"" + label + "\"") == std::string::npos) continue;
    const auto sp = line.rfind(' ');
    return std::strtoull(line.c_str() + sp + 1, nullptr, 10);
  }
  return std::nullopt;
}

std::string DaemonFixture::state_bytes() const {
  if (!fs::exists(store_)) return "<absent>";
  return read_file(store_);
}

// ---- payloads --------------------------------------------------------------------------------

std::string DaemonFixture::host() {
  char buf[256] = {};
  if (::gethostname(buf, sizeof(buf) - 1) != 0) return "localhost";
  return buf;
}

model::BpfProgram DaemonFixture::xdp_counter(const std::string& version, int64_t config_value) {
  model::BpfProgram p;
  p.id = 101;
  p.name = "xdp-counter";
  p.seq_id = 1;
  p.artifact = "l3af_xdp_counter.tar.gz";
  p.map_name = "xdp_counter_next_prog";
  p.version = version;
  p.admin_status = "enabled";
  p.prog_type = "xdp";
  p.cfg_version = 1;
  p.map_args = std::vector<model::MapArg>{
      {"xdp_counter_config", std::vector<model::KeyValue>{{0, config_value}}}};
  p.monitor_maps = std::vector<model::MonitorMap>{{"xdp_counter_packets", 0, "scalar"}};
  p.object_file = "xdp_counter.bpf.o";
  p.entry_function_name = "xdp_counter";
  return p;
}

model::BpfProgram DaemonFixture::chain_counter(char c, int64_t seq, const std::string& version) {
  model::BpfProgram p;
  p.name = std::string("chain-") + c;
  p.seq_id = seq;
  p.artifact = std::string("l3af_chain_") + c + ".tar.gz";
  p.map_name = "chain_next";
  p.version = version;
  p.admin_status = "enabled";
  p.prog_type = "xdp";
  p.object_file = "xdp_chain_counter.bpf.o";
  p.entry_function_name = "xdp_chain_counter";
  return p;
}

model::BpfProgram DaemonFixture::tc_counter(const std::string& version) {
  model::BpfProgram p;
  p.id = 202;
  p.name = "tc-counter";
  p.seq_id = 1;
  p.artifact = "l3af_tc_counter.tar.gz";
  p.map_name = "tc_counter_next_prog";
  p.version = version;
  p.admin_status = "enabled";
  p.prog_type = "tc";
  p.monitor_maps = std::vector<model::MonitorMap>{{"tc_counter_packets", 0, "scalar"}};
  p.object_file = "tc_counter.bpf.o";
  p.entry_function_name = "tc_counter";
  return p;
}

namespace {
std::optional<std::vector<model::BpfProgram>> one(const std::optional<model::BpfProgram>& p) {
  if (!p) return std::nullopt;
  return std::vector<model::BpfProgram>{*p};
}
}  // namespace

model::L3afBpfPrograms DaemonFixture::entry(const std::string& iface,
                                            std::optional<model::BpfProgram> xdp,
                                            std::optional<model::BpfProgram> tc_in,
                                            std::optional<model::BpfProgram> tc_eg) {
  model::L3afBpfPrograms e;
  e.host_name = host();
  e.iface = iface;
  e.ipv4_address = "198.18.200.1";
  e.bpf_programs = model::BpfPrograms{one(xdp), one(tc_in), one(tc_eg), std::nullopt};
  return e;
}

model::L3afBpfProgramNames DaemonFixture::names(const std::string& iface,
                                                std::vector<std::string> xdp,
                                                std::vector<std::string> tc_in,
                                                std::vector<std::string> tc_eg) {
  model::L3afBpfProgramNames n;
  n.host_name = host();
  n.iface = iface;
  n.bpf_programs =
      model::BpfProgramNames{std::move(xdp), std::move(tc_in), std::move(tc_eg), std::nullopt};
  return n;
}

model::L3afBpfPrograms DaemonFixture::view(const std::string& iface, const std::string& ipv4,
                                           std::optional<model::BpfProgram> xdp,
                                           std::optional<model::BpfProgram> tc_in,
                                           std::optional<model::BpfProgram> tc_eg) {
  model::L3afBpfPrograms e = entry(iface, std::move(xdp), std::move(tc_in), std::move(tc_eg));
  e.ipv4_address = ipv4;
  return e;
}

// ---- kernel ----------------------------------------------------------------------------------

KernelSnapshot DaemonFixture::kernel_snapshot(const std::vector<std::string>& ifaces) const {
  KernelSnapshot s;
  if (daemon_.running()) {
    const fs::path fdinfo = "/proc/" + std::to_string(daemon_.pid()) + "/fdinfo";
    std::error_code ec;
    for (const auto& de : fs::directory_iterator(fdinfo, ec)) {
      std::istringstream in(read_file(de.path()));
      std::string line;
      while (std::getline(in, line)) {
        auto take = [&](const char* key, std::vector<uint32_t>& into) {
          if (line.starts_with(key)) {
            into.push_back(
                static_cast<uint32_t>(std::strtoul(line.c_str() + std::strlen(key), nullptr, 10)));
          }
        };
        take("prog_id:", s.daemon_prog_ids);
        take("link_id:", s.daemon_link_ids);
        take("map_id:", s.daemon_map_ids);
      }
    }
    for (auto* v : {&s.daemon_prog_ids, &s.daemon_link_ids, &s.daemon_map_ids}) {
      std::sort(v->begin(), v->end());
      v->erase(std::unique(v->begin(), v->end()), v->end());
    }
  }
  s.pins = pin_listing();
  for (const auto& i : ifaces) s.attached[i] = attached_programs(i);
  return s;
}

std::string KernelSnapshot::describe() const {
  std::ostringstream o;
  auto ids = [&](const char* n, const std::vector<uint32_t>& v) {
    o << n << ":";
    for (auto i : v) o << ' ' << i;
    o << '\n';
  };
  ids("daemon progs", daemon_prog_ids);
  ids("daemon links", daemon_link_ids);
  ids("daemon maps", daemon_map_ids);
  for (const auto& [p, what] : pins) o << "pin " << p << " = " << what << '\n';
  for (const auto& [i, a] : attached) {
    o << "iface " << i << ": xdp " << a.xdp;
    ids(" tcx-in", a.tcx_ingress);
    ids("  tcx-eg", a.tcx_egress);
    ids("  cls-in", a.classic_ingress);
    ids("  cls-eg", a.classic_egress);
  }
  return o.str();
}

}  // namespace l3afd::e2e
