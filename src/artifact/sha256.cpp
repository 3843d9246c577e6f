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
  if (b == std::string_view::npos) return fail(Errc::Unavailable, "malformed checksum file: empty");
  const std::size_t e = content.find_first_of(ws, b);
  std::string_view token = content.substr(b, e == std::string_view::npos ? e : e - b);
  if (token.size() != 64) {
    return fail(Errc::Unavailable, "malformed checksum file: want 64 hex digits");
  }
  std::string out;
  for (char c : token) {
    const auto u = static_cast<unsigned char>(c);
    if (std::isxdigit(u) == 0) {
      return fail(Errc::Unavailable, "malformed checksum file: non-hex character");
    }
    out.push_back(static_cast<char>(std::tolower(u)));
  }
  return out;
}

}  // namespace l3afd::artifact::detail
