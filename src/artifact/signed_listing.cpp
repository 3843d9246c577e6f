// verify_signed_listing: SHA256SUMS + SHA256SUMS.sig of an artifact directory.
#include "artifact/signed_listing.h"

#include <optional>
#include <string>
#include <utility>

#include "artifact/download.h"
#include "artifact/error_context.h"
#include "artifact/sha256.h"
#include "artifact/url_parts.h"
#include "core/log.h"

namespace l3afd::artifact::detail {
namespace {

/// A listing of one directory; far above any real one, low enough to bound memory.
constexpr uint64_t kMaxListingBytes = 1 << 20;
/// An ed25519 signature is 64 bytes; a little more is read to report a wrong size.
constexpr std::size_t kSignatureBytes = 64;
constexpr uint64_t kMaxSignatureBytes = 4096;

constexpr std::string_view kListing = "SHA256SUMS";

Error integrity(const std::string& url, const std::string& why) {
  return Error{Errc::PackageIntegrity,
               0,
               "integrity check of " + redact_url(url) + " failed: " + why,
               {},
               {},
               {}};
}

}  // namespace

Result<std::string> verify_signed_listing(const std::string& url,
                                          const std::filesystem::path& archive,
                                          SignaturePolicy policy, const TrustedKeys& keys,
                                          std::chrono::milliseconds timeout) {
  if (policy == SignaturePolicy::Off) return std::string();
  auto parts = split_url(url);
  if (!parts) return fail(std::move(parts.error()));
  const std::size_t slash = parts->path.rfind('/');
  if (slash == std::string::npos) {
    return fail(Errc::InvalidPayload, "url " + redact_url(url) + " has no directory");
  }
  auto file_name = percent_decode(parts->path.substr(slash + 1));
  if (!file_name) return fail(std::move(file_name.error()));
  UrlParts listing_parts = *parts;
  listing_parts.path = parts->path.substr(0, slash + 1) + std::string(kListing);
  const std::string listing_url = join_url(listing_parts);
  listing_parts.path += ".sig";
  const std::string sig_url = join_url(listing_parts);

  auto listing = download_optional(listing_url, {timeout, kMaxListingBytes});
  if (!listing) return fail(add_context(std::move(listing.error()), "SHA256SUMS"));
  if (!listing->has_value()) {
    if (policy == SignaturePolicy::Require) {
      return fail(integrity(url, "signature-policy require, but " + redact_url(listing_url) +
                                     " does not exist (the repository is not signed)"));
    }
    spdlog::info("artifact: unsigned package accepted url={} reason=\"no SHA256SUMS\" policy={}",
                 redact_url(url), signature_policy_name(policy));
    return std::string();
  }
  auto sig = download_optional(sig_url, {timeout, kMaxSignatureBytes});
  if (!sig) return fail(add_context(std::move(sig.error()), "SHA256SUMS.sig"));
  if (!sig->has_value()) {
    return fail(integrity(url, redact_url(listing_url) + " is published but " +
                                   redact_url(sig_url) + " does not exist (unsigned listing)"));
  }
  if (keys.empty()) {
    return fail(integrity(
        url, "no trusted key to verify " + redact_url(sig_url) + " (" +
                 (keys.dir().empty() ? std::string("no trusted-keys-dir") : keys.dir().string()) +
                 " holds no ed25519 public key)"));
  }
  if ((*sig)->size() != kSignatureBytes) {
    return fail(integrity(url, "bad signature: " + redact_url(sig_url) + " has " +
                                   std::to_string((*sig)->size()) +
                                   " bytes, a raw ed25519 signature has 64"));
  }
  auto signer = keys.verify(**listing, **sig);
  if (!signer) {
    return fail(integrity(url, "bad signature: " + redact_url(sig_url) + " is not a signature of " +
                                   redact_url(listing_url) + " by any of the " +
                                   std::to_string(keys.size()) + " trusted keys in " +
                                   keys.dir().string()));
  }
  auto want = find_in_sha256sums(**listing, *file_name);
  if (!want) {
    return fail(integrity(url, redact_url(listing_url) + ": " + want.error().message));
  }
  if (!want->has_value()) {
    return fail(integrity(url, *file_name + " is not listed in " + redact_url(listing_url) +
                                   " (signed by " + *signer + ")"));
  }
  auto got = sha256_file_hex(archive);
  if (!got) return fail(std::move(got.error()));
  if (*got != **want) {
    return fail(integrity(url, "digest mismatch: " + redact_url(listing_url) + " lists " + **want +
                                   ", the download has " + *got));
  }
  return *signer;
}

}  // namespace l3afd::artifact::detail
