// Internal: byte transfer from file://, http:// and https:// URLs with a size cap and a timeout.
// Thread-safe (each call uses its own curl handle; curl is initialised once).
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

#include "core/result.h"

namespace l3afd::artifact::detail {

struct DownloadLimits {
  std::chrono::milliseconds timeout{30000};  ///< whole transfer (http/https only)
  uint64_t max_bytes = 0;                    ///< the transfer fails once more would arrive
};

/// Copies the resource at `url` into the new file `dest` (created with O_EXCL, mode 0600) and
/// returns the byte count. HTTP(S): only status 200 is accepted, redirects are followed only to
/// http/https. Errors: InvalidPayload "unknown url scheme"; NotFound for HTTP 404 or a missing
/// local file; Timeout; Unavailable for other statuses, curl failures and the size cap; Io for
/// local files. Every message names the (redacted) URL. `dest` is left for the caller to remove.
Result<uint64_t> download_to_file(const std::string& url, const std::filesystem::path& dest,
                                  const DownloadLimits& limits);

/// Like download_to_file but into memory; a missing resource (NotFound) yields nullopt.
Result<std::optional<std::string>> download_optional(const std::string& url,
                                                     const DownloadLimits& limits);

}  // namespace l3afd::artifact::detail
