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
//  9. wait for a signal; SIGHUP is logged and ignored (D44)
// 10. stop: listeners closed, engine drained, every program detached and unloaded within
//     shutdown-timeout (the store is kept, so the next start redeploys), PID file removed
#include "daemon/app.h"

#include <signal.h>
#include <unistd.h>
#include <csignal>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <future>
#include <thread>

#include "api/bpf_stats_routes.h"
#include "api/http/server.h"
#include "api/metrics_routes.h"
#include "api/routes.h"
#include "artifact/artifact.h"
#include "config/config.h"
#include "config/host_port.h"
#include "core/log.h"
#include "daemon/bpffs.h"
#include "daemon/package_bridge.h"
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

namespace l3afd::daemon {

namespace {

int fatal(const std::string& msg) {
  std::fprintf(stderr, "l3afd: %s\n", msg.c_str());
  spdlog::critical("{}", msg);
  return 1;
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
                                        spdlog::level::level_enum request_log_level) {
  api::http::ServerOptions o;
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

  if (cfg.mtls.enabled) {
    return fatal(config_path.string() +
                 ": [mtls] enabled: mTLS is not supported by this version of l3afd yet; set "
                 "'enabled: false' and keep the API listener on loopback");
  }
  if (cfg.l3afd.chain_write_order_original) {
    spdlog::warn(
        "[l3afd] chain-write-order: original-unsafe: chain changes cut the chain while they "
        "run (l3afd v2.1.0 order); for tests only");
  }

  // 3. PID file and single-instance lock
  auto pid = PidFile::acquire(cfg.l3afd.pid_file);
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
  for (int s : {SIGINT, SIGTERM, SIGQUIT, SIGHUP}) sigaddset(&sigs, s);
  pthread_sigmask(SIG_BLOCK, &sigs, nullptr);
  ::signal(SIGPIPE, SIG_IGN);

  // 5. adapters and engine
  auto platform = artifact::detect_platform();
  if (!platform) return fatal(platform.error().to_string());
  artifact::FetchOptions fo;
  fo.cache_root = cfg.l3afd.bpf_dir;
  fo.platform = *platform;
  fo.timeout = cfg.l3afd.http_client_timeout;
  fo.max_download_bytes = cfg.l3afd.download_max_size;
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
  api::ApiDeps deps{engine, host, ready};
  // l3afd_api_request_duration_seconds: the API listener's requests (docs/metrics.md).
  metrics::RequestMetrics requests(host);
  auto api_options = server_options(cfg, cfg.l3af_configs.restapi_addr, "api", spdlog::level::info);
  api_options.on_request = [&requests](std::string_view method, std::string_view route, int status,
                                       std::chrono::nanoseconds elapsed) {
    requests.observe(method, route, status, std::chrono::duration<double>(elapsed).count());
  };
  api::http::Router api_router = api::make_api_router(deps);
  api::add_bpf_stats_routes(api_router, bpf_stats, ready);
  auto api_srv = api::http::Server::start(std::move(api_options), std::move(api_router));
  if (!api_srv) return fatal("[l3af-configs] restapi-addr: " + api_srv.error().to_string());
  auto metrics_srv = api::http::Server::start(
      server_options(cfg, cfg.web.metrics_addr, "metrics", spdlog::level::debug),
      api::make_metrics_router(engine, sampler, host, &requests, &kern, &bpf_stats));
  if (!metrics_srv) return fatal("[web] metrics-addr: " + metrics_srv.error().to_string());
  std::unique_ptr<api::http::Server> debug_srv;
  if (cfg.ebpf_chain_debug.enabled) {
    auto d = api::http::Server::start(
        server_options(cfg, cfg.ebpf_chain_debug.addr, "debug", spdlog::level::debug),
        api::make_debug_router(deps));
    if (!d) return fatal("[ebpf-chain-debug] addr: " + d.error().to_string());
    debug_srv = std::move(*d);
  }
  spdlog::info("listening api={} api_port={} metrics={} metrics_port={}{}",
               cfg.l3af_configs.restapi_addr, (*api_srv)->port(), cfg.web.metrics_addr,
               (*metrics_srv)->port(),
               debug_srv ? " debug=" + cfg.ebpf_chain_debug.addr : std::string());

  // 8. restore
  auto saved = store.load();
  if (!saved) {
    return fatal(saved.error().to_string() +
                 " (the file was left untouched; fix or move it away to start empty)");
  }
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
  ready = true;
  spdlog::info("ready");

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
      spdlog::info("SIGHUP received: ignored (programs keep running)");
      continue;
    }
    spdlog::info("stopping signal={}", sig);
    break;
  }

  // 10. stop
  ready = false;
  if (link_watch) link_watch->stop();
  (*api_srv)->stop();
  (*metrics_srv)->stop();
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
