// SHA-256 verification support.
#include "artifact/sha256.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <memory>

#include "core/unique_fd.h"

namespace l3afd::artifact::detail {

Result<std::string> sha256_file_hex(const std::filesystem::path& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return fail(Errc::Io, "open " + path.string(), errno);
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
  if (!ctx || EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr) != 1) {
    return fail(Errc::Internal, "sha256 init failed");
  }
  unsigned char buf[64 * 1024];
  for (;;) {
    const ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return fail(Errc::Io, "read " + path.string(), errno);
    if (n == 0) break;
    if (EVP_DigestUpdate(ctx.get(), buf, static_cast<std::size_t>(n)) != 1) {
      return fail(Errc::Internal, "sha256 update failed");
    }
  }
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_DigestFinal_ex(ctx.get(), md, &len) != 1)
    return fail(Errc::Internal, "sha256 final failed");
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < len; ++i) {
    out.push_back(kHex[md[i] >> 4]);
    out.push_back(kHex[md[i] & 0xf]);
  }
  return out;
}

Result<std::string> parse_sha256_file(std::string_view content) {
  const char* ws = " \t\r\n";
  const std::size_t b = content.find_first_not_of(ws);
  if (b == std::string_view::npos)
    return fail(Errc::PackageIntegrity, "malformed checksum file: empty");
  const std::size_t e = content.find_first_of(ws, b);
  std::string_view token = content.substr(b, e == std::string_view::npos ? e : e - b);
  if (token.size() != 64) {
    return fail(Errc::PackageIntegrity, "malformed checksum file: want 64 hex digits");
  }
  std::string out;
  for (char c : token) {
    const auto u = static_cast<unsigned char>(c);
    if (std::isxdigit(u) == 0) {
      return fail(Errc::PackageIntegrity, "malformed checksum file: non-hex character");
    }
    out.push_back(static_cast<char>(std::tolower(u)));
  }
  return out;
}

namespace {

bool is_hex(char c) {
  return std::isxdigit(static_cast<unsigned char>(c)) != 0;
}

/// Decodes sha256sum's escaped file name ("\\" -> '\', "\n" -> newline); false when another
/// escape follows a backslash.
bool unescape_name(std::string_view in, std::string& out) {
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '\\') {
      out.push_back(in[i]);
      continue;
    }
    if (++i == in.size()) return false;
    if (in[i] == '\\') {
      out.push_back('\\');
    } else if (in[i] == 'n') {
      out.push_back('\n');
    } else {
      return false;
    }
  }
  return true;
}

Error malformed(std::size_t line_no, const std::string& why) {
  return Error{Errc::PackageIntegrity,
               0,
               "malformed SHA256SUMS line " + std::to_string(line_no) + ": " + why,
               {},
               {},
               {}};
}

}  // namespace

Result<std::optional<std::string>> find_in_sha256sums(std::string_view content,
                                                      std::string_view file_name) {
  std::optional<std::string> found;
  std::size_t line_no = 0;
  while (!content.empty()) {
    const std::size_t nl = content.find('\n');
    std::string_view line = content.substr(0, nl);
    content.remove_prefix(nl == std::string_view::npos ? content.size() : nl + 1);
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) continue;
    const bool escaped = line.front() == '\\';
    if (escaped) line.remove_prefix(1);
    // <64 hex><space><space|*><name>
    if (line.size() < 67) return fail(malformed(line_no, "too short"));
    for (std::size_t i = 0; i < 64; ++i) {
      if (!is_hex(line[i])) return fail(malformed(line_no, "want 64 hex digits"));
    }
    if (line[64] != ' ' || (line[65] != ' ' && line[65] != '*')) {
      return fail(malformed(line_no, "want two spaces or ' *' after the digest"));
    }
    std::string name;
    if (escaped) {
      if (!unescape_name(line.substr(66), name)) return fail(malformed(line_no, "bad escape"));
    } else {
      name = line.substr(66);
    }
    if (name != file_name) continue;
    std::string digest;
    for (std::size_t i = 0; i < 64; ++i) {
      digest.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(line[i]))));
    }
    if (found && *found != digest) {
      return fail(Errc::PackageIntegrity,
                  std::string(file_name) + " is listed twice with different digests");
    }
    found = std::move(digest);
  }
  return found;
}

}  // namespace l3afd::artifact::detail
