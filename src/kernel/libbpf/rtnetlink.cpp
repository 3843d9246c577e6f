#include "kernel/libbpf/rtnetlink.h"

#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/netlink.h>
#include <linux/pkt_cls.h>
#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>

namespace l3afd::kernel::libbpf {
namespace {

constexpr size_t kReceiveBuffer = 64 * 1024;

/// Appends netlink structures and attributes to a message, keeping NLMSG/RTA alignment.
class MessageBuilder {
 public:
  MessageBuilder(uint16_t type, uint16_t flags, uint32_t seq) {
    nlmsghdr h{};
    h.nlmsg_type = type;
    // Dumps end with NLMSG_DONE; every other request asks for an explicit ACK.
    const bool dump = (flags & NLM_F_DUMP) == NLM_F_DUMP;
    h.nlmsg_flags = static_cast<uint16_t>(flags | NLM_F_REQUEST | (dump ? 0 : NLM_F_ACK));
    h.nlmsg_seq = seq;
    append(&h, sizeof(h));
  }
  void append(const void* data, size_t len) {
    const auto* p = static_cast<const uint8_t*>(data);
    buf_.insert(buf_.end(), p, p + len);
    buf_.resize(NLMSG_ALIGN(buf_.size()), 0);
  }
  void attr(uint16_t type, const void* data, size_t len) {
    rtattr a{};
    a.rta_type = type;
    a.rta_len = static_cast<uint16_t>(RTA_LENGTH(len));
    const size_t start = buf_.size();
    buf_.resize(start + RTA_SPACE(len), 0);
    std::memcpy(buf_.data() + start, &a, sizeof(a));
    if (len > 0) std::memcpy(buf_.data() + start + RTA_LENGTH(0), data, len);
  }
  void attr_str(uint16_t type, const std::string& s) { attr(type, s.c_str(), s.size() + 1); }
  void attr_u32(uint16_t type, uint32_t v) { attr(type, &v, sizeof(v)); }
  size_t begin_nested(uint16_t type) {
    const size_t start = buf_.size();
    attr(type, nullptr, 0);
    return start;
  }
  void end_nested(size_t start) {
    rtattr a{};
    std::memcpy(&a, buf_.data() + start, sizeof(a));
    a.rta_len = static_cast<uint16_t>(buf_.size() - start);
    std::memcpy(buf_.data() + start, &a, sizeof(a));
  }
  std::vector<uint8_t> finish() {
    nlmsghdr h{};
    std::memcpy(&h, buf_.data(), sizeof(h));
    h.nlmsg_len = static_cast<uint32_t>(buf_.size());
    std::memcpy(buf_.data(), &h, sizeof(h));
    return std::move(buf_);
  }

 private:
  std::vector<uint8_t> buf_;
};

tcmsg make_tcmsg(uint32_t ifindex, uint32_t parent, uint32_t handle, uint32_t info) {
  tcmsg t{};
  t.tcm_family = AF_UNSPEC;
  t.tcm_ifindex = static_cast<int>(ifindex);
  t.tcm_parent = parent;
  t.tcm_handle = handle;
  t.tcm_info = info;
  return t;
}

uint32_t filter_info(uint16_t priority) {
  return TC_H_MAKE(static_cast<uint32_t>(priority) << 16, htons(ETH_P_ALL));
}

/// Walks the attributes in [data, data+len) and calls f(type, payload, payload_len).
template <class F>
void for_each_attr(const uint8_t* data, size_t len, F&& f) {
  while (len >= sizeof(rtattr)) {
    rtattr a{};
    std::memcpy(&a, data, sizeof(a));
    if (a.rta_len < sizeof(rtattr) || a.rta_len > len) return;
    f(static_cast<uint16_t>(a.rta_type & NLA_TYPE_MASK), data + RTA_LENGTH(0),
      a.rta_len - RTA_LENGTH(0));
    const size_t step = RTA_ALIGN(a.rta_len);
    if (step >= len) return;
    data += step;
    len -= step;
  }
}

std::string attr_string(const uint8_t* p, size_t len) {
  std::string s(reinterpret_cast<const char*>(p), len);
  if (auto nul = s.find('\0'); nul != std::string::npos) s.resize(nul);
  return s;
}

uint32_t attr_u32(const uint8_t* p, size_t len) {
  uint32_t v = 0;
  if (len >= sizeof(v)) std::memcpy(&v, p, sizeof(v));
  return v;
}

}  // namespace

uint32_t clsact_parent(bool egress) noexcept {
  return TC_H_MAKE(TC_H_CLSACT, egress ? TC_H_MIN_EGRESS : TC_H_MIN_INGRESS);
}

Result<Rtnetlink> Rtnetlink::open() {
  UniqueFd fd(::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE));
  if (!fd) return fail(Errc::Kernel, "open rtnetlink socket", errno);
  sockaddr_nl local{};
  local.nl_family = AF_NETLINK;
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&local), sizeof(local)) != 0) {
    return fail(Errc::Kernel, "bind rtnetlink socket", errno);
  }
  int one = 1;
  // Extended ACKs carry the kernel's reason text; failing to enable them is harmless.
  (void)::setsockopt(fd.get(), SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one));
  return Rtnetlink(std::move(fd));
}

