#include "daemon/listener_tls.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <filesystem>
#include <optional>

namespace l3afd::daemon {

namespace {

/// The host part of "host:port" / "[v6]:port" (brackets removed); nullopt when malformed.
std::optional<std::string> host_of(std::string_view address) {
  if (!address.empty() && address.front() == '[') {
    const auto close = address.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    return std::string(address.substr(1, close - 1));
  }
  const auto colon = address.rfind(':');
  if (colon == std::string_view::npos) return std::nullopt;
  return std::string(address.substr(0, colon));
}

bool loopback_sockaddr(const sockaddr* sa) {
  if (sa->sa_family == AF_INET) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(sa);
    return (ntohl(in->sin_addr.s_addr) >> 24) == 127;
  }
  if (sa->sa_family == AF_INET6) {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(sa);
    if (IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr)) return true;
    // ::ffff:127.x.y.z
    return IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr) && in6->sin6_addr.s6_addr[12] == 127;
  }
  return false;
}

}  // namespace

bool is_loopback_listen_address(std::string_view address) {
  const auto host = host_of(address);
  if (!host || host->empty()) return false;  // all interfaces
  if (*host == "localhost") return true;     // the server binds 127.0.0.1 for it
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  if (::getaddrinfo(host->c_str(), nullptr, &hints, &res) != 0 || res == nullptr) return false;
  bool all = true;
  for (const addrinfo* a = res; a != nullptr; a = a->ai_next)
    all = all && loopback_sockaddr(a->ai_addr);
  ::freeaddrinfo(res);
  return all;
}

bool api_mtls_required(const config::DaemonConfig& cfg, std::string& why) {
  if (cfg.mtls.enabled) {
    why = "[mtls] enabled";
    return true;
  }
  if (cfg.l3afd.environment == "PROD" &&
      !is_loopback_listen_address(cfg.l3af_configs.restapi_addr)) {
    why = "[l3afd] environment: PROD and [l3af-configs] restapi-addr " +
          cfg.l3af_configs.restapi_addr + " is not loopback";
    return true;
  }
  return false;
}

Result<std::shared_ptr<tls::ServerTls>> listener_tls(const config::DaemonConfig& cfg,
                                                     std::string name, bool mtls) {
  const auto& m = cfg.mtls;
  const auto dir = std::filesystem::absolute(m.cert_dir.empty() ? "." : m.cert_dir);
  tls::ServerTlsSettings s;
  s.name = std::move(name);
  s.ca_file = (dir / m.cacert_filename).lexically_normal();
  s.cert_file = (dir / m.server_cert_filename).lexically_normal();
  s.key_file = (dir / m.server_key_filename).lexically_normal();
  s.require_client_cert = mtls;
  if (mtls) s.san_rules = m.san_match_rules;
  s.min_version = m.min_tls_version == config::TlsVersion::Tls12 ? tls::MinVersion::Tls12
                                                                 : tls::MinVersion::Tls13;
  s.expiry_warning_days = static_cast<int>(m.cert_expiry_warning_days);
  auto t = tls::ServerTls::load(std::move(s));
  if (!t) {
    Error e = std::move(t.error());
    e.message = "[mtls] " + e.message;
    return fail(std::move(e));
  }
  return t;
}

}  // namespace l3afd::daemon
