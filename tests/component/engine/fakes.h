// Test doubles for the engine's non-kernel ports, sharing the fake kernel's Injector so that a
// package fetch or a state save is an injectable step like any kernel call.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <vector>

#include "engine/ports.h"
#include "kernel/fake/injector.h"

namespace l3afd::testing {

class FakePackages final : public engine::PackageSource {
 public:
  explicit FakePackages(kernel::fake::Injector& inj) : inj_(inj) {}
  Result<engine::Package> fetch(const engine::PackageRef& r) override {
    if (r.repo_url.find("unreachable") != std::string::npos) {
      return fail(Errc::Unavailable, "cannot reach " + r.repo_url);
    }
    if (auto s = inj_.hit("fetch " + r.name); !s) return fail(std::move(s.error()));
    const std::string k = r.name + "@" + r.version;
    bool fresh = cache_.insert(k).second;
    return engine::Package{"/cache/" + r.name + "/" + r.version + "/pkg", fresh};
  }
  Status remove(const engine::PackageRef& r) override {
    if (auto s = inj_.hit("remove package " + r.name); !s) return s;
    cache_.erase(r.name + "@" + r.version);
    return ok();
  }
  bool still_cached(const engine::PackageRef& r, const engine::Package&) override {
    return cache_.contains(r.name + "@" + r.version);
  }
  const std::set<std::string>& cache() const { return cache_; }

 private:
  kernel::fake::Injector& inj_;
  std::set<std::string> cache_;
};

/// Companion processes as a model: which ids run with which request, what ran once, what was
/// stopped or updated. start/run_once/stop/update are injectable steps. `exit()` plays a
/// process that died on its own: the handler gets the exit as the real supervisor would post it.
class FakeCompanions final : public engine::Companions {
 public:
  explicit FakeCompanions(kernel::fake::Injector& inj) : inj_(inj) {}

  void on_exit(std::function<void(engine::CompanionExit)> handler) override {
    handler_ = std::move(handler);
  }
  Status check(const engine::CompanionRequest& r) override {
    if (r.program.cmd_start.find("..") != std::string::npos) {
      return fail(Error{
          .code = Errc::InvalidPayload,
          .message = "cmd_start leaves the package",
          .items = {ErrorItem{.field = "cmd_start", .message = "cmd_start leaves the package"}}});
    }
    return ok();
  }
  Result<engine::CompanionProcess> start(const engine::CompanionRequest& r) override {
    if (auto s = inj_.hit("start companion " + r.id); !s) return fail(std::move(s.error()));
    if (on_start) on_start(r);
    if (fail_starts_ > 0) {
      --fail_starts_;
      return fail(Errc::Kernel, "injected: companion would not start");
    }
    std::lock_guard lk(mu_);
    if (running_.contains(r.id)) return fail(Errc::Conflict, r.id + " already running");
    if (auto it = survivors_.find(r.id); it != survivors_.end()) {
      const int pid = it->second;
      survivors_.erase(it);
      running_[r.id] = r;
      pids_[r.id] = pid;
      return engine::CompanionProcess{.pid = pid, .start_time = 1, .adopted = true};
    }
    running_[r.id] = r;
    pids_[r.id] = next_pid_;
    ++starts_;
    return engine::CompanionProcess{.pid = next_pid_++, .start_time = 1, .adopted = false};
  }
  Status run_once(const engine::CompanionRequest& r, std::chrono::milliseconds) override {
    if (auto s = inj_.hit("run companion " + r.id); !s) return s;
    std::lock_guard lk(mu_);
    ran_.push_back(r);
    if (one_shot_exit_ != 0) {
      return fail(Errc::Kernel,
                  r.program.cmd_start + " exited with status " + std::to_string(one_shot_exit_));
    }
    return ok();
  }
  Status stop(const engine::CompanionRequest& r) override {
    if (auto s = inj_.hit("stop companion " + r.id); !s) return s;
    std::lock_guard lk(mu_);
    if (running_.erase(r.id) == 0) return fail(Errc::NotFound, r.id + " is not running");
    pids_.erase(r.id);
    stopped_.push_back(r.id);
    return ok();
  }
  Status update(const engine::CompanionRequest& r) override {
    if (auto s = inj_.hit("update companion " + r.id); !s) return s;
    std::lock_guard lk(mu_);
    updated_.push_back(r);
    return ok();
  }
  Result<bool> running(const engine::CompanionRequest& r) override {
    std::lock_guard lk(mu_);
    ++status_checks_;
    return running_.contains(r.id) && !unhealthy_.contains(r.id);
  }
  /// cmd_status of `id` stops reporting RUNNING (its process stays alive).
  void set_unhealthy(const std::string& id, bool bad) {
    std::lock_guard lk(mu_);
    if (bad) {
      unhealthy_.insert(id);
    } else {
      unhealthy_.erase(id);
    }
  }
  int status_checks() const {
    std::lock_guard lk(mu_);
    return status_checks_;
  }
  std::size_t stop_unclaimed() override { return 0; }

  /// The process of `id` dies (signal 9): forgotten, and reported through the handler.
  void exit(const std::string& id) {
    int pid = 0;
    {
      std::lock_guard lk(mu_);
      if (running_.erase(id) == 0) return;
      pid = pids_[id];
      pids_.erase(id);
    }
    handler_(engine::CompanionExit{.id = id, .pid = pid, .signaled = true, .code = 9});
  }
  /// A process of a previous run still alive: the next start() of `id` adopts it.
  void survive(const std::string& id, int pid) {
    std::lock_guard lk(mu_);
    survivors_[id] = pid;
  }
  std::map<std::string, engine::CompanionRequest> running() const {
    std::lock_guard lk(mu_);
    return running_;
  }
  int pid_of(const std::string& id) const {
    std::lock_guard lk(mu_);
    auto it = pids_.find(id);
    return it == pids_.end() ? 0 : it->second;
  }
  std::vector<engine::CompanionRequest> ran() const {
    std::lock_guard lk(mu_);
    return ran_;
  }
  std::vector<std::string> stopped() const {
    std::lock_guard lk(mu_);
    return stopped_;
  }
  std::vector<engine::CompanionRequest> updated() const {
    std::lock_guard lk(mu_);
    return updated_;
  }
  int starts() const {
    std::lock_guard lk(mu_);
    return starts_;
  }
  void set_one_shot_exit(int code) { one_shot_exit_ = code; }
  /// Plays what the started binary does (e.g. FakeKernel::simulate_self_load).
  std::function<void(const engine::CompanionRequest&)> on_start;
  void fail_next_starts(int n) { fail_starts_ = n; }

 private:
  kernel::fake::Injector& inj_;
  std::function<void(engine::CompanionExit)> handler_;
  mutable std::mutex mu_;
  std::map<std::string, engine::CompanionRequest> running_;
  std::map<std::string, int> pids_;
  std::map<std::string, int> survivors_;
  std::set<std::string> unhealthy_;
  int status_checks_ = 0;
  std::vector<engine::CompanionRequest> ran_;
  std::vector<std::string> stopped_;
  std::vector<engine::CompanionRequest> updated_;
  int next_pid_ = 1000;
  int starts_ = 0;
  int one_shot_exit_ = 0;
  std::atomic<int> fail_starts_{0};
};

}  // namespace l3afd::testing