Result<std::vector<std::vector<uint8_t>>> Rtnetlink::transact(std::vector<uint8_t> msg,
                                                              const char* what) {
  nlmsghdr sent{};
  std::memcpy(&sent, msg.data(), sizeof(sent));
  sockaddr_nl kernel_addr{};
  kernel_addr.nl_family = AF_NETLINK;
  if (::sendto(fd_.get(), msg.data(), msg.size(), 0, reinterpret_cast<sockaddr*>(&kernel_addr),
               sizeof(kernel_addr)) < 0) {
    return fail(Errc::Kernel, std::string("send ") + what, errno);
  }
  const bool dump = (sent.nlmsg_flags & NLM_F_DUMP) == NLM_F_DUMP;
  std::vector<std::vector<uint8_t>> replies;
  std::vector<uint8_t> buf(kReceiveBuffer);
  for (;;) {
    const ssize_t n = ::recv(fd_.get(), buf.data(), buf.size(), 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail(Errc::Kernel, std::string("receive ") + what, errno);
    }
    size_t left = static_cast<size_t>(n);
    const uint8_t* p = buf.data();
    while (left >= sizeof(nlmsghdr)) {
      nlmsghdr h{};
      std::memcpy(&h, p, sizeof(h));
      if (h.nlmsg_len < sizeof(nlmsghdr) || h.nlmsg_len > left) {
        return fail(Errc::Kernel, std::string("truncated netlink reply to ") + what, EPROTO);
      }
      if (h.nlmsg_seq == sent.nlmsg_seq) {
        if (h.nlmsg_type == NLMSG_DONE) return replies;
        if (h.nlmsg_type == NLMSG_ERROR) {
          nlmsgerr e{};
          std::memcpy(&e, p + NLMSG_HDRLEN,
                      std::min<size_t>(sizeof(e), h.nlmsg_len - NLMSG_HDRLEN));
          if (e.error == 0) return replies;
          return fail(Errc::Kernel, what, -e.error);
        }
        replies.emplace_back(p, p + h.nlmsg_len);
        if (!dump) return replies;
      }
      const size_t step = NLMSG_ALIGN(h.nlmsg_len);
      if (step >= left) break;
      p += step;
      left -= step;
    }
  }
}

Result<bool> Rtnetlink::ensure_clsact(uint32_t ifindex) {
  MessageBuilder m(RTM_NEWQDISC, NLM_F_CREATE | NLM_F_EXCL, seq_++);
  const tcmsg t = make_tcmsg(ifindex, TC_H_CLSACT, TC_H_MAKE(TC_H_CLSACT, 0), 0);
  m.append(&t, sizeof(t));
  m.attr_str(TCA_KIND, "clsact");
  auto r = transact(m.finish(), "create clsact qdisc");
  if (r) return true;
  if (r.error().sys_errno == EEXIST) return false;
  return fail(std::move(r.error()));
}

