// Start-up sequence (docs/compatibility.md §1.2, Ours):
//  1. read and validate the config (one line naming file, section, key on error)
//  2. logging (L3AF_LOG_LEVEL, json-format-logs, file-log-location)
//  3. PID file + single-instance lock
//  4. kernel gate; bpffs mounted at BpfMapDefaultPath if it is not, tracefs if it is not
//  5. adapters: kernel (libbpf), package repository, state store; engine
//  6. listeners: API (503 not_ready until 8), metrics, debug
//  7. signals blocked in every thread, handled by sigwait on the main thread
//  8. restore the persisted state through the planner, sweep residue of unfinished changes
//     (daemon/residue.h), then mark ready and start the engine
//  9. wait for a signal; SIGHUP reloads TLS certificates, nothing else (D44)
// 10. stop: listeners closed, engine drained, every program detached and unloaded within
//     shutdown-timeout (the store is kept, so the next start redeploys), PID file removed
// Graceful restart (daemon/graceful_restart.h, docs/operations.md): the old process, once its
// successor is ready, drains its listeners and exits 0 leaving programs, pins, companions and
// the PID file to the successor. The new process (L3AFD_HANDOVER_FD set) takes the PID file
// and the listening sockets handed over, restores (adopting the live kernel state) before it
// serves, then writes the PID file and says "ready".
#include "daemon/app.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>
#include <csignal>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <future>
#include <optional>
#include <thread>

#include "api/bpf_stats_routes.h"
#include "api/http/server.h"
#include "api/metrics_routes.h"
#include "api/restart_routes.h"
#include "api/routes.h"
#include "api/write_gate.h"
#include "artifact/artifact.h"
#include "config/config.h"
#include "config/host_port.h"
#include "core/log.h"
#include "daemon/bpffs.h"
#include "daemon/graceful_restart.h"
#include "daemon/handover.h"
#include "daemon/handover_state.h"
#include "daemon/listener_tls.h"
#include "daemon/package_bridge.h"
#include "daemon/package_trust.h"
#include "daemon/pid_file.h"
#include "daemon/residue.h"
#include "daemon/tracefs.h"
#include "engine/engine.h"
#include "kernel/libbpf/libbpf_kernel.h"
#include "kernel/libbpf/link_watch.h"
#include "kernel/libbpf/stats_fd.h"
#include "kernel/stats_switch.h"
#include "metrics/request_metrics.h"
#include "store/json_file_store.h"
#include "store/ownership_journal.h"
#include "supervisor/companions.h"
#include "tls/certificate_watcher.h"

namespace l3afd::daemon {

namespace {

/// The handover channel of a new process of a graceful restart (-1: a normal start): a fatal
/// error is reported on it before the process exits, so the old process rolls back at once.
int g_handover_channel = -1;

int fatal(const std::string& msg) {
  std::fprintf(stderr, "l3afd: %s\n", msg.c_str());
  spdlog::critical("{}", msg);
  if (g_handover_channel >= 0) (void)send_verdict(g_handover_channel, false, msg);
  return 1;
}

/// The port of a configured "host:port" listen address (nullopt when unparsable).
std::optional<std::uint16_t> configured_port(const std::string& address) {
  const auto colon = address.rfind(':');
  if (colon == std::string::npos) return std::nullopt;
  unsigned v = 0;
  const std::string digits = address.substr(colon + 1);
  if (digits.empty() || digits.size() > 5) return std::nullopt;
  for (char c : digits) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + static_cast<unsigned>(c - '0');
  }
  if (v > 65535) return std::nullopt;
  return static_cast<std::uint16_t>(v);
}

/// The local port of a listening socket (0 when unknown).
std::uint16_t bound_port(int fd) {
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0) return 0;
  if (ss.ss_family == AF_INET) return ntohs(reinterpret_cast<sockaddr_in*>(&ss)->sin_port);
  if (ss.ss_family == AF_INET6) return ntohs(reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port);
  return 0;
}

