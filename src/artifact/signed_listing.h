// Internal: verification of a downloaded archive against the signed `SHA256SUMS` of its
// directory (trust.h has the format and the policies). Thread-safe (no shared state).
#pragma once

#include <chrono>
#include <filesystem>
#include <string>

#include "artifact/trust.h"
#include "core/result.h"

namespace l3afd::artifact::detail {

/// Checks `archive`, downloaded from `url`, under `policy`:
///  * Off: nothing is fetched, returns "".
///  * `<dir of url>/SHA256SUMS` (the URL's last path segment replaced; query kept) is fetched.
///    Absent (HTTP 404, missing file): Require fails, IfPresent returns "" (info log).
///  * `SHA256SUMS.sig` beside it must exist, be 64 bytes and verify the exact bytes of
///    SHA256SUMS under one of `keys`; SHA256SUMS must then list the archive's file name (the
///    last path segment, percent-decoded) with the archive's SHA-256.
/// Returns the file name of the key that verified the signature.
/// Errors: PackageIntegrity for every verification failure (unsigned under require, missing
/// signature, no trusted key, bad signature, malformed listing, not listed, digest mismatch;
/// the message names the artifact URL and the reason, both digests for a mismatch); errors of
/// the transfers (Unavailable, Timeout, Io, InvalidPayload) when SHA256SUMS or its signature
/// cannot be read for another reason than absence: a verifier is never skipped silently.
Result<std::string> verify_signed_listing(const std::string& url,
                                          const std::filesystem::path& archive,
                                          SignaturePolicy policy, const TrustedKeys& keys,
                                          std::chrono::milliseconds timeout);

}  // namespace l3afd::artifact::detail
