#include "daemon/package_trust.h"

#include <string>
#include <utility>
#include <vector>

#include "core/log.h"

namespace l3afd::daemon {
namespace {

artifact::SignaturePolicy to_artifact(config::SignaturePolicy p) {
  switch (p) {
    case config::SignaturePolicy::Off: return artifact::SignaturePolicy::Off;
    case config::SignaturePolicy::IfPresent: return artifact::SignaturePolicy::IfPresent;
    case config::SignaturePolicy::Require: return artifact::SignaturePolicy::Require;
  }
  return artifact::SignaturePolicy::IfPresent;
}

Error with_prefix(Error e, const std::string& prefix) {
  e.message = prefix + e.message;
  return e;
}

}  // namespace

Result<std::shared_ptr<const artifact::RepositoryTrust>> load_package_trust(
    const config::DaemonConfig::EbpfRepo& repo, const std::filesystem::path& config_path) {
  const std::string where = config_path.string() + ": [ebpf-repo] ";
  auto keys = artifact::TrustedKeys::load_dir(repo.trusted_keys_dir);
  if (!keys) return fail(with_prefix(std::move(keys.error()), where + "trusted-keys-dir: "));
  const std::size_t key_count = keys->size();
  std::vector<artifact::PolicyRule> rules;
  for (const auto& r : repo.signature_policy_by_url) {
    rules.push_back(artifact::PolicyRule{r.url_prefix, to_artifact(r.policy)});
  }
  const artifact::SignaturePolicy policy = to_artifact(repo.signature_policy);
  auto trust = artifact::make_repository_trust(policy, std::move(rules), std::move(*keys));
  if (!trust) return fail(with_prefix(std::move(trust.error()), where));
  spdlog::info("package signatures: policy={} rules={} trusted-keys-dir={} keys={}",
               artifact::signature_policy_name(policy), repo.signature_policy_by_url.size(),
               repo.trusted_keys_dir, key_count);
  return trust;
}

}  // namespace l3afd::daemon
