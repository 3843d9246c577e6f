// The certificates of one TLS listener (docs/compatibility.md §8.4, docs/security.md): builds
// the OpenSSL context from the configured files, verifies clients (only the configured CA,
// clientAuth usage on the leaf, anchored SAN rules) and swaps in renewed files while the
// listener runs. Implements api::http::TlsSource.
#pragma once

#include <sys/stat.h>

#include <array>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "api/http/tls_source.h"
#include "core/result.h"
#include "tls/certificates.h"
#include "tls/san_rules.h"

namespace l3afd::tls {

enum class MinVersion { Tls12, Tls13 };

struct ServerTlsSettings {
  std::string name = "api";         ///< the listener, for log lines
  std::filesystem::path ca_file;    ///< client CA bundle; used only with require_client_cert
  std::filesystem::path cert_file;  ///< server certificate chain (leaf first), PEM
  std::filesystem::path key_file;   ///< its private key, PEM
  /// mTLS: a client certificate is required and verified against ca_file only (never the system
  /// trust store), its leaf must carry clientAuth, and san_rules apply. false: server-side TLS.
  bool require_client_cert = true;
  std::vector<std::string> san_rules;  ///< see SanRules; empty = no restriction
  MinVersion min_version = MinVersion::Tls13;
  int expiry_warning_days = 30;
};

/// Thread-safety: every member may be called from any thread.
class ServerTls : public api::http::TlsSource {
 public:
  /// Reads and checks the files. Errors: Io when a file cannot be read (naming it), InvalidPayload
  /// when a certificate or key is damaged, the key does not match the certificate, or a SAN rule
  /// is not a valid regular expression.
  static Result<std::shared_ptr<ServerTls>> load(ServerTlsSettings settings);

  std::shared_ptr<boost::asio::ssl::context> context() const override;
  bool verify(bool preverified, X509_STORE_CTX* ctx, std::string& reason) const override;
  api::http::TlsPeer authorize(SSL* ssl) const override;

  /// Rebuilds the context when one of the files changed (inode, size, modification or change
  /// time) since the last attempt. New connections use the new certificates, established ones
  /// keep theirs. A failed rebuild (a renewal half written, a key that does not match yet) is
  /// logged once and the certificates in use stay; the next change is tried again.
  /// Returns true when new certificates were taken.
  bool reload_if_changed();
  /// Rebuilds the context now (SIGHUP). On error the certificates in use stay.
  Status reload();
  /// Validity of the server certificate and, with mTLS, of every client CA certificate, read
  /// from the files in use: errors (expired, not yet valid) and warnings (within
  /// expiry_warning_days). Logs each finding (error/warn) when `log` is set.
  std::vector<ValidityFinding> check_expiry(TimePoint now, bool log = true) const;

  const ServerTlsSettings& settings() const { return settings_; }

 private:
  /// What identifies one version of a file.
  struct Stamp {
    dev_t dev = 0;
    ino_t ino = 0;
    off_t size = -1;
    timespec mtime{};
    timespec ctime{};
    bool operator==(const Stamp& o) const;
  };
  using Stamps = std::array<Stamp, 3>;

  ServerTls(ServerTlsSettings settings, SanRules rules)
      : settings_(std::move(settings)), rules_(std::move(rules)) {}
  Stamps stamp_files() const;
  Result<std::shared_ptr<boost::asio::ssl::context>> build() const;

  const ServerTlsSettings settings_;
  const SanRules rules_;
  mutable std::mutex mu_;
  std::shared_ptr<boost::asio::ssl::context> context_;  ///< guarded by mu_
  Stamps stamps_{};                                     ///< guarded by mu_
};

}  // namespace l3afd::tls
