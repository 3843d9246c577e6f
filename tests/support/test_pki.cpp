#include "test_pki.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <atomic>
#include <fstream>
#include <stdexcept>

namespace l3afd::test {

namespace {

std::atomic<long> g_serial{1000};

struct PkeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
struct X509Free {
  void operator()(X509* x) const { X509_free(x); }
};
using Pkey = std::unique_ptr<EVP_PKEY, PkeyFree>;
using Cert = std::unique_ptr<X509, X509Free>;

Pkey new_key() {
  Pkey k(EVP_EC_gen("P-256"));
  if (!k) throw std::runtime_error("EVP_EC_gen failed");
  return k;
}

void add_ext(X509* cert, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
  if (ext == nullptr) throw std::runtime_error("bad extension " + value);
  X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
}

Cert new_cert(const std::string& cn, EVP_PKEY* key, std::chrono::seconds not_before,
              std::chrono::seconds not_after) {
  Cert c(X509_new());
  X509_set_version(c.get(), 2);
  ASN1_INTEGER_set(X509_get_serialNumber(c.get()), g_serial++);
  X509_gmtime_adj(X509_getm_notBefore(c.get()), static_cast<long>(not_before.count()));
  X509_gmtime_adj(X509_getm_notAfter(c.get()), static_cast<long>(not_after.count()));
  X509_set_pubkey(c.get(), key);
  X509_NAME* name = X509_get_subject_name(c.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                             reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0);
  return c;
}

std::string pem_of(X509* c) {
  BIO* b = BIO_new(BIO_s_mem());
  PEM_write_bio_X509(b, c);
  char* data = nullptr;
  const long n = BIO_get_mem_data(b, &data);
  std::string out(data, static_cast<std::size_t>(n));
  BIO_free(b);
  return out;
}

std::string pem_of(EVP_PKEY* k) {
  BIO* b = BIO_new(BIO_s_mem());
  PEM_write_bio_PrivateKey(b, k, nullptr, nullptr, 0, nullptr, nullptr);
  char* data = nullptr;
  const long n = BIO_get_mem_data(b, &data);
  std::string out(data, static_cast<std::size_t>(n));
  BIO_free(b);
  return out;
}

}  // namespace

struct TestCa::Impl {
  Pkey key;
  Cert cert;
};

TestCa::TestCa(const std::string& common_name, std::chrono::seconds not_after)
    : impl_(std::make_unique<Impl>()) {
  impl_->key = new_key();
  impl_->cert = new_cert(common_name, impl_->key.get(), -std::chrono::hours(1), not_after);
  X509_set_issuer_name(impl_->cert.get(), X509_get_subject_name(impl_->cert.get()));
  add_ext(impl_->cert.get(), impl_->cert.get(), NID_basic_constraints, "critical,CA:TRUE");
  add_ext(impl_->cert.get(), impl_->cert.get(), NID_key_usage, "critical,keyCertSign,cRLSign");
  add_ext(impl_->cert.get(), impl_->cert.get(), NID_subject_key_identifier, "hash");
  if (X509_sign(impl_->cert.get(), impl_->key.get(), EVP_sha256()) == 0) {
    throw std::runtime_error("CA self-signature failed");
  }
  cert_pem_ = pem_of(impl_->cert.get());
}

TestCa::~TestCa() = default;

Issued TestCa::issue(const CertSpec& spec) const {
  Pkey key = new_key();
  Cert c = new_cert(spec.common_name, key.get(), spec.not_before, spec.not_after);
  X509_set_issuer_name(c.get(), X509_get_subject_name(impl_->cert.get()));
  add_ext(c.get(), impl_->cert.get(), NID_basic_constraints, "critical,CA:FALSE");
  add_ext(c.get(), impl_->cert.get(), NID_key_usage, "critical,digitalSignature");
  add_ext(c.get(), impl_->cert.get(), NID_authority_key_identifier, "keyid:always");
  std::string san;
  for (const auto& d : spec.dns) san += (san.empty() ? "DNS:" : ",DNS:") + d;
  for (const auto& ip : spec.ips) san += (san.empty() ? "IP:" : ",IP:") + ip;
  if (!san.empty()) add_ext(c.get(), impl_->cert.get(), NID_subject_alt_name, san);
  if (spec.usage == Usage::ClientAuth)
    add_ext(c.get(), impl_->cert.get(), NID_ext_key_usage, "clientAuth");
  if (spec.usage == Usage::ServerAuth)
    add_ext(c.get(), impl_->cert.get(), NID_ext_key_usage, "serverAuth");
  if (X509_sign(c.get(), impl_->key.get(), EVP_sha256()) == 0) {
    throw std::runtime_error("certificate signature failed");
  }
  return {pem_of(c.get()), pem_of(key.get())};
}

void write_text(const std::filesystem::path& path, const std::string& text) {
  const auto tmp = path.string() + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << text;
    if (!out) throw std::runtime_error("cannot write " + tmp);
  }
  std::filesystem::permissions(
      tmp, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  std::filesystem::rename(tmp, path);  // atomic, like a certificate renewal tool
}

}  // namespace l3afd::test
