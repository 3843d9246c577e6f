// Signed package repositories (docs/security-packages.md): which repositories must sign their
// packages, and the ed25519 public keys trusted to sign them.
//
// A repository signs an artifact directory by publishing `SHA256SUMS` (sha256sum lines) and
// `SHA256SUMS.sig`, the raw 64-byte ed25519 signature over the exact bytes of SHA256SUMS. The
// policy of the repository a package comes from decides what happens when they are missing:
//   Off        SHA256SUMS and its signature are not looked at;
//   IfPresent  a published SHA256SUMS must carry a signature by a trusted key and list the
//              artifact with its digest; without SHA256SUMS the artifact is accepted (logged);
//   Require    SHA256SUMS and a valid signature must exist and list the artifact.
//
// Thread-safety: TrustedKeys and RepositoryTrust are immutable after construction; their const
// members may be called from any thread (each verification uses its own OpenSSL context).
#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

// OpenSSL's EVP_PKEY (openssl/types.h), declared here so that this header needs no OpenSSL.
struct evp_pkey_st;

namespace l3afd::artifact {

enum class SignaturePolicy { Off, IfPresent, Require };

/// "off" | "if-present" | "require".
std::string_view signature_policy_name(SignaturePolicy p) noexcept;

/// One `signature-policy-by-url` entry: repositories whose URL starts with `url_prefix`.
struct PolicyRule {
  std::string url_prefix;
  SignaturePolicy policy = SignaturePolicy::IfPresent;
};

/// The ed25519 public keys of a trust directory. Cheap to copy (keys are shared).
class TrustedKeys {
 public:
  TrustedKeys() = default;

  /// Reads every `*.pem` entry of `dir` (in name order; other names are ignored). Each must be
  /// a regular file (symlinks are followed) holding a PEM "PUBLIC KEY" of type ed25519.
  /// A missing `dir` (ENOENT) or an empty path gives an empty set: with no key, nothing signed
  /// can be accepted, which the caller decides to allow (see load_repository_trust).
  /// Errors: InvalidPayload naming the file for a key that is not an ed25519 public key (also a
  /// private key put there by mistake); Io for a directory or file that cannot be read, or a
  /// `dir` that is not a directory.
  static Result<TrustedKeys> load_dir(const std::filesystem::path& dir);

  /// The file name of the first key (in name order) under which `signature` is a valid ed25519
  /// signature of `data` (EVP_DigestVerify), or nullopt when none is. Never fails otherwise.
  std::optional<std::string> verify(std::string_view data, std::string_view signature) const;

  std::size_t size() const noexcept { return keys_.size(); }
  bool empty() const noexcept { return keys_.empty(); }
  /// The directory the keys were read from (for messages).
  const std::filesystem::path& dir() const noexcept { return dir_; }

 private:
  struct Key {
    std::string file;                     ///< file name inside the directory, e.g. "release.pem"
    std::shared_ptr<::evp_pkey_st> pkey;  ///< never modified after loading
  };
  std::filesystem::path dir_;
  std::vector<Key> keys_;
};

/// The signature policy of every repository and the trusted keys. Immutable.
class RepositoryTrust {
 public:
  RepositoryTrust(SignaturePolicy default_policy, std::vector<PolicyRule> rules, TrustedKeys keys)
      : default_(default_policy), rules_(std::move(rules)), keys_(std::move(keys)) {}

  /// The policy of the repository at `repo_url`: the rule with the longest `url_prefix` that
  /// matches, else the default. A prefix matches when the URL starts with it and the match ends
  /// at a boundary: the prefix ends with '/', or the URL's next character is '/', '?' or '#', or
  /// the URL ends there (so `https://repo.example` does not match `https://repo.example.org/`).
  /// Scheme and host are compared case-insensitively, the rest byte for byte. Pure.
  SignaturePolicy policy_for(std::string_view repo_url) const;

  const TrustedKeys& keys() const noexcept { return keys_; }
  SignaturePolicy default_policy() const noexcept { return default_; }
  const std::vector<PolicyRule>& rules() const noexcept { return rules_; }

 private:
  SignaturePolicy default_;
  std::vector<PolicyRule> rules_;
  TrustedKeys keys_;
};

/// Combines policies and keys, checking them as a whole: when the default or any rule is
/// Require, at least one key must be present (else nothing could ever be deployed from that
/// repository). Errors: InvalidPayload, the message starting with the config key at fault:
/// "signature-policy: require, but <dir> holds no ed25519 public key (*.pem)" or
/// "signature-policy-by-url: <prefix>=require, but ...".
Result<std::shared_ptr<const RepositoryTrust>> make_repository_trust(SignaturePolicy default_policy,
                                                                     std::vector<PolicyRule> rules,
                                                                     TrustedKeys keys);

}  // namespace l3afd::artifact
