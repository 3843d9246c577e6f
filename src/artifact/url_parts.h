// Internal: the small part of RFC 3986 URL handling this module needs. Pure; thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "core/result.h"

namespace l3afd::artifact::detail {

/// A URL split into its parts; `scheme` is lower-cased, the others are kept verbatim.
struct UrlParts {
  std::string scheme;  ///< empty when the URL has none
  bool has_authority = false;
  std::string authority;  ///< userinfo@host:port, without the leading "//"
  std::string path;       ///< still percent-encoded
  std::string suffix;     ///< "?query#fragment" as found (may be empty)
};

/// Splits `url`. Errors: InvalidPayload for an empty URL or control characters/spaces.
Result<UrlParts> split_url(std::string_view url);

/// Reassembles parts produced by split_url.
std::string join_url(const UrlParts& parts);

/// Decodes %XX escapes. Errors: InvalidPayload for a malformed escape or an encoded NUL.
Result<std::string> percent_decode(std::string_view in);

/// The URL with any userinfo replaced by "***", for logs and error messages.
std::string redact_url(std::string_view url);

}  // namespace l3afd::artifact::detail
