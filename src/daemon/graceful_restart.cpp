#include "daemon/graceful_restart.h"

#include <unistd.h>

#include <optional>

#include "core/log.h"
#include "daemon/handover.h"
#include "restart/install_layout.h"
#include "restart/latest_links.h"
#include "restart/version.h"

namespace l3afd::daemon {

namespace {

std::filesystem::path self_exe() {
  std::error_code ec;
  auto p = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? std::filesystem::path() : p;
}

Error rolled_back(const Error& cause) {
  Error e = cause;
  e.code = Errc::RestartFailed;
  e.message = "graceful restart failed and was rolled back: " + cause.to_string();
  e.context.clear();
  return e;
}

}  // namespace

GracefulRestart::GracefulRestart(GracefulRestartOptions options, api::WriteGate& gate,
                                 engine::Engine& engine, PidFile& pid_file, Hooks hooks)
    : options_(std::move(options)),
      gate_(gate),
      engine_(engine),
      pid_file_(pid_file),
      hooks_(std::move(hooks)) {}

bool GracefulRestart::handed_over() const {
  std::lock_guard lock(mu_);
  return handed_over_;
}

Status GracefulRestart::restart(const api::RestartRequest& req, const std::string& request_id) {
  auto version = restart::parse_restart_version(req.version, options_.version_limit);
  if (!version) return fail(std::move(version.error()));
  if (!gate_.close()) {
    return fail(Errc::RestartInProgress,
                "We are currently in the middle of a restart. Please attempt again after a while.");
  }
  spdlog::info("graceful restart to {} requested: writes refused, supervision paused", *version);
  (void)engine_.submit(engine::PauseSupervision{true}, request_id).get();
  Status st = hand_over(*version);
  if (st) return st;
  (void)engine_.submit(engine::PauseSupervision{false}, request_id).get();
  gate_.open();
  spdlog::error("{}", st.error().to_string());
  return st;
}

Status GracefulRestart::restart_latest() {
  auto running = restart::running_version(options_.basepath);
  if (!running) return fail(std::move(running.error()));
  api::RestartRequest req;
  req.version = running->value_or(options_.running_version);
  return restart(req, "");
}

Status GracefulRestart::hand_over(const std::string& version) {
  const auto started = std::chrono::steady_clock::now();
  // Which binary and config: the install layout (§16.1), or this process again without it.
  auto running = restart::running_version(options_.basepath);
  if (!running) return fail(rolled_back(running.error()));
  std::filesystem::path binary;
  std::filesystem::path config;
  std::optional<restart::LatestLinks> links;
  bool staged = false;
  const auto undo_install = [&] {
    if (links) {
      if (auto st = links->rollback(); !st) {
        spdlog::error("graceful restart: restoring {}/latest: {}", options_.basepath.string(),
                      st.error().to_string());
      }
    }
    if (staged) {
      if (auto st = restart::remove_release(options_.basepath, version); !st) {
        spdlog::error("graceful restart: removing {}: {}", version, st.error().to_string());
      }
    }
  };
  if (!running->has_value()) {
    if (version != options_.running_version) {
      return fail(rolled_back(Error{
          .code = Errc::NotFound,
          .message = (options_.basepath / "latest" / "l3afd").string() +
                     " does not exist (no install layout, docs/operations.md): only a restart "
                     "to the running version " +
                     options_.running_version + " is possible"}));
    }
    binary = self_exe();
    config = options_.config_path;
    if (binary.empty()) {
      return fail(rolled_back(Error{.code = Errc::Io, .message = "cannot read /proc/self/exe"}));
    }
  } else {
    if (**running != version) {
      spdlog::info("graceful restart: fetching {} from {} (running {})", version,
                   options_.artifacts_url, **running);
      if (auto st = restart::stage_release(options_.basepath, version, options_.artifacts_url,
                                           options_.fetch);
          !st) {
        return fail(rolled_back(st.error()));
      }
      staged = true;
      auto l = restart::LatestLinks::repoint(options_.basepath, version);
      if (!l) {
        undo_install();
        return fail(rolled_back(l.error()));
      }
      links = std::move(*l);
    }
    binary = restart::latest_binary(options_.basepath);
    config = restart::latest_config(options_.basepath);
  }

  auto successor = spawn_successor(binary, config);
  if (!successor) {
    undo_install();
    return fail(rolled_back(successor.error()));
  }
  spdlog::info("graceful restart: started {} --config {} pid={}", binary.string(), config.string(),
               successor->pid);
  const auto timeout =
      std::chrono::duration_cast<std::chrono::milliseconds>(options_.time_to_restart);
  Status st =
      send_handover(successor->channel.get(), hooks_.state(), hooks_.descriptors(), timeout);
  if (st) {
    st = wait_ready(*successor, timeout);
  } else if (auto why = wait_ready(*successor, std::chrono::seconds(1));
             !why && why.error().code == Errc::RestartFailed) {
    st = std::move(why);  // it exited before reading: its exit status says why, not EPIPE
  }
  if (!st) {
    kill_successor(*successor);
    if (auto w = pid_file_.write_own(); !w) {
      spdlog::error("graceful restart: {}", w.error().to_string());
    }
    undo_install();
    return fail(rolled_back(st.error()));
  }
  {
    std::lock_guard lock(mu_);
    handed_over_ = true;
  }
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                      std::chrono::steady_clock::now() - started)
                      .count();
  spdlog::info("graceful restart: pid {} serves ({} ms); this process exits", successor->pid, ms);
  // The successor outlives us: forget it without killing it.
  successor->pidfd.reset();
  if (hooks_.handed_over) hooks_.handed_over();
  return ok();
}

}  // namespace l3afd::daemon
