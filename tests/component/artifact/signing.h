// Test support for signed repositories: real ed25519 keys generated with OpenSSL, detached
// signatures in the format `openssl pkeyutl -sign -rawin` writes (64 raw bytes), SHA256SUMS
// listings and SHA-256 digests.
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

struct evp_pkey_st;

namespace l3afd::artifact::testing {

/// A fresh ed25519 key pair (EVP_PKEY_Q_keygen). Throws std::runtime_error when OpenSSL fails.
class TestKey {
 public:
  TestKey();
  /// PEM "PUBLIC KEY" (SubjectPublicKeyInfo), what a trust directory holds.
  std::string public_pem() const;
  /// PEM "PRIVATE KEY" (PKCS#8), what `openssl genpkey -algorithm ed25519` writes.
  std::string private_pem() const;
  /// The raw 64-byte ed25519 signature of `data`.
  std::string sign(std::string_view data) const;

 private:
  std::shared_ptr<::evp_pkey_st> key_;
};

/// Lower-case hex SHA-256 of `data`.
std::string sha256_hex(std::string_view data);

/// Writes `dir`/SHA256SUMS listing every regular file of `dir` (except SHA256SUMS and
/// SHA256SUMS.sig, in name order, "<hex>  <name>" lines) and `dir`/SHA256SUMS.sig signed by
/// `key`. Returns the listing.
std::string sign_directory(const std::filesystem::path& dir, const TestKey& key);

/// Writes `content` to `path` (creating parents), replacing any file.
void write_file(const std::filesystem::path& path, std::string_view content);
/// The bytes of `path` ("" when unreadable).
std::string read_file(const std::filesystem::path& path);

}  // namespace l3afd::artifact::testing
