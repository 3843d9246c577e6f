// Certificates made by tests (OpenSSL): a CA that issues server and client certificates with
// the names, usages and validity windows a test needs, as PEM text. EC P-256 keys, SHA-256.
#pragma once

#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace l3afd::test {

enum class Usage { None, ServerAuth, ClientAuth };

struct CertSpec {
  std::string common_name = "test";
  std::vector<std::string> dns;     ///< subjectAltName DNS entries
  std::vector<std::string> ips;     ///< subjectAltName IP entries
  Usage usage = Usage::ClientAuth;  ///< extended key usage (None: no extension at all)
  /// Validity window relative to now.
  std::chrono::seconds not_before{-std::chrono::hours(1)};
  std::chrono::seconds not_after{std::chrono::hours(24 * 90)};
};

struct Issued {
  std::string cert_pem;
  std::string key_pem;
};

/// A self-signed CA.
class TestCa {
 public:
  explicit TestCa(const std::string& common_name,
                  std::chrono::seconds not_after = std::chrono::hours(24 * 365));
  ~TestCa();
  TestCa(const TestCa&) = delete;
  TestCa& operator=(const TestCa&) = delete;

  const std::string& cert_pem() const { return cert_pem_; }
  Issued issue(const CertSpec& spec) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::string cert_pem_;
};

/// Writes `text` to `path` (replacing it), mode 0600.
void write_text(const std::filesystem::path& path, const std::string& text);

}  // namespace l3afd::test
