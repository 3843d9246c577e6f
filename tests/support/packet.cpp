#include "support/packet.h"

#include <arpa/inet.h>

#include <cstdio>
#include <stdexcept>

namespace l3afd::testing {
namespace {

constexpr uint16_t kEthIpv4 = 0x0800;
constexpr uint16_t kEthIpv6 = 0x86dd;
constexpr uint8_t kProtoTcp = 6;
constexpr uint8_t kProtoUdp = 17;

void put16(std::vector<uint8_t>& b, uint16_t v) {
  b.push_back(static_cast<uint8_t>(v >> 8));
  b.push_back(static_cast<uint8_t>(v));
}
void put32(std::vector<uint8_t>& b, uint32_t v) {
  put16(b, static_cast<uint16_t>(v >> 16));
  put16(b, static_cast<uint16_t>(v));
}
void set16(std::vector<uint8_t>& b, size_t off, uint16_t v) {
  b[off] = static_cast<uint8_t>(v >> 8);
  b[off + 1] = static_cast<uint8_t>(v);
}

std::vector<uint8_t> mac(const std::string& s) {
  unsigned v[6];
  if (std::sscanf(s.c_str(), "%x:%x:%x:%x:%x:%x", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5]) != 6) {
    throw std::invalid_argument("bad mac " + s);
  }
  std::vector<uint8_t> out;
  for (unsigned x : v) out.push_back(static_cast<uint8_t>(x));
  return out;
}

std::vector<uint8_t> addr(const std::string& s, bool v6) {
  std::vector<uint8_t> out(v6 ? 16 : 4);
  if (::inet_pton(v6 ? AF_INET6 : AF_INET, s.c_str(), out.data()) != 1) {
    throw std::invalid_argument("bad address " + s);
  }
  return out;
}

}  // namespace

uint32_t checksum_add(const uint8_t* data, size_t len, uint32_t sum) {
  for (size_t i = 0; i + 1 < len; i += 2) sum += static_cast<uint32_t>(data[i] << 8 | data[i + 1]);
  if (len % 2 == 1) sum += static_cast<uint32_t>(data[len - 1] << 8);
  return sum;
}

uint16_t checksum_finish(uint32_t sum) {
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<uint16_t>(~sum);
}

PacketBuilder& PacketBuilder::eth(const std::string& src, const std::string& dst) {
  eth_ = Eth{src, dst};
  return *this;
}
PacketBuilder& PacketBuilder::ipv4(const std::string& src, const std::string& dst, uint8_t ttl) {
  ip_ = Ip{false, src, dst, ttl};
  return *this;
}
PacketBuilder& PacketBuilder::ipv6(const std::string& src, const std::string& dst,
                                   uint8_t hop_limit) {
  ip_ = Ip{true, src, dst, hop_limit};
  return *this;
}
PacketBuilder& PacketBuilder::tcp(uint16_t sport, uint16_t dport, uint8_t flags) {
  l4_ = L4{true, sport, dport, flags};
  return *this;
}
PacketBuilder& PacketBuilder::udp(uint16_t sport, uint16_t dport) {
  l4_ = L4{false, sport, dport, 0};
  return *this;
}
PacketBuilder& PacketBuilder::payload(std::vector<uint8_t> bytes) {
  payload_ = std::move(bytes);
  return *this;
}
PacketBuilder& PacketBuilder::payload(const std::string& text) {
  payload_.assign(text.begin(), text.end());
  return *this;
}

PacketBuilder& PacketBuilder::vlan(uint16_t tci, uint16_t tpid) {
  vlans_.push_back(Vlan{tpid, tci});
  return *this;
}
PacketBuilder& PacketBuilder::ethertype(uint16_t type) {
  ethertype_ = type;
  return *this;
}
PacketBuilder& PacketBuilder::ipv4_options(std::vector<uint8_t> options) {
  ipv4_options_ = std::move(options);
  return *this;
}
PacketBuilder& PacketBuilder::ipv4_fragment(uint16_t offset_units, bool more_fragments) {
  ipv4_frag_ = static_cast<uint16_t>((offset_units & 0x1fff) | (more_fragments ? 0x2000 : 0));
  return *this;
}
PacketBuilder& PacketBuilder::ip_protocol(uint8_t protocol) {
  ip_protocol_ = protocol;
  return *this;
}
PacketBuilder& PacketBuilder::ipv6_ext(uint8_t type, std::vector<uint8_t> body) {
  ipv6_exts_.push_back(Ext{type, std::move(body)});
  return *this;
}
PacketBuilder& PacketBuilder::truncate(size_t size) {
  truncate_ = size;
  return *this;
}

