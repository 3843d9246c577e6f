// The signed-repository settings of [ebpf-repo] (trusted-keys-dir, signature-policy,
// signature-policy-by-url; docs/security-packages.md) turned into the artifact module's
// RepositoryTrust at start. Thread-safe (no shared state).
#pragma once

#include <filesystem>
#include <memory>

#include "artifact/trust.h"
#include "config/config.h"
#include "core/result.h"

namespace l3afd::daemon {

/// Loads the trusted keys (artifact::TrustedKeys::load_dir) and checks the policies as a whole
/// (artifact::make_repository_trust). `config_path` only labels messages.
/// Errors: InvalidPayload or Io with a one-line message in the config's form,
/// "<file>: [ebpf-repo] trusted-keys-dir: <reason naming the key file>", or
/// "<file>: [ebpf-repo] signature-policy[-by-url]: ... holds no ed25519 public key (*.pem)".
Result<std::shared_ptr<const artifact::RepositoryTrust>> load_package_trust(
    const config::DaemonConfig::EbpfRepo& repo, const std::filesystem::path& config_path);

}  // namespace l3afd::daemon
