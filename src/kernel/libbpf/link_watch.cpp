#include "kernel/libbpf/link_watch.h"

#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <poll.h>
#include <spdlog/spdlog.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <memory>

namespace l3afd::kernel::libbpf {

namespace {

/// The IFLA_IFNAME of the RTM_NEWLINK/RTM_DELLINK message at `msg` (`len` bytes, header
/// included), "" if absent. Parsed by copying, never by casting into the buffer.
std::string link_name(const char* msg, std::size_t len) {
  std::size_t off = NLMSG_HDRLEN + NLMSG_ALIGN(sizeof(ifinfomsg));
  while (off + sizeof(rtattr) <= len) {
    rtattr a{};
    std::memcpy(&a, msg + off, sizeof(a));
    if (a.rta_len < sizeof(rtattr) || off + a.rta_len > len) break;
    if (a.rta_type == IFLA_IFNAME) {
      const char* data = msg + off + RTA_LENGTH(0);
      return std::string(data, strnlen(data, a.rta_len - RTA_LENGTH(0)));
    }
    off += RTA_ALIGN(a.rta_len);
  }
  return {};
}

}  // namespace

Result<std::unique_ptr<LinkWatch>> LinkWatch::start(Wanted wanted, Notify notify) {
  UniqueFd sock(::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE));
  if (!sock) return fail(Errc::Kernel, "open netlink socket for interface events", errno);
  sockaddr_nl addr{};
  addr.nl_family = AF_NETLINK;
  addr.nl_groups = RTMGRP_LINK;
  if (::bind(sock.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) != 0) {
    return fail(Errc::Kernel, "bind netlink socket to RTNLGRP_LINK", errno);
  }
  UniqueFd wake(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!wake) return fail(Errc::Kernel, "eventfd for the interface watcher", errno);
  std::unique_ptr<LinkWatch> w(
      new LinkWatch(std::move(sock), std::move(wake), std::move(wanted), std::move(notify)));
  w->thread_ = std::thread([p = w.get()] { p->run(); });
  return w;
}

LinkWatch::LinkWatch(UniqueFd sock, UniqueFd wake, Wanted wanted, Notify notify)
    : sock_(std::move(sock)),
      wake_(std::move(wake)),
      wanted_(std::move(wanted)),
      notify_(std::move(notify)) {}

LinkWatch::~LinkWatch() {
  stop();
}

void LinkWatch::stop() {
  if (!thread_.joinable()) return;
  const std::uint64_t one = 1;
  if (::write(wake_.get(), &one, sizeof(one)) < 0) {
    spdlog::warn("interface watcher: wake-up failed: {}", std::strerror(errno));
  }
  thread_.join();
}

void LinkWatch::run() {
  std::array<char, 16384> buf{};
  for (;;) {
    std::array<pollfd, 2> fds{pollfd{sock_.get(), POLLIN, 0}, pollfd{wake_.get(), POLLIN, 0}};
    if (::poll(fds.data(), fds.size(), -1) < 0) {
      if (errno == EINTR) continue;
      spdlog::error("interface watcher stopped: poll: {}", std::strerror(errno));
      return;
    }
    if (fds[1].revents != 0) return;
    bool hit = false;
    // Drain what is there: one notification per batch.
    for (;;) {
      const ssize_t n = ::recv(sock_.get(), buf.data(), buf.size(), MSG_DONTWAIT);
      if (n < 0) {
        if (errno == EINTR) continue;
        if (errno == ENOBUFS) {  // messages were lost: check anyway
          hit = true;
          continue;
        }
        if (errno != EAGAIN && errno != EWOULDBLOCK) {
          spdlog::error("interface watcher stopped: recv: {}", std::strerror(errno));
          return;
        }
        break;
      }
      std::size_t off = 0;
      const auto total = static_cast<std::size_t>(n);
      while (off + NLMSG_HDRLEN <= total) {
        nlmsghdr h{};
        std::memcpy(&h, buf.data() + off, sizeof(h));
        if (h.nlmsg_len < NLMSG_HDRLEN || off + h.nlmsg_len > total) break;
        if (h.nlmsg_type == RTM_NEWLINK || h.nlmsg_type == RTM_DELLINK) {
          const std::string name = link_name(buf.data() + off, h.nlmsg_len);
          if (!name.empty() && wanted_(name)) {
            spdlog::debug("interface event {} iface={}",
                          h.nlmsg_type == RTM_NEWLINK ? "RTM_NEWLINK" : "RTM_DELLINK", name);
            hit = true;
          }
        }
        off += NLMSG_ALIGN(h.nlmsg_len);
      }
    }
    if (hit) notify_();
  }
}

}  // namespace l3afd::kernel::libbpf
