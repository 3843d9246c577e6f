// Internal: SHA-256 of a file (OpenSSL EVP) and parsing of detached `.sha256` files.
// Pure apart from reading the file; thread-safe.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

#include "core/result.h"

namespace l3afd::artifact::detail {

/// Lower-case hex SHA-256 of the file's contents. Errors: Io (errno), Internal (OpenSSL).
Result<std::string> sha256_file_hex(const std::filesystem::path& path);

/// The digest in a `.sha256` file: its first whitespace-separated token, which must be 64 hex
/// digits (`sha256sum` output "<hex>  <name>" is accepted; the name is ignored). Returned in
/// lower case. Errors: Unavailable "malformed checksum file".
Result<std::string> parse_sha256_file(std::string_view content);

}  // namespace l3afd::artifact::detail
