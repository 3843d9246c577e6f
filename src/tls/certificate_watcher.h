// Keeps the TLS listeners' certificates current while the daemon runs: picks up renewed files
// (polled) and checks validity windows daily (docs/compatibility.md §8.4, ours: both the CA and
// the server certificate, warnings within cert-expiry-warning-days, never an exit).
#pragma once

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <stop_token>
#include <thread>
#include <vector>

#include "tls/server_tls.h"

namespace l3afd::tls {

/// One thread for every TLS listener. Thread-safety: reload_now() from any thread.
class CertificateWatcher {
 public:
  /// Starts the thread: every `poll` each listener's reload_if_changed(); every `expiry_every`
  /// (and once at start) each listener's check_expiry(), which logs.
  CertificateWatcher(std::vector<std::shared_ptr<ServerTls>> listeners,
                     std::chrono::milliseconds poll,
                     std::chrono::milliseconds expiry_every = std::chrono::hours(24));
  /// Stops and joins the thread.
  ~CertificateWatcher();
  CertificateWatcher(const CertificateWatcher&) = delete;
  CertificateWatcher& operator=(const CertificateWatcher&) = delete;

  /// Rebuilds every listener's context from the files now (SIGHUP), logging failures.
  void reload_now();

 private:
  void run(std::stop_token stop);

  const std::vector<std::shared_ptr<ServerTls>> listeners_;
  const std::chrono::milliseconds poll_;
  const std::chrono::milliseconds expiry_every_;
  std::mutex mu_;
  std::condition_variable_any cv_;
  std::jthread thread_;  ///< last: started when everything above exists
};

}  // namespace l3afd::tls
