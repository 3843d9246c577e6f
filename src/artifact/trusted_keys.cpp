// TrustedKeys: ed25519 public keys read from PEM files, and signature verification with OpenSSL
// EVP (EVP_DigestVerify; ed25519 signs the message itself, so no digest is configured).
#include <dirent.h>
#include <fcntl.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <memory>
#include <string>
#include <vector>

#include "artifact/trust.h"
#include "core/unique_fd.h"

namespace l3afd::artifact {
namespace {

namespace fs = std::filesystem;

/// A PEM public key is a few hundred bytes; anything this large is not one.
constexpr std::size_t kMaxKeyFileBytes = 64 * 1024;

/// The reason of the most recent OpenSSL error of this thread, and the queue emptied (it is
/// per thread and shared with libcurl's TLS, which must not see our leftovers).
std::string take_openssl_error() {
  const unsigned long code = ERR_peek_last_error();
  std::string out;
  if (code != 0) {
    char buf[256];
    ERR_error_string_n(code, buf, sizeof buf);
    out = buf;
  }
  ERR_clear_error();
  return out.empty() ? "no PEM public key found" : out;
}

struct DirCloser {
  void operator()(DIR* d) const noexcept { ::closedir(d); }
};

bool has_pem_suffix(std::string_view name) {
  constexpr std::string_view kSuffix = ".pem";
  return name.size() > kSuffix.size() && name.substr(name.size() - kSuffix.size()) == kSuffix;
}

Result<std::string> read_small_file(const fs::path& p) {
  UniqueFd fd(::open(p.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY));
  if (!fd) return fail(Errc::Io, "open trusted key " + p.string(), errno);
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return fail(Errc::Io, "fstat " + p.string(), errno);
  if (!S_ISREG(st.st_mode)) {
    return fail(Errc::InvalidPayload, "trusted key " + p.string() + " is not a regular file");
  }
  std::string out;
  char buf[4096];
  for (;;) {
    const ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return fail(Errc::Io, "read trusted key " + p.string(), errno);
    if (n == 0) break;
    out.append(buf, static_cast<std::size_t>(n));
    if (out.size() > kMaxKeyFileBytes) {
      return fail(Errc::InvalidPayload, "trusted key " + p.string() + " is larger than " +
                                            std::to_string(kMaxKeyFileBytes) +
                                            " bytes: not a PEM public key");
    }
  }
  return out;
}

/// The ed25519 public key in PEM text `pem` (from file `p`, for messages).
Result<std::shared_ptr<::evp_pkey_st>> parse_ed25519_public_key(const std::string& pem,
                                                                const fs::path& p) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(
      BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())), &BIO_free);
  if (!bio) return fail(Errc::Internal, "BIO_new_mem_buf failed");
  EVP_PKEY* raw = PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr);
  if (raw == nullptr) {
    return fail(Errc::InvalidPayload, "trusted key " + p.string() +
                                          " is not a PEM ed25519 public key (\"BEGIN PUBLIC "
                                          "KEY\"): " +
                                          take_openssl_error());
  }
  std::shared_ptr<::evp_pkey_st> key(raw, &EVP_PKEY_free);
  if (EVP_PKEY_get_id(raw) != EVP_PKEY_ED25519) {
    const char* type = EVP_PKEY_get0_type_name(raw);
    return fail(Errc::InvalidPayload, "trusted key " + p.string() + " is a key of type " +
                                          (type != nullptr ? type : "unknown") +
                                          "; only ed25519 keys can verify SHA256SUMS.sig");
  }
  return key;
}

}  // namespace

Result<TrustedKeys> TrustedKeys::load_dir(const fs::path& dir) {
  TrustedKeys out;
  out.dir_ = dir;
  if (dir.empty()) return out;
  std::unique_ptr<DIR, DirCloser> d(::opendir(dir.c_str()));
  if (!d) {
    if (errno == ENOENT) return out;
    return fail(Errc::Io, "open trusted keys directory " + dir.string(), errno);
  }
  std::vector<std::string> names;
  errno = 0;
  while (const dirent* e = ::readdir(d.get())) {
    const std::string name = e->d_name;
    if (has_pem_suffix(name)) names.push_back(name);
    errno = 0;
  }
  if (errno != 0) return fail(Errc::Io, "read trusted keys directory " + dir.string(), errno);
  std::sort(names.begin(), names.end());
  for (const auto& name : names) {
    const fs::path p = dir / name;
    auto pem = read_small_file(p);
    if (!pem) return fail(std::move(pem.error()));
    auto key = parse_ed25519_public_key(*pem, p);
    if (!key) return fail(std::move(key.error()));
    out.keys_.push_back(Key{name, std::move(*key)});
  }
  return out;
}

std::optional<std::string> TrustedKeys::verify(std::string_view data,
                                               std::string_view signature) const {
  for (const auto& k : keys_) {
    std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
    if (!ctx) break;
    const bool good =
        EVP_DigestVerifyInit(ctx.get(), nullptr, nullptr, nullptr, k.pkey.get()) == 1 &&
        EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(signature.data()),
                         signature.size(), reinterpret_cast<const unsigned char*>(data.data()),
                         data.size()) == 1;
    ERR_clear_error();  // a failed verification leaves its reason in this thread's queue
    if (good) return k.file;
  }
  return std::nullopt;
}

}  // namespace l3afd::artifact
