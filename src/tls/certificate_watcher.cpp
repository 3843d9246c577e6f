#include "tls/certificate_watcher.h"

#include <spdlog/spdlog.h>

namespace l3afd::tls {

CertificateWatcher::CertificateWatcher(std::vector<std::shared_ptr<ServerTls>> listeners,
                                       std::chrono::milliseconds poll,
                                       std::chrono::milliseconds expiry_every)
    : listeners_(std::move(listeners)),
      poll_(std::max(poll, std::chrono::milliseconds(1))),
      expiry_every_(expiry_every),
      thread_([this](std::stop_token st) { run(std::move(st)); }) {}

CertificateWatcher::~CertificateWatcher() {
  thread_.request_stop();
  cv_.notify_all();
}

void CertificateWatcher::reload_now() {
  for (const auto& l : listeners_) {
    if (auto st = l->reload(); !st) {
      spdlog::error("{}: tls: reload refused, keeping the certificates in use: {}",
                    l->settings().name, st.error().to_string());
    }
  }
}

void CertificateWatcher::run(std::stop_token stop) {
  using Clock = std::chrono::steady_clock;
  auto next_expiry = Clock::now();
  while (!stop.stop_requested()) {
    if (Clock::now() >= next_expiry) {
      for (const auto& l : listeners_) l->check_expiry(std::chrono::system_clock::now());
      next_expiry = Clock::now() + expiry_every_;
    }
    for (const auto& l : listeners_) l->reload_if_changed();
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, stop, poll_, [] { return false; });
  }
}

}  // namespace l3afd::tls
