#include "kernel/stats_switch.h"

#include <fstream>
#include <string>

#include "core/log.h"

namespace l3afd::kernel {

const char* stats_source_name(StatsSource s) noexcept {
  switch (s) {
    case StatsSource::Config: return "config";
    case StatsSource::Api: return "api";
    case StatsSource::Sysctl: return "sysctl";
  }
  return "sysctl";
}

StatsSwitch::StatsSwitch(Opener open, std::filesystem::path sysctl)
    : open_(std::move(open)), sysctl_(std::move(sysctl)) {}

StatsSwitch::~StatsSwitch() {
  if (timer_.joinable()) {
    timer_.request_stop();
    changed_.notify_all();
    timer_.join();
  }
}  // the holds close with their members

Status StatsSwitch::hold_for_lifetime() {
  std::lock_guard lock(mutex_);
  if (config_hold_) return ok();
  auto fd = open_();
  if (!fd) return fail(std::move(fd.error()));
  config_hold_ = std::move(*fd);
  return ok();
}

Result<StatsState> StatsSwitch::hold_for(std::chrono::milliseconds duration) {
  {
    std::lock_guard lock(mutex_);
    if (!api_hold_) {
      auto fd = open_();
      if (!fd) return fail(std::move(fd.error()));
      api_hold_ = std::move(*fd);
    }
    api_deadline_ = std::chrono::steady_clock::now() + duration;
    api_until_ = std::chrono::time_point_cast<std::chrono::system_clock::duration>(
        std::chrono::system_clock::now() + duration);
    if (!timer_.joinable()) {
      timer_ = std::jthread([this](std::stop_token stop) { expire_loop(stop); });
    }
  }
  changed_.notify_all();
  return state();
}

StatsState StatsSwitch::release_timed() {
  {
    std::lock_guard lock(mutex_);
    api_hold_.reset();
  }
  changed_.notify_all();
  return state();
}

StatsState StatsSwitch::state() const {
  const bool sysctl = sysctl_on();  // outside the lock: a file read
  std::lock_guard lock(mutex_);
  if (config_hold_) return {true, StatsSource::Config, std::nullopt};
  // The timer may lag behind the deadline by a scheduling delay: a hold past it counts as gone.
  if (api_hold_ && std::chrono::steady_clock::now() < api_deadline_) {
    return {true, StatsSource::Api, api_until_};
  }
  if (sysctl) return {true, StatsSource::Sysctl, std::nullopt};
  return {};
}

void StatsSwitch::expire_loop(std::stop_token stop) {
  std::unique_lock lock(mutex_);
  while (!stop.stop_requested()) {
    if (!api_hold_) {
      changed_.wait(lock, stop, [this] { return api_hold_.valid(); });
      continue;
    }
    const auto deadline = api_deadline_;
    // Wakes at the deadline, or earlier when hold_for()/release_timed() changed it.
    changed_.wait_until(lock, stop, deadline,
                        [&] { return !api_hold_ || api_deadline_ != deadline; });
    if (api_hold_ && api_deadline_ == deadline && std::chrono::steady_clock::now() >= deadline) {
      api_hold_.reset();
      spdlog::info("BPF run statistics: the timed hold (PUT bpf-stats) ended");
    }
  }
}

bool StatsSwitch::sysctl_on() const {
  std::ifstream in(sysctl_);
  std::string v;
  return in && (in >> v) && v == "1";
}

}  // namespace l3afd::kernel
