// Internal: SHA-256 of a file (OpenSSL EVP), parsing of detached `.sha256` files and of
// `SHA256SUMS` listings (sha256sum output).
// Pure apart from reading the file; thread-safe.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "core/result.h"

namespace l3afd::artifact::detail {

/// Lower-case hex SHA-256 of the file's contents. Errors: Io (errno), Internal (OpenSSL).
Result<std::string> sha256_file_hex(const std::filesystem::path& path);

/// The digest in a `.sha256` file: its first whitespace-separated token, which must be 64 hex
/// digits (`sha256sum` output "<hex>  <name>" is accepted; the name is ignored). Returned in
/// lower case. Errors: PackageIntegrity "malformed checksum file".
Result<std::string> parse_sha256_file(std::string_view content);

/// The digest a `SHA256SUMS` listing gives for `file_name` (lower case), nullopt when the file
/// is not listed. The listing is sha256sum output: one line per file,
/// `<64 hex digits><space><space or '*'><file name>`, lines ending in LF (a CR before it is
/// ignored); empty lines are skipped. A line starting with '\' is sha256sum's escaped form: the
/// name's "\\" and "\n" are decoded. Names are compared byte for byte (no "./" folding).
/// Errors: PackageIntegrity "malformed SHA256SUMS line <n>: <why>" for any other line, and
/// "<name> is listed twice with different digests".
Result<std::optional<std::string>> find_in_sha256sums(std::string_view content,
                                                      std::string_view file_name);

}  // namespace l3afd::artifact::detail
