#include "tls/certificates.h"

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include <cerrno>
#include <ctime>
#include <fstream>
#include <memory>
#include <sstream>

namespace l3afd::tls {

namespace {

struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};
struct X509Free {
  void operator()(X509* x) const { X509_free(x); }
};
struct GeneralNamesFree {
  void operator()(GENERAL_NAMES* g) const { GENERAL_NAMES_free(g); }
};
struct EkuFree {
  void operator()(EXTENDED_KEY_USAGE* e) const { EXTENDED_KEY_USAGE_free(e); }
};

TimePoint to_time_point(const ASN1_TIME* t) {
  std::tm tm{};
  if (ASN1_TIME_to_tm(t, &tm) != 1) return TimePoint{};
  return std::chrono::system_clock::from_time_t(::timegm(&tm));
}

std::string utc_text(TimePoint t) {
  const std::time_t tt = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  ::gmtime_r(&tt, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

}  // namespace

std::string take_openssl_errors() {
  std::string out;
  while (const unsigned long e = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    if (!out.empty()) out += "; ";
    out += buf;
  }
  return out;
}

Result<std::vector<CertificateFacts>> read_pem_certificates(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return fail(Errc::Io, "read " + path.string(), errno);
  std::ostringstream text;
  text << in.rdbuf();
  const std::string pem = text.str();
  ERR_clear_error();
  std::unique_ptr<BIO, BioFree> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!bio) return fail(Errc::Internal, "BIO_new_mem_buf failed");
  std::vector<CertificateFacts> out;
  for (;;) {
    std::unique_ptr<X509, X509Free> cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
    if (!cert) break;
    out.push_back({subject_text(cert.get()), to_time_point(X509_get0_notBefore(cert.get())),
                   to_time_point(X509_get0_notAfter(cert.get()))});
  }
  // The loop ends with "no start line" after the last certificate; anything else is damage.
  const unsigned long last = ERR_peek_last_error();
  const bool clean_end = last == 0 || (ERR_GET_LIB(last) == ERR_LIB_PEM &&
                                       ERR_GET_REASON(last) == PEM_R_NO_START_LINE);
  const std::string why = take_openssl_errors();
  if (!clean_end)
    return fail(Errc::InvalidPayload, path.string() + ": damaged certificate: " + why);
  if (out.empty()) return fail(Errc::InvalidPayload, path.string() + ": no PEM certificate in it");
  return out;
}

std::vector<ValidityFinding> check_validity(std::string_view role,
                                            const std::filesystem::path& path,
                                            const std::vector<CertificateFacts>& certs,
                                            TimePoint now, int warning_days) {
  std::vector<ValidityFinding> out;
  const auto warn_window = std::chrono::hours(24) * warning_days;
  for (const auto& c : certs) {
    const std::string who = std::string(role) + " " + path.string() + " (" + c.subject + ")";
    if (now < c.not_before) {
      out.push_back({true, who + " is not valid before " + utc_text(c.not_before)});
    } else if (now > c.not_after) {
      out.push_back({true, who + " expired on " + utc_text(c.not_after)});
    } else if (c.not_after - now < warn_window) {
      const auto days =
          std::chrono::duration_cast<std::chrono::hours>(c.not_after - now).count() / 24;
      out.push_back({false, who + " expires in " + std::to_string(days) + " days, on " +
                                utc_text(c.not_after)});
    }
  }
  return out;
}

std::vector<std::string> dns_names(X509* cert) {
  std::vector<std::string> out;
  std::unique_ptr<GENERAL_NAMES, GeneralNamesFree> names(
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr)));
  if (!names) return out;
  for (int i = 0; i < sk_GENERAL_NAME_num(names.get()); ++i) {
    const GENERAL_NAME* n = sk_GENERAL_NAME_value(names.get(), i);
    if (n->type != GEN_DNS) continue;
    const ASN1_IA5STRING* s = n->d.dNSName;
    out.emplace_back(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                     static_cast<std::size_t>(ASN1_STRING_length(s)));
  }
  return out;
}

std::string common_name(X509* cert) {
  const X509_NAME* name = X509_get_subject_name(cert);
  int idx = -1;
  int last = -1;
  while ((idx = X509_NAME_get_index_by_NID(name, NID_commonName, idx)) >= 0) last = idx;
  if (last < 0) return {};
  const ASN1_STRING* s = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, last));
  unsigned char* utf8 = nullptr;
  const int n = ASN1_STRING_to_UTF8(&utf8, s);
  if (n < 0) return {};
  std::string out(reinterpret_cast<char*>(utf8), static_cast<std::size_t>(n));
  OPENSSL_free(utf8);
  return out;
}

std::string subject_text(X509* cert) {
  std::unique_ptr<BIO, BioFree> bio(BIO_new(BIO_s_mem()));
  if (!bio) return {};
  X509_NAME_print_ex(bio.get(), X509_get_subject_name(cert), 0, XN_FLAG_RFC2253);
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio.get(), &data);
  return n > 0 ? std::string(data, static_cast<std::size_t>(n)) : std::string();
}

bool has_client_auth_usage(X509* cert) {
  std::unique_ptr<EXTENDED_KEY_USAGE, EkuFree> eku(static_cast<EXTENDED_KEY_USAGE*>(
      X509_get_ext_d2i(cert, NID_ext_key_usage, nullptr, nullptr)));
  if (!eku) return false;
  for (int i = 0; i < sk_ASN1_OBJECT_num(eku.get()); ++i) {
    if (OBJ_obj2nid(sk_ASN1_OBJECT_value(eku.get(), i)) == NID_client_auth) return true;
  }
  return false;
}

}  // namespace l3afd::tls
