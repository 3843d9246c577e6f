// A real Prometheus server (Debian's prometheus) for the e2e tests that check what a scraper
// sees (metrics_test.cpp, dashboards_test.cpp), and the shipped scrape configuration pointed at
// a test daemon. Test-only.
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cctype>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "support/http_client.h"

namespace l3afd::e2e {

/// The shipped packaging/prometheus.yml with its target replaced by 127.0.0.1:`metrics_port`
/// and every scrape_interval set to 1 s, written to `dir`/prometheus.yml. Returns the file's
/// text ("" if the shipped file could not be read or has no target to replace).
inline std::string write_prometheus_config(const std::filesystem::path& dir,
                                           uint16_t metrics_port) {
  std::ifstream in(std::filesystem::path(L3AFD_SOURCE_DIR) / "packaging" / "prometheus.yml");
  std::string cfg, line;
  bool target = false;
  while (std::getline(in, line)) {
    if (line.find("scrape_interval") != std::string::npos) line = "  scrape_interval: 1s";
    const auto t = line.find("localhost:8898");
    if (t != std::string::npos) {
      line.replace(t, 14, "127.0.0.1:" + std::to_string(metrics_port));
      target = true;
    }
    cfg += line + "\n";
  }
  if (!target) return "";
  std::ofstream(dir / "prometheus.yml") << cfg;
  return cfg;
}

/// A real Prometheus server (Debian's prometheus) on 127.0.0.1 of the test's namespace, killed
/// with the test (PR_SET_PDEATHSIG) and in the destructor, by its pid.
class PrometheusServer {
 public:
  PrometheusServer(const std::filesystem::path& dir, const std::filesystem::path& config,
                   uint16_t port)
      : port_(port) {
    const std::string cfg = "--config.file=" + config.string();
    const std::string data = "--storage.tsdb.path=" + (dir / "prometheus-data").string();
    const std::string listen = "--web.listen-address=127.0.0.1:" + std::to_string(port);
    const std::string log = (dir / "prometheus.log").string();
    // Resolved before the fork: the child only makes async-signal-safe calls until execv.
    std::string bin;
    for (const char* d : {"/usr/bin/", "/usr/local/bin/", "/bin/"}) {
      if (::access((std::string(d) + "prometheus").c_str(), X_OK) == 0) {
        bin = std::string(d) + "prometheus";
        break;
      }
    }
    if (bin.empty()) return;  // started() is false: install-deps installs Debian's prometheus
    const char* argv[] = {"prometheus", cfg.c_str(), data.c_str(), listen.c_str(), nullptr};
    pid_ = ::fork();
    if (pid_ == 0) {
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
      if (fd >= 0) {
        ::dup2(fd, 1);
        ::dup2(fd, 2);
      }
      ::execv(bin.c_str(), const_cast<char* const*>(argv));
      ::_exit(127);
    }
  }
  ~PrometheusServer() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGTERM);
    for (int i = 0; i < 100; ++i) {
      if (::waitpid(pid_, nullptr, WNOHANG) == pid_) return;
      ::usleep(50'000);
    }
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
  PrometheusServer(const PrometheusServer&) = delete;
  PrometheusServer& operator=(const PrometheusServer&) = delete;
  bool started() const { return pid_ > 0; }
  /// GET /api/v1/query?query=<q> (every byte but [A-Za-z0-9_.-] percent-encoded); the body.
  std::string query(const std::string& q) const {
    std::string enc;
    for (char c : q) {
      if (std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.') {
        enc += c;
      } else {
        char b[4];
        std::snprintf(b, sizeof(b), "%%%02X", static_cast<unsigned char>(c));
        enc += b;
      }
    }
    return test::request("127.0.0.1", port_, "GET", "/api/v1/query?query=" + enc).body;
  }

 private:
  pid_t pid_ = -1;
  uint16_t port_;
};

}  // namespace l3afd::e2e