Status Rtnetlink::add_bpf_filter(const BpfFilterSpec& spec, bool replace) {
  const uint16_t flags = replace ? (NLM_F_CREATE | NLM_F_REPLACE) : (NLM_F_CREATE | NLM_F_EXCL);
  MessageBuilder m(RTM_NEWTFILTER, flags, seq_++);
  const tcmsg t = make_tcmsg(spec.ifindex, spec.parent, spec.handle, filter_info(spec.priority));
  m.append(&t, sizeof(t));
  m.attr_str(TCA_KIND, "bpf");
  const size_t opts = m.begin_nested(TCA_OPTIONS);
  m.attr_u32(TCA_BPF_FD, static_cast<uint32_t>(spec.prog_fd));
  m.attr_str(TCA_BPF_NAME, spec.name);
  m.attr_u32(TCA_BPF_FLAGS, TCA_BPF_FLAG_ACT_DIRECT);
  m.end_nested(opts);
  auto r = transact(m.finish(), replace ? "replace bpf filter" : "add bpf filter");
  if (r) return ok();
  if (!replace && r.error().sys_errno == EEXIST) {
    return fail(Errc::Conflict, "a filter with l3afd's handle and priority exists on the hook",
                EEXIST);
  }
  return fail(std::move(r.error()));
}

Status Rtnetlink::delete_filter(uint32_t ifindex, uint32_t parent, uint16_t priority,
                                uint32_t handle) {
  MessageBuilder m(RTM_DELTFILTER, 0, seq_++);
  const tcmsg t = make_tcmsg(ifindex, parent, handle, filter_info(priority));
  m.append(&t, sizeof(t));
  m.attr_str(TCA_KIND, "bpf");
  auto r = transact(m.finish(), "delete bpf filter");
  if (r) return ok();
  const int e = r.error().sys_errno;
  if (e == ENOENT || e == EINVAL) {
    return fail(Errc::NotFound, "no filter with l3afd's handle and priority on the hook", e);
  }
  return fail(std::move(r.error()));
}

Result<std::vector<TcFilterInfo>> Rtnetlink::list_filters(uint32_t ifindex, uint32_t parent) {
  MessageBuilder m(RTM_GETTFILTER, NLM_F_DUMP, seq_++);
  const tcmsg t = make_tcmsg(ifindex, parent, 0, 0);
  m.append(&t, sizeof(t));
  auto replies = transact(m.finish(), "list filters");
  if (!replies) {
    if (replies.error().sys_errno == EINVAL || replies.error().sys_errno == ENOENT) {
      return std::vector<TcFilterInfo>{};
    }
    return fail(std::move(replies.error()));
  }
  std::vector<TcFilterInfo> out;
  for (const auto& msg : *replies) {
    if (msg.size() < NLMSG_HDRLEN + sizeof(tcmsg)) continue;
    tcmsg tm{};
    std::memcpy(&tm, msg.data() + NLMSG_HDRLEN, sizeof(tm));
    if (tm.tcm_handle == 0 || tm.tcm_parent != parent) continue;
    TcFilterInfo f;
    f.handle = tm.tcm_handle;
    f.priority = static_cast<uint16_t>(TC_H_MAJ(tm.tcm_info) >> 16);
    f.protocol = ntohs(static_cast<uint16_t>(TC_H_MIN(tm.tcm_info)));
    const size_t off = NLMSG_HDRLEN + NLMSG_ALIGN(sizeof(tcmsg));
    for_each_attr(msg.data() + off, msg.size() - off,
                  [&](uint16_t type, const uint8_t* p, size_t len) {
                    if (type == TCA_KIND) f.kind = attr_string(p, len);
                    if (type != TCA_OPTIONS) return;
                    for_each_attr(p, len, [&](uint16_t t2, const uint8_t* q, size_t l2) {
                      if (t2 == TCA_BPF_NAME) f.bpf_name = attr_string(q, l2);
                      if (t2 == TCA_BPF_ID) f.bpf_prog_id = attr_u32(q, l2);
                      if (t2 == TCA_BPF_FLAGS) {
                        f.bpf_direct_action = (attr_u32(q, l2) & TCA_BPF_FLAG_ACT_DIRECT) != 0;
                      }
                    });
                  });
    out.push_back(std::move(f));
  }
  return out;
}

}  // namespace l3afd::kernel::libbpf
