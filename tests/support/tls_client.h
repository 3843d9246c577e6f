// One HTTPS request for tests (OpenSSL over a blocking socket with a safety timeout), with the
// client certificate, trust anchor and TLS version a test chooses. "Connection: close".
#pragma once

#include <cstdint>
#include <string>

namespace l3afd::test {

struct TlsClientOptions {
  std::string ca_file;    ///< PEM to verify the server with; empty: the server is not verified
  std::string cert_file;  ///< client certificate (PEM); empty: none is sent
  std::string key_file;
  bool tls12_only = false;  ///< offer TLS 1.2 at most
};

struct TlsResult {
  int status = 0;  ///< 0 when no answer was read (handshake or connection refused)
  std::string body;
  std::string error;      ///< OpenSSL/socket reason when status is 0
  std::string server_cn;  ///< common name of the certificate the server presented
};

TlsResult tls_request(uint16_t port, const std::string& method, const std::string& target,
                      const TlsClientOptions& options, const std::string& body = {});

}  // namespace l3afd::test
