// RepositoryTrust: the signature policy of a repository URL (longest matching prefix), and the
// start-up check that a `require` policy has a key to verify with.
#include <cctype>
#include <string>
#include <utility>

#include "artifact/trust.h"

namespace l3afd::artifact {
namespace {

/// `url` with the scheme and the host (the authority after any userinfo) lower-cased: the parts
/// RFC 3986 defines as case-insensitive. Anything that does not look like `scheme://authority`
/// is returned unchanged.
std::string fold_case(std::string_view url) {
  std::string out(url);
  const std::size_t colon = out.find("://");
  if (colon == std::string::npos) return out;
  for (std::size_t i = 0; i < colon; ++i) {
    out[i] = static_cast<char>(std::tolower(static_cast<unsigned char>(out[i])));
  }
  const std::size_t auth_begin = colon + 3;
  std::size_t auth_end = out.find_first_of("/?#", auth_begin);
  if (auth_end == std::string::npos) auth_end = out.size();
  const std::size_t at = out.rfind('@', auth_end == 0 ? 0 : auth_end - 1);
  const std::size_t host_begin =
      (at != std::string::npos && at >= auth_begin) ? at + 1 : auth_begin;
  for (std::size_t i = host_begin; i < auth_end; ++i) {
    out[i] = static_cast<char>(std::tolower(static_cast<unsigned char>(out[i])));
  }
  return out;
}

/// Whether `prefix` (case-folded) matches `url` (case-folded) at a boundary (see policy_for).
bool prefix_matches(const std::string& prefix, const std::string& url) {
  if (prefix.empty() || url.compare(0, prefix.size(), prefix) != 0) return false;
  if (prefix.back() == '/' || url.size() == prefix.size()) return true;
  const char next = url[prefix.size()];
  return next == '/' || next == '?' || next == '#';
}

}  // namespace

std::string_view signature_policy_name(SignaturePolicy p) noexcept {
  switch (p) {
    case SignaturePolicy::Off: return "off";
    case SignaturePolicy::IfPresent: return "if-present";
    case SignaturePolicy::Require: return "require";
  }
  return "if-present";
}

SignaturePolicy RepositoryTrust::policy_for(std::string_view repo_url) const {
  const std::string url = fold_case(repo_url);
  const PolicyRule* best = nullptr;
  for (const auto& rule : rules_) {
    if (!prefix_matches(fold_case(rule.url_prefix), url)) continue;
    if (best == nullptr || rule.url_prefix.size() > best->url_prefix.size()) best = &rule;
  }
  return best != nullptr ? best->policy : default_;
}

Result<std::shared_ptr<const RepositoryTrust>> make_repository_trust(SignaturePolicy default_policy,
                                                                     std::vector<PolicyRule> rules,
                                                                     TrustedKeys keys) {
  if (keys.empty()) {
    const std::string none = keys.dir().empty()
                                 ? std::string("no trusted-keys-dir is configured")
                                 : keys.dir().string() + " holds no ed25519 public key (*.pem)";
    if (default_policy == SignaturePolicy::Require) {
      return fail(Errc::InvalidPayload, "signature-policy: require, but " + none);
    }
    for (const auto& rule : rules) {
      if (rule.policy == SignaturePolicy::Require) {
        return fail(Errc::InvalidPayload,
                    "signature-policy-by-url: " + rule.url_prefix + "=require, but " + none);
      }
    }
  }
  return std::make_shared<const RepositoryTrust>(default_policy, std::move(rules), std::move(keys));
}

}  // namespace l3afd::artifact