/// Takes the descriptor named `name` out of a handover (invalid if absent).
UniqueFd take_fd(std::optional<HandoverMessage>& h, std::string_view name) {
  if (!h) return {};
  for (auto& [n, fd] : h->fds) {
    if (n == name) return std::move(fd);
  }
  return {};
}

std::string host_name() {
  char buf[256] = {};
  if (::gethostname(buf, sizeof(buf) - 1) != 0) return "localhost";
  return buf;
}

kernel::TcMode tc_mode(config::TcAttachMode m) {
  switch (m) {
    case config::TcAttachMode::Tcx: return kernel::TcMode::Tcx;
    case config::TcAttachMode::Classic: return kernel::TcMode::Classic;
    case config::TcAttachMode::Auto: break;
  }
  return kernel::TcMode::Auto;
}

/// Options of one listener. `request_log_level`: info for the API (one line per request);
/// debug for metrics and debug, which are polled.
api::http::ServerOptions server_options(const config::DaemonConfig& cfg, std::string address,
                                        const char* name,
                                        spdlog::level::level_enum request_log_level,
                                        std::shared_ptr<tls::ServerTls> tls) {
  api::http::ServerOptions o;
  o.tls = std::move(tls);
  o.address = std::move(address);
  o.max_body_bytes = cfg.l3af_configs.max_body_size;
  o.max_header_bytes = cfg.l3af_configs.max_header_size;
  o.read_timeout = cfg.l3af_configs.read_timeout;
  o.write_timeout = cfg.l3af_configs.write_timeout;
  o.name = name;
  o.request_log_level = request_log_level;
  // Write handlers wait for the engine; extra threads keep GETs answered meanwhile.
  o.threads = 4;
  return o;
}

}  // namespace

