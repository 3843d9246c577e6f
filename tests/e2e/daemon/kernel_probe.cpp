#include "e2e/daemon/kernel_probe.h"

#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>

#include "core/unique_fd.h"

namespace l3afd::e2e {

namespace {

constexpr const char* kBpffs = "/sys/fs/bpf";
/// enum bpf_attach_type values of TCX (Linux 6.6), absent from the build's 6.1 UAPI headers.
constexpr auto kTcxIngress = static_cast<enum bpf_attach_type>(46);
constexpr auto kTcxEgress = static_cast<enum bpf_attach_type>(47);

std::vector<uint32_t> tcx_query(unsigned ifindex, enum bpf_attach_type type) {
  std::vector<uint32_t> ids(64);
  __u32 count = static_cast<__u32>(ids.size());
  __u32 flags = 0;
  if (bpf_prog_query(static_cast<int>(ifindex), type, 0, &flags, ids.data(), &count) != 0) {
    ADD_FAILURE() << "bpf_prog_query(tcx) on ifindex " << ifindex << ": " << std::strerror(errno);
    return {};
  }
  ids.resize(count);
  std::sort(ids.begin(), ids.end());
  return ids;
}

std::vector<uint32_t> classic_query(const std::string& iface, const char* dir) {
  auto r = testing::run_command({"tc", "filter", "show", "dev", iface, dir});
  std::vector<uint32_t> ids;
  std::istringstream in(r.output);
  std::string word, prev;
  while (in >> word) {
    if (prev == "id") ids.push_back(static_cast<uint32_t>(std::strtoul(word.c_str(), nullptr, 10)));
    prev = word;
  }
  std::sort(ids.begin(), ids.end());
  return ids;
}

/// "prog:ID", "map:ID" or "link:ID" of a pinned object, from /proc/self/fdinfo.
std::string pinned_object(const std::string& path) {
  UniqueFd fd(bpf_obj_get(path.c_str()));
  if (!fd) return std::string("unreadable:") + std::strerror(errno);
  std::ifstream in("/proc/self/fdinfo/" + std::to_string(fd.get()));
  std::string line;
  while (std::getline(in, line)) {
    for (const char* k : {"prog_id:", "map_id:", "link_id:"}) {
      if (line.starts_with(k)) {
        std::string kind(k, std::strlen(k) - 4);
        return kind + ":" +
               std::to_string(std::strtoul(line.c_str() + std::strlen(k), nullptr, 10));
      }
    }
  }
  return "unknown";
}

}  // namespace

bool eventually(const std::function<bool()>& pred) {
  for (int i = 0; i < 200; ++i) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return pred();
}

bool prog_alive(uint32_t id) {
  if (id == 0) return false;
  UniqueFd fd(bpf_prog_get_fd_by_id(id));
  return static_cast<bool>(fd);
}

bool prog_gone_eventually(uint32_t id) {
  return eventually([id] { return !prog_alive(id); });
}

AttachedPrograms attached_programs(const std::string& iface) {
  AttachedPrograms a;
  const unsigned ifindex = if_nametoindex(iface.c_str());
  if (ifindex == 0) return a;
  __u32 id = 0;
  if (bpf_xdp_query_id(static_cast<int>(ifindex), 0, &id) == 0) a.xdp = id;
  a.tcx_ingress = tcx_query(ifindex, kTcxIngress);
  a.tcx_egress = tcx_query(ifindex, kTcxEgress);
  a.classic_ingress = classic_query(iface, "ingress");
  a.classic_egress = classic_query(iface, "egress");
  return a;
}

std::vector<std::string> bpffs_files() {
  std::vector<std::string> out;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(kBpffs, ec); !ec && it != fs::end(it);
       it.increment(ec)) {
    const std::string p = it->path().string();
    if (!it->is_directory() && !p.ends_with(".debug")) out.push_back(p);
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::map<std::string, std::string> pin_listing() {
  std::map<std::string, std::string> out;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(kBpffs, ec); !ec && it != fs::end(it);
       it.increment(ec)) {
    const std::string p = it->path().string();
    if (p.ends_with(".debug")) continue;
    out[p] = it->is_directory() ? "dir" : pinned_object(p);
  }
  return out;
}

int send_udp_to_peer(const testing::VethPair& v, int count, uint16_t port) {
  const int tx = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  const int rx = v.peer_ns().socket_in(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  int received = 0;
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(port);
  ::inet_pton(AF_INET, v.peer_addr().c_str(), &to.sin_addr);
  timeval tv{3, 0};
  if (tx >= 0 && rx >= 0 && ::bind(rx, reinterpret_cast<sockaddr*>(&to), sizeof(to)) == 0 &&
      ::setsockopt(rx, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) == 0) {
    const char payload[] = "l3afd-e2e";
    for (int i = 0; i < count; ++i) {
      (void)::sendto(tx, payload, sizeof(payload), 0, reinterpret_cast<sockaddr*>(&to), sizeof(to));
      char buf[64];
      if (::recv(rx, buf, sizeof(buf), 0) > 0) ++received;
    }
  }
  if (tx >= 0) ::close(tx);
  if (rx >= 0) ::close(rx);
  return received;
}

}  // namespace l3afd::e2e
