// fetch_archive: download into a scratch directory, verify against the .sha256 companion and
// the signed SHA256SUMS of the directory, extract. Shared by RepositorySource and the daemon's
// release packages.
#include "artifact/release.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <system_error>
#include <utility>

#include "artifact/download.h"
#include "artifact/error_context.h"
#include "artifact/extract.h"
#include "artifact/sha256.h"
#include "artifact/signed_listing.h"
#include "artifact/url_parts.h"
#include "core/log.h"

namespace l3afd::artifact {
namespace {

namespace fs = std::filesystem;

/// A `.sha256` file holds one digest and a file name; anything larger is not one.
constexpr uint64_t kMaxChecksumBytes = 4096;

/// `<url>.sha256`: the suffix goes on the path, before any query or fragment.
Result<std::string> checksum_url(const std::string& url) {
  auto parts = detail::split_url(url);
  if (!parts) return fail(std::move(parts.error()));
  parts->path += ".sha256";
  return detail::join_url(*parts);
}

/// Verifies `archive` against `<url>.sha256` as described in release.h; true when the companion
/// was present (and matched).
Result<bool> verify_checksum(const std::string& url, const fs::path& archive,
                             const FetchOptions& options) {
  auto sum_url = checksum_url(url);
  if (!sum_url) return fail(std::move(sum_url.error()));
  auto sum_text = detail::download_optional(*sum_url, {options.timeout, kMaxChecksumBytes});
  if (!sum_text) return fail(detail::add_context(std::move(sum_text.error()), "checksum"));
  if (!sum_text->has_value()) {
    if (options.require_checksum) {
      return fail(Errc::PackageIntegrity,
                  "checksum required but " + detail::redact_url(*sum_url) + " does not exist");
    }
    spdlog::debug("artifact: no checksum url={}", detail::redact_url(*sum_url));
    return false;
  }
  auto want = detail::parse_sha256_file(**sum_text);
  if (!want)
    return fail(detail::add_context(std::move(want.error()), detail::redact_url(*sum_url)));
  auto got = detail::sha256_file_hex(archive);
  if (!got) return fail(std::move(got.error()));
  if (*got != *want) {
    return fail(Errc::PackageIntegrity, "checksum mismatch for " + detail::redact_url(url) +
                                            ": expected " + *want + ", got " + *got);
  }
  return true;
}

}  // namespace

std::string redact_userinfo(std::string_view url) {
  return detail::redact_url(url);
}

Result<ArchiveVerification> fetch_archive(const std::string& url, std::string_view repo_url,
                                          ArchiveFormat format, const fs::path& dest,
                                          const FetchOptions& options) {
  // The scratch directory goes into dest's parent ("a/tree/" and "a/tree" both mean "a").
  fs::path dir = dest.lexically_normal();
  if (!dir.has_filename()) dir = dir.parent_path();
  std::string tmpl = (dir.parent_path() / ".fetch-XXXXXX").string();
  if (::mkdtemp(tmpl.data()) == nullptr) return fail(Errc::Io, "mkdtemp " + tmpl, errno);
  const ScopedTree scratch_remover{fs::path(tmpl)};
  const fs::path archive = fs::path(tmpl) / "archive";

  const detail::DownloadLimits dl{options.timeout, options.max_download_bytes};
  auto bytes = detail::download_to_file(url, archive, dl);
  if (!bytes) return fail(std::move(bytes.error()));
  // Both verifiers run on the downloaded bytes, before a single entry is extracted.
  ArchiveVerification out;
  auto checksum = verify_checksum(url, archive, options);
  if (!checksum) return fail(std::move(checksum.error()));
  out.checksum = *checksum;
  out.policy = options.trust ? options.trust->policy_for(repo_url) : SignaturePolicy::Off;
  static const TrustedKeys kNoKeys;
  auto signer = detail::verify_signed_listing(
      url, archive, out.policy, options.trust ? options.trust->keys() : kNoKeys, options.timeout);
  if (!signer) return fail(std::move(signer.error()));
  out.signed_by = std::move(*signer);
  if (!out.signed_by.empty()) {
    spdlog::info("artifact: signature verified url={} key={}", detail::redact_url(url),
                 out.signed_by);
  }

  const detail::ExtractLimits xl{options.max_entries, options.max_extracted_bytes};
  if (auto st = detail::extract_archive(archive, format, dest, xl); !st) {
    return fail(detail::add_context(std::move(st.error()), "extract " + detail::redact_url(url)));
  }
  return out;
}

ScopedTree::~ScopedTree() {
  std::error_code ec;
  fs::remove_all(path_, ec);
  if (ec) spdlog::warn("artifact: cannot remove path={}: {}", path_.string(), ec.message());
}

Status swap_tree(const fs::path& fresh, const fs::path& target, const fs::path& aside) {
  if (::renameat2(AT_FDCWD, fresh.c_str(), AT_FDCWD, target.c_str(), RENAME_EXCHANGE) == 0) {
    return ok();
  }
  if (errno != EINVAL && errno != ENOSYS) {
    return fail(Errc::Io, "exchange " + fresh.string() + " with " + target.string(), errno);
  }
  if (::rename(target.c_str(), aside.c_str()) != 0) {
    return fail(Errc::Io, "move " + target.string() + " aside", errno);
  }
  if (::rename(fresh.c_str(), target.c_str()) != 0) {
    const int err = errno;
    if (::rename(aside.c_str(), target.c_str()) != 0) {
      spdlog::error("artifact: cannot restore path={} from={}: {}", target.string(), aside.string(),
                    std::strerror(errno));
    }
    return fail(Errc::Io, "rename " + fresh.string() + " to " + target.string(), err);
  }
  return ok();
}

}  // namespace l3afd::artifact