int run(const std::filesystem::path& config_path) {
  // 1. config
  auto cfg_r = config::load_config(config_path);
  if (!cfg_r) return fatal(cfg_r.error().to_string());
  config::DaemonConfig cfg = std::move(*cfg_r);
  // Paths are made absolute once, so that FilePath in the debug listing, logs and the PID file
  // name the same file whatever the working directory of a reader.
  for (std::string* p :
       {&cfg.l3afd.pid_file, &cfg.l3afd.bpf_dir, &cfg.l3af_config_store.filename}) {
    if (!p->empty()) *p = std::filesystem::absolute(*p).lexically_normal().string();
  }

  // 2. logging
  const char* lvl = std::getenv("L3AF_LOG_LEVEL");
  log::setup(cfg.l3afd.json_format_logs ? log::Format::Json : log::Format::Console,
             lvl != nullptr ? lvl : "info", cfg.l3afd.file_log_location);
  for (const auto& w : cfg.warnings) spdlog::warn("config: {}", w);
  spdlog::info("l3afd starting version={} config={}", L3AFD_VERSION, config_path.string());

  // Graceful restart, new process: what the old process hands over (daemon/handover.h).
  std::optional<HandoverMessage> handover;
  HandoverState inherited;
  UniqueFd handover_channel;
  if (const char* v = std::getenv(kHandoverFdEnv); v != nullptr) {
    const int fd = std::atoi(v);
    ::unsetenv(kHandoverFdEnv);  // not for the companions this process starts
    if (fd < 3 || ::fcntl(fd, F_SETFD, FD_CLOEXEC) != 0) {
      return fatal(std::string(kHandoverFdEnv) + "=" + v + ": not an open descriptor");
    }
    handover_channel = UniqueFd(fd);
    g_handover_channel = fd;
    auto h = receive_handover(fd, std::chrono::seconds(10));
    if (!h) return fatal("graceful restart: " + h.error().to_string());
    auto state = decode_handover_state(h->state);
    if (!state) return fatal("graceful restart: " + state.error().to_string());
    inherited = std::move(*state);
    handover = std::move(*h);
    spdlog::info("graceful restart: taking over from l3afd {} descriptors={}",
                 inherited.from_version, handover->fds.size());
  }

  // TLS (docs/compatibility.md §8.4, docs/security.md): the certificates are read before
  // anything else is touched, so a missing or damaged file stops the start naming it.
  std::shared_ptr<tls::ServerTls> api_tls;
  std::shared_ptr<tls::ServerTls> metrics_tls;
  std::shared_ptr<tls::ServerTls> debug_tls;
  if (std::string why; api_mtls_required(cfg, why)) {
    auto t = listener_tls(cfg, "api", true);
    if (!t) return fatal(config_path.string() + ": " + t.error().to_string());
    api_tls = std::move(*t);
    spdlog::info("api: mTLS on ({}) cert={} client_ca={} min_tls_version={} san_rules={}", why,
                 api_tls->settings().cert_file.string(), api_tls->settings().ca_file.string(),
                 config::tls_version_name(cfg.mtls.min_tls_version),
                 cfg.mtls.san_match_rules.empty()
                     ? std::string("none (any client of the CA)")
                     : std::to_string(cfg.mtls.san_match_rules.size()));
  } else if (!is_loopback_listen_address(cfg.l3af_configs.restapi_addr)) {
    spdlog::warn(
        "api: plain HTTP on {}, which is not loopback: whoever reaches it can load "
        "programs (set [mtls] enabled: true, docs/security.md)",
        cfg.l3af_configs.restapi_addr);
  }
  const auto optional_tls = [&](config::ListenerTls mode, const char* name,
                                std::shared_ptr<tls::ServerTls>& out) -> Status {
    if (mode == config::ListenerTls::Off) return ok();
    auto t = listener_tls(cfg, name, mode == config::ListenerTls::Mtls);
    if (!t) return fail(std::move(t.error()));
    out = std::move(*t);
    return ok();
  };
  if (auto st = optional_tls(cfg.web.metrics_tls, "metrics", metrics_tls); !st) {
    return fatal(config_path.string() + ": [web] metrics-tls: " + st.error().to_string());
  }
  if (cfg.ebpf_chain_debug.enabled) {
    if (auto st = optional_tls(cfg.ebpf_chain_debug.tls, "debug", debug_tls); !st) {
      return fatal(config_path.string() + ": [ebpf-chain-debug] tls: " + st.error().to_string());
    }
  }
  if (cfg.l3afd.chain_write_order_original) {
    spdlog::warn(
        "[l3afd] chain-write-order: original-unsafe: chain changes cut the chain while they "
        "run (l3afd v2.1.0 order); for tests only");
  }

  // 3. PID file and single-instance lock (handed over: the old process's locked descriptor)
  auto pid = handover ? PidFile::adopt(cfg.l3afd.pid_file, take_fd(handover, "pid"))
                      : PidFile::acquire(cfg.l3afd.pid_file);
  if (!pid) return fatal(pid.error().to_string());

  // 4. kernel gate
  auto gate = kernel_at_least(cfg.l3afd.kernel_major_version, cfg.l3afd.kernel_minor_version);
  if (!gate) return fatal(gate.error().to_string());
  if (!*gate) {
    return fatal("kernel is older than the configured minimum " +
                 std::to_string(cfg.l3afd.kernel_major_version) + "." +
                 std::to_string(cfg.l3afd.kernel_minor_version));
  }

  if (auto st = ensure_bpffs(cfg.l3afd.bpf_map_default_path); !st) {
    return fatal("[l3afd] BpfMapDefaultPath: " + st.error().to_string());
  }
  // Before the first load (libbpf picks its tracefs path once). Not fatal: only objects with
  // classic tracepoint programs need it, and their load then says why it failed.
  if (auto tf = ensure_tracefs(); !tf) {
    spdlog::warn("tracefs unavailable, classic tracepoint programs cannot attach: {}",
                 tf.error().to_string());
  }

  // 7 (early). Block the stop signals before any thread starts, so that only sigwait sees them.
  sigset_t sigs;
  sigemptyset(&sigs);
  // SIGUSR1: a graceful restart handed over (internal); SIGUSR2: graceful restart to what
  // <basepath>/latest points to (systemctl reload).
  for (int s : {SIGINT, SIGTERM, SIGQUIT, SIGHUP, SIGUSR1, SIGUSR2}) sigaddset(&sigs, s);
  pthread_sigmask(SIG_BLOCK, &sigs, nullptr);
  ::signal(SIGPIPE, SIG_IGN);

  // Renewed certificate files are picked up while the listeners run; validity is checked daily.
  std::optional<tls::CertificateWatcher> cert_watch;
  {
    std::vector<std::shared_ptr<tls::ServerTls>> watched;
    for (const auto& t : {api_tls, metrics_tls, debug_tls}) {
      if (t) watched.push_back(t);
    }
    if (!watched.empty()) cert_watch.emplace(std::move(watched), cfg.mtls.cert_reload_interval);
  }

  // 5. adapters and engine
  auto platform = artifact::detect_platform();
  if (!platform) return fatal(platform.error().to_string());
  // Signed package repositories: a bad key file or a require policy without keys stops the start.
  auto package_trust = load_package_trust(cfg.ebpf_repo, config_path);
  if (!package_trust) return fatal(package_trust.error().to_string());
  artifact::FetchOptions fo;
  fo.cache_root = cfg.l3afd.bpf_dir;
  fo.platform = *platform;
  fo.timeout = cfg.l3afd.http_client_timeout;
  fo.max_download_bytes = cfg.l3afd.download_max_size;
  fo.trust = *package_trust;  // also the daemon's release packages (gro.fetch below)
  artifact::RepositorySource repo(fo);
  PackageBridge packages(repo);
  // The change lock is taken on the bpffs root the layout uses (kernel.h lock_for_change()).
  kernel::libbpf::LibbpfKernel kern({.lock_dir = cfg.l3afd.bpf_map_default_path});
  store::JsonFileStore store(cfg.l3af_config_store.filename);
  store::FileOwnershipJournal journal(
      store::FileOwnershipJournal::next_to(cfg.l3af_config_store.filename));

  const std::string host = host_name();
  engine::EngineConfig ec;
  ec.planner.default_repo_url = cfg.ebpf_repo.url;
  ec.planner.layout = layout::BpffsLayout(cfg.l3afd.bpf_map_default_path);
  ec.planner.tc_mode = tc_mode(cfg.l3afd.tc_attach_mode);
  ec.planner.host_name = host;
  ec.root_names = {cfg.xdp_root.package_name, cfg.tc_root.package_name};
  ec.chaining = cfg.l3afd.bpf_chaining_enabled;
  ec.planner.chaining = cfg.l3afd.bpf_chaining_enabled;
  ec.planner.xdp_root = {cfg.xdp_root.package_name,
                         cfg.xdp_root.version,
                         cfg.xdp_root.artifact,
                         cfg.xdp_root.object_file,
                         cfg.xdp_root.entry_function_name,
                         cfg.xdp_root.ingress_map_name};
  ec.planner.tc_ingress_root = {cfg.tc_root.package_name,
                                cfg.tc_root.version,
                                cfg.tc_root.artifact,
                                cfg.tc_root.ingress_object_file,
                                cfg.tc_root.ingress_entry_function_name,
                                cfg.tc_root.ingress_map_name};
  ec.planner.tc_egress_root = {cfg.tc_root.package_name,
                               cfg.tc_root.version,
                               cfg.tc_root.artifact,
                               cfg.tc_root.egress_object_file,
                               cfg.tc_root.egress_entry_function_name,
                               cfg.tc_root.egress_map_name};
  ec.planner.chain_order = cfg.l3afd.chain_write_order_original
                               ? engine::ChainOrder::OriginalUnsafe
                               : engine::ChainOrder::MakeBeforeBreak;
  ec.retire_grace =
      std::chrono::duration_cast<std::chrono::milliseconds>(cfg.l3afd.retire_grace_period);
  ec.restart_limits.max_restarts = cfg.l3afd.max_ebpf_restart_count;
  ec.health_interval =
      std::chrono::duration_cast<std::chrono::milliseconds>(cfg.web.ebpf_poll_interval);
  ec.one_shot_timeout =
      std::chrono::duration_cast<std::chrono::milliseconds>(cfg.l3afd.user_program_timeout);

  // Companion programs (docs/compatibility.md §11): their output in a capped log per program,
  // their pids recorded beside the store so that the next run adopts them instead of starting
  // a second copy.
  supervisor::CompanionsOptions co;
  const std::filesystem::path state_dir =
      cfg.l3af_config_store.filename.empty()
          ? std::filesystem::path(cfg.l3afd.bpf_dir)
          : std::filesystem::path(cfg.l3af_config_store.filename).parent_path();
  co.log_dir = cfg.l3afd.bpf_log_dir.size() > 1 ? std::filesystem::path(cfg.l3afd.bpf_log_dir)
                                                : state_dir / "companion-logs";
  if (!cfg.l3af_config_store.filename.empty()) {
    co.record_file = cfg.l3af_config_store.filename + ".companions";
  }
  co.bpf_log_dir = cfg.l3afd.bpf_log_dir;
  co.stop_grace = std::chrono::duration_cast<std::chrono::milliseconds>(cfg.l3afd.shutdown_timeout);
  co.command_timeout =
      std::chrono::duration_cast<std::chrono::milliseconds>(cfg.l3afd.user_program_timeout);
  auto companions = supervisor::PosixCompanions::create(co);
  if (!companions) return fatal("companion programs: " + companions.error().to_string());
  spdlog::info("companions log_dir={} record={}", co.log_dir.string(), co.record_file.string());

  engine::Engine engine(ec, kern, packages, store, &journal, companions->get());
  // The supervisor's thread posts exits into the engine: it must be gone before the engine is.
  struct StopInOrder {
    engine::Engine& engine;
    std::unique_ptr<supervisor::PosixCompanions>& companions;
    ~StopInOrder() {
      engine.stop();
      companions.reset();
    }
  } stop_in_order{engine, *companions};

  // monitor_maps max-rate/avg: one sample per second (docs/compatibility.md §12.2).
  api::MonitorSampler sampler([&engine] { return engine.snapshot(); },
                              static_cast<std::size_t>(cfg.web.n_metric_samples));

  // BPF run statistics (issue 10): off unless [l3afd] bpf-stats-enabled holds them for the
  // lifetime or PUT .../bpf-stats for a while (kernel/stats_switch.h). Outlives the listeners.
  kernel::StatsSwitch bpf_stats(kernel::libbpf::open_run_time_stats);
  if (cfg.l3afd.bpf_stats_enabled) {
    if (auto st = bpf_stats.hold_for_lifetime(); !st) {
      spdlog::error("[l3afd] bpf-stats-enabled: BPF run statistics stay off: {}",
                    st.error().to_string());
    } else {
      spdlog::info("BPF run statistics on for the daemon's lifetime ([l3afd] bpf-stats-enabled)");
    }
  }

  // 6. listeners
  std::atomic<bool> ready{false};
  api::WriteGate write_gate;
  api::ApiDeps deps{engine, host, ready, &write_gate};
  // l3afd_api_request_duration_seconds: the API listener's requests (docs/metrics.md).
  metrics::RequestMetrics requests(host);
  std::unique_ptr<api::http::Server> api_srv;
  std::unique_ptr<api::http::Server> metrics_srv;
  std::unique_ptr<api::http::Server> debug_srv;

  // Graceful restart, old side (daemon/graceful_restart.h). Its hooks read the listeners above,
  // which exist before a restart can be requested.
  GracefulRestartOptions gro;
  gro.basepath = cfg.graceful_restart.basepath;
  gro.artifacts_url = cfg.graceful_restart.restart_artifacts_url;
  gro.time_to_restart = cfg.graceful_restart.time_to_restart;
  gro.version_limit = cfg.graceful_restart.version_limit;
  gro.config_path = std::filesystem::absolute(config_path).lexically_normal();
  gro.running_version = std::string("v") + L3AFD_VERSION;
  gro.fetch = fo;
  const pid_t main_pid = ::getpid();
  // Copies of the companions' output pipes, alive while a handover sends them.
  std::vector<std::pair<pid_t, UniqueFd>> handover_pipes;
  GracefulRestart restarter(std::move(gro), write_gate, engine, *pid,
                            GracefulRestart::Hooks{
                                .descriptors =
                                    [&] {
                                      std::vector<std::pair<std::string, int>> fds;
                                      if (api_srv) fds.emplace_back("api", api_srv->listen_fd());
                                      if (metrics_srv)
                                        fds.emplace_back("metrics", metrics_srv->listen_fd());
                                      if (debug_srv)
                                        fds.emplace_back("debug", debug_srv->listen_fd());
                                      fds.emplace_back("pid", pid->fd());
                                      handover_pipes = (*companions)->output_pipes();
                                      for (const auto& [cpid, fd] : handover_pipes) {
                                        fds.emplace_back("companion-output:" + std::to_string(cpid),
                                                         fd.get());
                                      }
                                      return fds;
                                    },
                                .state =
                                    [&engine] {
                                      HandoverState st;
                                      st.from_version = L3AFD_VERSION;
                                      st.counters = engine.snapshot()->counters;
                                      return encode_handover_state(st);
                                    },
                                .handed_over = [main_pid] { ::kill(main_pid, SIGUSR1); },
                            });

  // A listening socket handed over is used when the configured port still matches it (a new
  // version's config may move a listener: then it binds anew and the old socket is closed).
  const auto listen_options = [&](api::http::ServerOptions o, std::string_view name) {
    UniqueFd fd = take_fd(handover, name);
    if (!fd) return o;
    const auto want = configured_port(o.address);
    if (want && *want != 0 && *want != bound_port(fd.get())) {
      spdlog::warn("graceful restart: the {} listener moved to {}: binding anew", name, o.address);
      return o;
    }
    o.listen_fd = fd.release();
    return o;
  };
  const auto start_listeners = [&]() -> int {
    auto api_options = listen_options(
        server_options(cfg, cfg.l3af_configs.restapi_addr, "api", spdlog::level::info, api_tls),
        "api");
    api_options.on_request = [&requests](std::string_view method, std::string_view route,
                                         int status, std::chrono::nanoseconds elapsed) {
      requests.observe(method, route, status, std::chrono::duration<double>(elapsed).count());
    };
    api::http::Router api_router = api::make_api_router(deps);
    api::add_bpf_stats_routes(api_router, bpf_stats, ready);
    api::add_restart_route(api_router, restarter, host, ready);
    auto a = api::http::Server::start(std::move(api_options), std::move(api_router));
    if (!a) return fatal("[l3af-configs] restapi-addr: " + a.error().to_string());
    api_srv = std::move(*a);
    auto m = api::http::Server::start(
        listen_options(
            server_options(cfg, cfg.web.metrics_addr, "metrics", spdlog::level::debug, metrics_tls),
            "metrics"),
        api::make_metrics_router(engine, sampler, host, &requests, &kern, &bpf_stats));
    if (!m) return fatal("[web] metrics-addr: " + m.error().to_string());
    metrics_srv = std::move(*m);
    if (cfg.ebpf_chain_debug.enabled) {
      auto d = api::http::Server::start(
          listen_options(server_options(cfg, cfg.ebpf_chain_debug.addr, "debug",
                                        spdlog::level::debug, debug_tls),
                         "debug"),
          api::make_debug_router(deps));
      if (!d) return fatal("[ebpf-chain-debug] addr: " + d.error().to_string());
      debug_srv = std::move(*d);
    }
    // Handed over but not wanted by this config (debug switched off, a listener moved).
    if (handover) handover->fds.clear();
    spdlog::info("listening api={} api_port={} metrics={} metrics_port={}{}",
                 cfg.l3af_configs.restapi_addr, api_srv->port(), cfg.web.metrics_addr,
                 metrics_srv->port(),
                 debug_srv ? " debug=" + cfg.ebpf_chain_debug.addr : std::string());
    return 0;
  };
  // A normal start listens at once and answers 503 not_ready until restored (D47). A new process
  // of a graceful restart listens only once restored: until then the old process, on the same
  // sockets, serves every connection, so no client sees a refusal it would not have seen anyway.
  if (!handover) {
    if (int rc = start_listeners(); rc != 0) return rc;
  } else {
    engine.inherit_counters(inherited.counters);
    std::vector<std::pair<pid_t, UniqueFd>> pipes;
    for (auto& [name, fd] : handover->fds) {
      constexpr std::string_view kPrefix = "companion-output:";
      if (!name.starts_with(kPrefix) || !fd) continue;
      pipes.emplace_back(static_cast<pid_t>(std::atol(name.c_str() + kPrefix.size())),
                         std::move(fd));
    }
    (*companions)->inherit_output_pipes(std::move(pipes));
  }

  // 8. restore
  auto saved = store.load();
  if (!saved) {
    return fatal(saved.error().to_string() +
                 " (the file was left untouched; fix or move it away to start empty)");
  }
  // The definitions a graceful restart carries, as l3afd v2.1.0's hand-over makes them (§5.1).
  if (handover) normalize_as_handed_over(*saved);
  // What the previous run recorded as its own (read before the restore records anew): the
  // only pins the residue sweep below may remove.
  auto recorded = journal.load();
  if (!recorded) {
    spdlog::warn("{}: the residue sweep is skipped (nothing a previous run left is removed)",
                 recorded.error().to_string());
  } else if (!recorded->has_value()) {
    spdlog::info("no ownership journal at {}: the residue sweep has nothing it may remove",
                 journal.path().string());
  }
  if (recorded && recorded->has_value()) engine.inherit_owned(**recorded);
  if (!saved->empty()) {
    spdlog::info("restoring interfaces count={} path={}", saved->size(), store.path().string());
    engine::RestoreState restore{*saved, find_pinned_links(ec.planner.layout)};
    if (auto st = engine.run_now(restore); !st) {
      spdlog::error("restore incomplete (failed interfaces are kept pending): {}",
                    st.error().to_string());
    }
  }
  // A change applied but never committed (crash before the state was written) is undone here.
  // Under the bpffs change lock, like every change (docs/chain-protocol.md §7). Without the lock
  // the sweep is skipped and the inherited record kept, so the next start can sweep instead.
  if (recorded && recorded->has_value()) {
    if (auto lock = kern.lock_for_change(); !lock) {
      spdlog::error("residue sweep skipped: {}", lock.error().to_string());
    } else {
      sweep_residue(ec.planner.layout, *engine.snapshot(), **recorded);
      if (auto st = engine.settle_owned(); !st) spdlog::error("{}", st.error().to_string());
    }
  } else if (auto st = engine.settle_owned(); !st) {
    spdlog::error("{}", st.error().to_string());
  }
  // Companions a previous run started for programs that are no longer wanted.
  if (const auto n = (*companions)->stop_unclaimed(); n > 0) {
    spdlog::info("stopped companions no program claims count={}", n);
  }
  engine.start();
  sampler.start();
  // Interface events (issue 11, interface drift): an interface with programs deleted or created
  // again is checked at once; the health check's poll stays the fallback.
  std::unique_ptr<kernel::libbpf::LinkWatch> link_watch;
  if (auto w = kernel::libbpf::LinkWatch::start(
          [&engine](const std::string& name) {
            return engine.snapshot()->state.ifaces.contains(name);
          },
          [&engine] { (void)engine.submit(engine::CheckHealth{}); });
      w) {
    link_watch = std::move(*w);
  } else {
    spdlog::warn("no interface events (interface drift is noticed at the next poll only): {}",
                 w.error().to_string());
  }
  // Restored: a new process of a graceful restart answers its very first request (its
  // listeners start only now, already ready).
  ready = true;
  if (handover) {
    if (int rc = start_listeners(); rc != 0) return rc;
  }
  if (handover) {
    // The PID file names this process before the old one is told to go (the L3AF e2e suite
    // watches it change).
    if (auto st = pid->write_own(); !st) return fatal(st.error().to_string());
    if (auto st = send_verdict(handover_channel.get(), true); !st) {
      spdlog::warn("graceful restart: telling the old process: {}", st.error().to_string());
    }
    g_handover_channel = -1;
    spdlog::info("graceful restart: serving; the old process exits");
  }
  spdlog::info("ready");
  // systemd (Type=notify, NotifyAccess=all): ready, and which process is the service now (a new
  // process of a graceful restart names itself before the old one exits). No-op without
  // NOTIFY_SOCKET.
  (void)sd_notifyf(0, "READY=1\nMAINPID=%lu", static_cast<unsigned long>(::getpid()));

  // 9. wait for a stop signal; meanwhile retry restored entries whose interface was absent,
  //    so they are applied once it appears (D9: restore never drops desired state).
  for (;;) {
    const timespec retry_every{5, 0};
    const int sig = sigtimedwait(&sigs, nullptr, &retry_every);
    if (sig < 0) {
      if (errno == EAGAIN && !engine.snapshot()->pending.empty()) {
        auto st = engine.submit(engine::RetryPending{}).get();
        if (!st) spdlog::warn("applying pending entries failed: {}", st.error().to_string());
      }
      continue;
    }
    if (sig == SIGHUP) {
      if (cert_watch) {
        spdlog::info("SIGHUP received: reloading the TLS certificates (programs keep running)");
        cert_watch->reload_now();
      } else {
        spdlog::info("SIGHUP received: ignored (programs keep running)");
      }
      continue;
    }
    if (sig == SIGUSR2) {
      // Local upgrade (docs/operations.md): restart into what <basepath>/latest points to now.
      spdlog::info("SIGUSR2 received: graceful restart into {}/latest",
                   cfg.graceful_restart.basepath);
      (void)sd_notify(0, "RELOADING=1");
      if (auto st = restarter.restart_latest(); !st) {
        spdlog::error("SIGUSR2: {}", st.error().to_string());
        (void)sd_notify(0, "READY=1");
      }
      if (!restarter.handed_over()) continue;
    } else if (sig == SIGUSR1) {
      if (!restarter.handed_over()) continue;  // not ours: a restart sends it only when done
    } else {
      spdlog::info("stopping signal={}", sig);
      (void)sd_notify(0, "STOPPING=1");
      break;
    }
    // 10'. handed over to a successor that serves: answer what is being answered, then exit
    //      without touching programs, pins, companions or the PID file.
    link_watch.reset();
    sampler.stop();
    {
      std::vector<std::thread> drains;
      for (auto* srv : {api_srv.get(), metrics_srv.get(), debug_srv.get()}) {
        if (srv != nullptr) drains.emplace_back([srv] { srv->drain(std::chrono::seconds(5)); });
      }
      for (auto& t : drains) t.join();
    }
    engine.stop();
    pid->leave_to_successor();
    spdlog::info("handed over to the new process; exiting");
    return 0;
  }

  // 10. stop
  ready = false;
  if (link_watch) link_watch->stop();
  api_srv->stop();
  metrics_srv->stop();
  if (debug_srv) debug_srv->stop();
  auto stopped = engine.submit(engine::StopAll{});
  int rc = 0;
  if (stopped.wait_for(cfg.l3afd.shutdown_timeout) != std::future_status::ready) {
    spdlog::error("programs not stopped within shutdown-timeout shutdown_timeout_ms={}",
                  cfg.l3afd.shutdown_timeout.count());
    pid->remove();
    std::_Exit(1);  // the engine thread is still busy; do not wait for it
  }
  if (auto st = stopped.get(); !st) {
    spdlog::error("stopping programs failed: {}", st.error().to_string());
    rc = 1;
  }
  engine.stop();
  // Companions stopped by StopAll get their whole grace (SIGTERM, then SIGKILL after
  // shutdown-timeout) before the supervisor goes (§11.3).
  if (!(*companions)
           ->wait_stopped(std::chrono::steady_clock::now() + cfg.l3afd.shutdown_timeout +
                          std::chrono::seconds(1))) {
    spdlog::warn("companions still stopping at exit");
  }
  pid->remove();
  spdlog::info("stopped");
  return rc;
}

}  // namespace l3afd::daemon