std::vector<uint8_t> PacketBuilder::build() const {
  if (l4_ && !ip_) throw std::invalid_argument("l4 header without ip header");
  // L4 segment first (its checksum needs the addresses only).
  std::vector<uint8_t> seg;
  if (l4_) {
    put16(seg, l4_->sport);
    put16(seg, l4_->dport);
    if (l4_->tcp) {
      put32(seg, 1);  // sequence
      put32(seg, 0);  // acknowledgement
      seg.push_back(5 << 4);
      seg.push_back(l4_->flags);
      put16(seg, 65535);  // window
      put16(seg, 0);      // checksum
      put16(seg, 0);      // urgent
    } else {
      put16(seg, static_cast<uint16_t>(8 + payload_.size()));
      put16(seg, 0);
    }
  }
  seg.insert(seg.end(), payload_.begin(), payload_.end());

  std::vector<uint8_t> out;
  if (!vlans_.empty() && !eth_) throw std::invalid_argument("vlan tag without eth header");
  if (eth_) {
    auto d = mac(eth_->dst), s = mac(eth_->src);
    out.insert(out.end(), d.begin(), d.end());
    out.insert(out.end(), s.begin(), s.end());
    for (const auto& v : vlans_) {
      put16(out, v.tpid);
      put16(out, v.tci);
    }
    put16(out, ethertype_
                   ? *ethertype_
                   : (ip_ ? (ip_->v6 ? kEthIpv6 : kEthIpv4) : 0x88b5 /* local experimental */));
  }
  if (ip_) {
    const auto src = addr(ip_->src, ip_->v6), dst = addr(ip_->dst, ip_->v6);
    const uint8_t proto =
        l4_ ? (l4_->tcp ? kProtoTcp : kProtoUdp) : ip_protocol_.value_or(59 /* no next header */);
    if (l4_) {
      uint32_t sum = checksum_add(src.data(), src.size());
      sum = checksum_add(dst.data(), dst.size(), sum);
      sum += proto;
      sum += static_cast<uint32_t>(seg.size());
      sum = checksum_add(seg.data(), seg.size(), sum);
      uint16_t c = checksum_finish(sum);
      if (!l4_->tcp && c == 0) c = 0xffff;
      set16(seg, l4_->tcp ? 16 : 6, c);
    }
    // IPv6 extension headers: each names the next one, the last names `proto`.
    std::vector<uint8_t> exts;
    if (!ipv6_exts_.empty() && !ip_->v6) throw std::invalid_argument("ipv6_ext on ipv4");
    for (size_t i = 0; i < ipv6_exts_.size(); ++i) {
      const Ext& e = ipv6_exts_[i];
      exts.push_back(i + 1 < ipv6_exts_.size() ? ipv6_exts_[i + 1].type : proto);
      if (e.type == 44) {
        if (e.body.size() != 6) throw std::invalid_argument("fragment header body is 6 bytes");
        exts.push_back(0);
      } else {
        if ((2 + e.body.size()) % 8 != 0 || 2 + e.body.size() > 2048) {
          throw std::invalid_argument("extension header size must be a multiple of 8");
        }
        exts.push_back(static_cast<uint8_t>((2 + e.body.size()) / 8 - 1));
      }
      exts.insert(exts.end(), e.body.begin(), e.body.end());
    }
    if (ipv4_options_.size() % 4 != 0 || ipv4_options_.size() > 40) {
      throw std::invalid_argument("ipv4 options: a multiple of 4 bytes, at most 40");
    }
    const size_t ihl = 5 + ipv4_options_.size() / 4;
    const size_t ip_start = out.size();
    if (ip_->v6) {
      put32(out, 6u << 28);
      put16(out, static_cast<uint16_t>(exts.size() + seg.size()));
      out.push_back(ipv6_exts_.empty() ? proto : ipv6_exts_.front().type);
      out.push_back(ip_->ttl);
    } else {
      out.push_back(static_cast<uint8_t>(0x40 | ihl));
      out.push_back(0);
      put16(out, static_cast<uint16_t>(4 * ihl + seg.size()));
      put16(out, 0);  // id
      put16(out, ipv4_frag_);
      out.push_back(ip_->ttl);
      out.push_back(proto);
      put16(out, 0);
    }
    out.insert(out.end(), src.begin(), src.end());
    out.insert(out.end(), dst.begin(), dst.end());
    if (!ip_->v6) {
      out.insert(out.end(), ipv4_options_.begin(), ipv4_options_.end());
      set16(out, ip_start + 10, checksum_finish(checksum_add(out.data() + ip_start, 4 * ihl)));
    }
    out.insert(out.end(), exts.begin(), exts.end());
  }
  out.insert(out.end(), seg.begin(), seg.end());
  if (truncate_ && *truncate_ < out.size()) out.resize(*truncate_);
  return out;
}

}  // namespace l3afd::testing
