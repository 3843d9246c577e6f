#include "config/host_port.h"

#include <arpa/inet.h>

#include <array>
#include <cstring>

namespace l3afd::config {

Result<std::pair<std::string, std::uint16_t>> split_host_port(std::string_view addr) {
  const auto error = [&](std::string_view why) {
    return fail(Errc::InvalidPayload, "address \"" + std::string(addr) + "\": " + std::string(why));
  };
  const std::size_t colon = addr.rfind(':');
  if (colon == std::string_view::npos) return error("missing port");
  std::string_view host;
  std::size_t host_from = 0;  // where '[' may no longer appear
  std::size_t host_to = 0;    // where ']' may no longer appear
  if (!addr.empty() && addr[0] == '[') {
    const std::size_t close = addr.find(']');
    if (close == std::string_view::npos) return error("missing ']'");
    if (close + 1 == addr.size()) return error("missing port");
    if (close + 1 != colon) {
      return error(addr[close + 1] == ':' ? "too many colons" : "missing port");
    }
    host = addr.substr(1, close - 1);
    host_from = 1;
    host_to = close + 1;
  } else {
    host = addr.substr(0, colon);
    if (host.find(':') != std::string_view::npos) return error("too many colons");
  }
  if (addr.find('[', host_from) != std::string_view::npos) return error("unexpected '['");
  if (addr.find(']', host_to) != std::string_view::npos) return error("unexpected ']'");

  const std::string_view port = addr.substr(colon + 1);
  if (port.empty()) return error("empty port");
  std::uint32_t value = 0;
  for (char c : port) {
    if (c < '0' || c > '9') return error("port is not a number");
    value = value * 10 + static_cast<std::uint32_t>(c - '0');
    if (value > 65535) return error("port is above 65535");
  }
  return std::pair<std::string, std::uint16_t>{std::string(host),
                                               static_cast<std::uint16_t>(value)};
}

HostKind classify_host(std::string_view host) {
  if (host.empty()) return HostKind::Wildcard;
  std::string text(host.substr(0, host.find('%')));
  if (text.find('\0') != std::string::npos) return HostKind::Name;
  std::array<unsigned char, 16> addr{};
  if (inet_pton(AF_INET, text.c_str(), addr.data()) == 1) {
    return addr[0] == 127 ? HostKind::LoopbackIp : HostKind::OtherIp;
  }
  if (inet_pton(AF_INET6, text.c_str(), addr.data()) == 1) {
    static constexpr std::array<unsigned char, 16> kLoopback6{0, 0, 0, 0, 0, 0, 0, 0,
                                                              0, 0, 0, 0, 0, 0, 0, 1};
    static constexpr std::array<unsigned char, 12> kV4Mapped{0, 0, 0, 0, 0,    0,
                                                             0, 0, 0, 0, 0xff, 0xff};
    if (addr == kLoopback6) return HostKind::LoopbackIp;
    if (std::memcmp(addr.data(), kV4Mapped.data(), kV4Mapped.size()) == 0) {
      return addr[12] == 127 ? HostKind::LoopbackIp : HostKind::OtherIp;
    }
    return HostKind::OtherIp;
  }
  return HostKind::Name;
}

}  // namespace l3afd::config
