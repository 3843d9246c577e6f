// Reading PEM certificates and what the daemon checks on them: validity windows (expiry
// warnings, docs/compatibility.md §8.4 "Certificate monitoring"), DNS names, the clientAuth
// extended key usage. OpenSSL does the parsing; nothing here verifies signatures.
#pragma once

#include <openssl/x509.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

#include "core/result.h"

namespace l3afd::tls {

using TimePoint = std::chrono::system_clock::time_point;

/// What is checked on one certificate of a file.
struct CertificateFacts {
  std::string subject;  ///< RFC 2253 one-line form
  TimePoint not_before;
  TimePoint not_after;
};

/// Every certificate of a PEM file, in file order. Errors: Io when the file cannot be read
/// (message names the path, sys_errno set); InvalidPayload when it holds no certificate or a
/// damaged one (message names the path and OpenSSL's reason).
Result<std::vector<CertificateFacts>> read_pem_certificates(const std::filesystem::path& path);

/// One finding of check_validity().
struct ValidityFinding {
  bool error = false;  ///< true: not valid now (expired or not yet valid); false: expires soon
  std::string message;
};

/// Findings for `certs` (read from `path`, described as `role`, e.g. "client CA") at `now`:
/// expired or not yet valid (error), or expiring within `warning_days` (warning). Nothing for a
/// certificate valid for longer than that.
std::vector<ValidityFinding> check_validity(std::string_view role,
                                            const std::filesystem::path& path,
                                            const std::vector<CertificateFacts>& certs,
                                            TimePoint now, int warning_days);

/// The DNS names of the certificate's subject alternative name extension, as written.
std::vector<std::string> dns_names(X509* cert);
/// The subject's last common name, "" when it has none.
std::string common_name(X509* cert);
/// The RFC 2253 one-line subject.
std::string subject_text(X509* cert);
/// Whether the certificate carries an extended key usage extension that lists clientAuth (a
/// certificate without the extension does not qualify: §8.4 requires the usage on the leaf).
bool has_client_auth_usage(X509* cert);

/// OpenSSL's queued errors as one line ("" when none), clearing the thread's queue.
std::string take_openssl_errors();

}  // namespace l3afd::tls
