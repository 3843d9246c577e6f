// What a TLS listener needs from whoever owns its certificates (the daemon's tls module): the
// context for each new connection, the per-certificate verification hook and the decision on a
// verified client. Kept abstract so that api/http holds no certificate policy (which CA, which
// EKU, which SAN rules) and so that certificates can be replaced while the server runs.
#pragma once

#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <boost/asio/ssl/context.hpp>
#include <memory>
#include <string>

namespace l3afd::api::http {

/// The outcome of authorize(): whether the client may be served and who it is.
struct TlsPeer {
  bool allowed = true;
  std::string identity;  ///< for log lines: first DNS SAN, else subject CN; "" = no certificate
  std::string reason;    ///< why it is refused (answered as 403 forbidden), "" when allowed
};

/// Thread-safety: every member may be called from any io thread at any time.
class TlsSource {
 public:
  virtual ~TlsSource() = default;
  /// The context a new connection uses: the certificates current at accept time. A connection
  /// keeps its context alive for its lifetime, so replacing certificates never disturbs it.
  virtual std::shared_ptr<boost::asio::ssl::context> context() const = 0;
  /// Called by OpenSSL for each certificate of the client's chain during the handshake (leaf
  /// last, depth 0). Returns whether the handshake may go on; on false `reason` says why (it is
  /// logged with the refused handshake).
  virtual bool verify(bool preverified, X509_STORE_CTX* ctx, std::string& reason) const = 0;
  /// Called once after a completed handshake. A refused peer gets 403 for every request of the
  /// connection and its requests never reach a handler.
  virtual TlsPeer authorize(SSL* ssl) const = 0;
};

}  // namespace l3afd::api::http
