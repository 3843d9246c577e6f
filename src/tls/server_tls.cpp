#include "tls/server_tls.h"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>

#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <spdlog/spdlog.h>

namespace l3afd::tls {

namespace ssl = boost::asio::ssl;

namespace {

/// A file the context needs must be readable: a clear message instead of OpenSSL's
/// "system library" line.
Status readable(const std::filesystem::path& path, std::string_view what) {
  if (::access(path.c_str(), R_OK) != 0) {
    const int err = errno;
    return fail(Errc::Io, std::string(what) + " " + path.string() + ": " + std::strerror(err), err);
  }
  return ok();
}

Error openssl_error(std::string_view what, const std::filesystem::path& path) {
  const std::string why = take_openssl_errors();
  Error e;
  e.code = Errc::InvalidPayload;
  e.message = std::string(what) + " " + path.string() + ": " +
              (why.empty() ? std::string("rejected by OpenSSL") : why);
  return e;
}

/// Only characters that keep a log line's `client=` field one token.
std::string log_safe(std::string_view s) {
  std::string out;
  for (char c : s.substr(0, 128)) {
    const bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                       c == '.' || c == '-' || c == '_' || c == '*' || c == '@' || c == '=';
    out += plain ? c : '?';
  }
  return out;
}

}  // namespace

bool ServerTls::Stamp::operator==(const Stamp& o) const {
  return dev == o.dev && ino == o.ino && size == o.size && mtime.tv_sec == o.mtime.tv_sec &&
         mtime.tv_nsec == o.mtime.tv_nsec && ctime.tv_sec == o.ctime.tv_sec &&
         ctime.tv_nsec == o.ctime.tv_nsec;
}

ServerTls::Stamps ServerTls::stamp_files() const {
  Stamps out{};
  const std::filesystem::path* files[3] = {&settings_.ca_file, &settings_.cert_file,
                                           &settings_.key_file};
  for (std::size_t i = 0; i < 3; ++i) {
    struct stat st {};
    if (files[i]->empty() || ::stat(files[i]->c_str(), &st) != 0) continue;  // size -1: absent
    out[i] = {st.st_dev, st.st_ino, st.st_size, st.st_mtim, st.st_ctim};
  }
  return out;
}

Result<std::shared_ptr<ssl::context>> ServerTls::build() const {
  const auto& s = settings_;
  if (auto st = readable(s.cert_file, "server certificate"); !st)
    return fail(std::move(st.error()));
  if (auto st = readable(s.key_file, "server key"); !st) return fail(std::move(st.error()));
  if (s.require_client_cert) {
    if (auto st = readable(s.ca_file, "client CA"); !st) return fail(std::move(st.error()));
  }
  ERR_clear_error();
  auto ctx = std::make_shared<ssl::context>(ssl::context::tls_server);
  SSL_CTX* c = ctx->native_handle();
  SSL_CTX_set_min_proto_version(
      c, s.min_version == MinVersion::Tls13 ? TLS1_3_VERSION : TLS1_2_VERSION);
  SSL_CTX_set_options(
      c, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION | SSL_OP_CIPHER_SERVER_PREFERENCE);
  // No resumption: every connection presents and verifies its certificate against the
  // certificates in use now (a ticket from before a CA change must not skip that).
  SSL_CTX_set_session_cache_mode(c, SSL_SESS_CACHE_OFF);
  SSL_CTX_set_num_tickets(c, 0);
  if (SSL_CTX_use_certificate_chain_file(c, s.cert_file.c_str()) != 1) {
    return fail(openssl_error("server certificate", s.cert_file));
  }
  if (SSL_CTX_use_PrivateKey_file(c, s.key_file.c_str(), SSL_FILETYPE_PEM) != 1) {
    return fail(openssl_error("server key", s.key_file));
  }
  if (SSL_CTX_check_private_key(c) != 1) {
    return fail(Errc::InvalidPayload, "server key " + s.key_file.string() +
                                          " does not match the server certificate " +
                                          s.cert_file.string() + ": " + take_openssl_errors());
  }
  if (s.require_client_cert) {
    // Only the configured CA: the system trust store is never loaded (D49).
    if (SSL_CTX_load_verify_locations(c, s.ca_file.c_str(), nullptr) != 1) {
      return fail(openssl_error("client CA", s.ca_file));
    }
    if (STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(s.ca_file.c_str())) {
      SSL_CTX_set_client_CA_list(c, names);  // takes ownership
    }
    SSL_CTX_set_verify(c, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
    // Chain certificates must be CAs allowed to issue client certificates; the leaf's own
    // clientAuth usage is checked in verify().
    SSL_CTX_set_purpose(c, X509_PURPOSE_SSL_CLIENT);
  } else {
    SSL_CTX_set_verify(c, SSL_VERIFY_NONE, nullptr);
  }
  ERR_clear_error();
  return ctx;
}

Result<std::shared_ptr<ServerTls>> ServerTls::load(ServerTlsSettings settings) {
  auto rules = SanRules::compile(settings.san_rules);
  if (!rules) return fail(std::move(rules.error()));
  std::shared_ptr<ServerTls> tls(new ServerTls(std::move(settings), std::move(*rules)));
  tls->stamps_ = tls->stamp_files();
  auto ctx = tls->build();
  if (!ctx) return fail(std::move(ctx.error()));
  tls->context_ = std::move(*ctx);
  return tls;
}

std::shared_ptr<ssl::context> ServerTls::context() const {
  std::lock_guard lock(mu_);
  return context_;
}

bool ServerTls::verify(bool preverified, X509_STORE_CTX* ctx, std::string& reason) const {
  X509* cert = X509_STORE_CTX_get_current_cert(ctx);
  const int depth = X509_STORE_CTX_get_error_depth(ctx);
  const std::string who = cert != nullptr ? " (" + subject_text(cert) + ")" : std::string();
  if (!preverified) {
    const int err = X509_STORE_CTX_get_error(ctx);
    reason = "client certificate refused at chain depth " + std::to_string(depth) + who + ": " +
             X509_verify_cert_error_string(err);
    return false;
  }
  if (depth == 0 && cert != nullptr && !has_client_auth_usage(cert)) {
    X509_STORE_CTX_set_error(ctx, X509_V_ERR_INVALID_PURPOSE);
    reason = "client certificate" + who + " has no clientAuth extended key usage";
    return false;
  }
  return true;
}

api::http::TlsPeer ServerTls::authorize(SSL* ssl) const {
  api::http::TlsPeer peer;
  X509* cert = SSL_get0_peer_certificate(ssl);
  if (cert == nullptr) {
    // Server-side TLS only (mTLS refuses a missing certificate in the handshake already).
    peer.allowed = !settings_.require_client_cert;
    if (!peer.allowed) peer.reason = "a client certificate is required";
    return peer;
  }
  const auto names = dns_names(cert);
  peer.identity = log_safe(!names.empty() ? names.front() : common_name(cert));
  if (!rules_.allows(names)) {
    std::string listed;
    for (const auto& n : names) listed += (listed.empty() ? "" : ", ") + n;
    peer.allowed = false;
    peer.reason = "client certificate " + subject_text(cert) +
                  " (DNS names: " + (listed.empty() ? "none" : listed) +
                  ") matches no san-match-rules entry";
  }
  return peer;
}

bool ServerTls::reload_if_changed() {
  const Stamps now = stamp_files();
  {
    std::lock_guard lock(mu_);
    if (now == stamps_) return false;
    stamps_ = now;
  }
  auto st = reload();
  if (!st) {
    spdlog::error(
        "{}: tls: the certificate files changed but cannot be used, keeping the ones in "
        "use: {}",
        settings_.name, st.error().to_string());
    return false;
  }
  return true;
}

Status ServerTls::reload() {
  auto ctx = build();
  if (!ctx) return fail(std::move(ctx.error()));
  {
    std::lock_guard lock(mu_);
    context_ = std::move(*ctx);
    stamps_ = stamp_files();
  }
  spdlog::info("{}: tls: certificates reloaded cert={} ca={}", settings_.name,
               settings_.cert_file.string(),
               settings_.require_client_cert ? settings_.ca_file.string() : "-");
  check_expiry(std::chrono::system_clock::now());
  return ok();
}

std::vector<ValidityFinding> ServerTls::check_expiry(TimePoint now, bool log) const {
  std::vector<ValidityFinding> out;
  const auto check = [&](std::string_view role, const std::filesystem::path& path) {
    auto certs = read_pem_certificates(path);
    if (!certs) {
      out.push_back({true, std::string(role) + ": " + certs.error().to_string()});
      return;
    }
    for (auto& f : check_validity(role, path, *certs, now, settings_.expiry_warning_days)) {
      out.push_back(std::move(f));
    }
  };
  check("server certificate", settings_.cert_file);
  if (settings_.require_client_cert) check("client CA", settings_.ca_file);
  if (log) {
    for (const auto& f : out) {
      if (f.error) {
        spdlog::error("{}: tls: {}", settings_.name, f.message);
      } else {
        spdlog::warn("{}: tls: {}", settings_.name, f.message);
      }
    }
  }
  return out;
}

}  // namespace l3afd::tls
