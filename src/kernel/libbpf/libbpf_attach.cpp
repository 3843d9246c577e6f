// attach() and detach() of LibbpfKernel: XDP links, TCX links (libbpf 1.1 has no wrapper, see
// compat.h) and classic clsact filters (rtnetlink.h).
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/if_link.h>
#include <net/if.h>
#include <unistd.h>

#include <cerrno>

#include "core/log.h"
#include "core/unique_fd.h"
#include "kernel/libbpf/compat.h"
#include "kernel/libbpf/libbpf_kernel.h"
#include "kernel/libbpf/link_swap.h"
#include "kernel/libbpf/pins.h"
#include "kernel/libbpf/rtnetlink.h"
#include "kernel/libbpf/tc_constants.h"

namespace l3afd::kernel::libbpf {
namespace fs = std::filesystem;

namespace {

constexpr int kEnotsupp = 524;  // kernel-internal ENOTSUPP, returned by some drivers
/// Inspections of an unowned link before a takeover gives up (another tool keeps swapping it).
constexpr int kTakeoverAttempts = 3;

Result<bpf_link_info> link_info(int fd) {
  bpf_link_info info{};
  uint32_t len = sizeof(info);
  if (bpf_obj_get_info_by_fd(fd, &info, &len) != 0)
    return fail(Errc::Kernel, "read link info", errno);
  return info;
}

bool native_refused(int err) {
  return err == EOPNOTSUPP || err == EINVAL || err == kEnotsupp || err == ERANGE;
}

/// Pins a link at `path` (creating directories), keeping the link fd. Returns the created dirs.
Result<std::vector<fs::path>> pin_link(int fd, const fs::path& path) {
  auto dirs = make_dirs(path.parent_path());
  if (!dirs) return dirs;
  if (auto s = pin_replace(fd, path); !s) {
    remove_dirs_if_empty(*dirs);
    return fail(std::move(s.error()));
  }
  return dirs;
}

}  // namespace

Result<bool> LibbpfKernel::tcx_supported(uint32_t ifindex) {
  if (tcx_supported_) return *tcx_supported_;
  uint32_t flags = 0;
  uint32_t count = 0;
  if (bpf_prog_query(static_cast<int>(ifindex), kBpfTcxIngress, 0, &flags, nullptr, &count) == 0) {
    tcx_supported_ = true;
  } else if (errno == EINVAL) {
    tcx_supported_ = false;
  } else {
    return fail(Errc::Kernel, "probe tcx support", errno);
  }
  spdlog::info("op=probe_tcx supported={}", *tcx_supported_);
  return *tcx_supported_;
}

void LibbpfKernel::release_previous_owner(const Entry& self, const Attachment& a) {
  for (auto& [key, other] : entries_) {
    if (other.get() == &self || !other->attachment) continue;
    Attachment& o = *other->attachment;
    const bool same = a.mode == AttachMode::TcClassic
                          ? (o.mode == AttachMode::TcClassic && o.ifindex == a.ifindex &&
                             o.tc_parent == a.tc_parent)
                          : (o.link_id != 0 && o.link_id == a.link_id);
    if (!same) continue;
    spdlog::info("op=attach key={} takes over the attachment of key={}", self.spec.key, key);
    other->attachment.reset();  // releases its fd of the link; self holds its own
  }
}

Result<AttachInfo> LibbpfKernel::attach(const AttachSpec& spec) {
  std::lock_guard lock(mutex_);
  Entry* e = find(spec.key);
  if (e == nullptr) return fail(Errc::NotFound, "key " + spec.key + " is not loaded");
  if (e->attachment) return fail(Errc::Conflict, "key " + spec.key + " is already attached");
  const unsigned ifindex = ::if_nametoindex(spec.iface.c_str());
  if (ifindex == 0)
    return fail(Errc::NotFound, "interface " + spec.iface + " does not exist", errno);

  const bool tc = model::is_tc(spec.hook);
  if (spec.replace_link_pin) {
    std::error_code ec;
    if (fs::exists(*spec.replace_link_pin, ec) && !(tc && spec.tc_mode == TcMode::Classic)) {
      UniqueFd link(bpf_obj_get(spec.replace_link_pin->c_str()));
      if (!link) {
        return fail(Errc::Kernel, "open link pin " + spec.replace_link_pin->string(), errno);
      }
      auto info = link_info(link.get());
      if (!info) return fail(std::move(info.error()));
      if (link_info_ifindex(*info) != 0) return replace_link(*e, spec, std::move(link));
      // The link's interface was deleted (maybe created again since, with another ifindex):
      // the kernel detached it and it can never be switched again (ENOLINK). Nothing runs on
      // the hook through it, so the program is attached anew; the defunct link is unpinned
      // (its owner's fd still holds it until that key is unloaded).
      spdlog::warn(
          "op=attach key={} iface={} link_id={} pinned at {} is defunct (its interface "
          "was deleted): attaching anew",
          spec.key, spec.iface, info->id, spec.replace_link_pin->string());
      if (auto s = unpin(*spec.replace_link_pin); !s) return fail(std::move(s.error()));
    }
    if (tc && spec.tc_mode != TcMode::Tcx) {
      auto nl = Rtnetlink::open();
      if (!nl) return fail(std::move(nl.error()));
      const uint32_t parent = clsact_parent(spec.hook == model::Hook::TcEgress);
      auto filters = nl->list_filters(ifindex, parent);
      if (!filters) return fail(std::move(filters.error()));
      for (const auto& f : *filters) {
        if (f.handle == kClassicFilterHandle && f.priority == kClassicFilterPriority) {
          return attach_classic(*e, spec, ifindex, true);
        }
      }
    }
  }
  if (!tc) return attach_xdp(*e, spec, ifindex);
  bool use_tcx = spec.tc_mode == TcMode::Tcx;
  if (spec.tc_mode == TcMode::Auto) {
    auto supported = tcx_supported(ifindex);
    if (!supported) return fail(std::move(supported.error()));
    use_tcx = *supported;
  }
  return use_tcx ? attach_tcx(*e, spec, ifindex) : attach_classic(*e, spec, ifindex, false);
}

Result<AttachInfo> LibbpfKernel::attach_xdp(Entry& e, const AttachSpec& spec, uint32_t ifindex) {
  const int prog_fd = e.prog_fd;
  auto create = [&](uint32_t flags) {
    LIBBPF_OPTS(bpf_link_create_opts, opts, .flags = flags);
    return UniqueFd(bpf_link_create(prog_fd, static_cast<int>(ifindex), BPF_XDP, &opts));
  };
  AttachMode mode = AttachMode::XdpNative;
  UniqueFd link;
  if (!options_.xdp_generic_only) {
    link = create(XDP_FLAGS_DRV_MODE);
    if (!link) {
      const int err = errno;
      if (err == EBUSY || err == EEXIST) {
        return fail(Errc::Conflict, "interface " + spec.iface + " already has an xdp program", err);
      }
      if (!native_refused(err)) return fail(Errc::Kernel, "attach xdp to " + spec.iface, err);
      spdlog::warn("op=attach key={} iface={} native xdp refused (errno {}), using generic mode",
                   spec.key, spec.iface, err);
    }
  }
  if (!link) {
    mode = AttachMode::XdpGeneric;
    link = create(XDP_FLAGS_SKB_MODE);
    if (!link) {
      const int err = errno;
      const Errc c = (err == EBUSY || err == EEXIST) ? Errc::Conflict : Errc::Kernel;
      return fail(c, "attach generic xdp to " + spec.iface, err);
    }
  }
  auto info = link_info(link.get());
  if (!info) return fail(std::move(info.error()));
  auto dirs = pin_link(link.get(), spec.link_pin_path);
  if (!dirs) return fail(std::move(dirs.error()));
  e.attachment =
      Attachment{mode, ifindex, info->id, std::move(link), spec.link_pin_path, 0, std::move(*dirs)};
  spdlog::info("op=attach key={} iface={} mode={} link_id={}", spec.key, spec.iface,
               attach_mode_name(mode), info->id);
  return AttachInfo{mode, info->id, ifindex};
}

Result<AttachInfo> LibbpfKernel::attach_tcx(Entry& e, const AttachSpec& spec, uint32_t ifindex) {
  const auto type = spec.hook == model::Hook::TcEgress ? kBpfTcxEgress : kBpfTcxIngress;
  UniqueFd link(bpf_link_create(e.prog_fd, static_cast<int>(ifindex), type, nullptr));
  if (!link) return fail(Errc::Kernel, "attach tcx to " + spec.iface, errno);
  auto info = link_info(link.get());
  if (!info) return fail(std::move(info.error()));
  auto dirs = pin_link(link.get(), spec.link_pin_path);
  if (!dirs) return fail(std::move(dirs.error()));
  e.attachment = Attachment{AttachMode::Tcx,    ifindex, info->id,        std::move(link),
                            spec.link_pin_path, 0,       std::move(*dirs)};
  spdlog::info("op=attach key={} iface={} mode=tcx link_id={}", spec.key, spec.iface, info->id);
  return AttachInfo{AttachMode::Tcx, info->id, ifindex};
}

Result<AttachInfo> LibbpfKernel::attach_classic(Entry& e, const AttachSpec& spec, uint32_t ifindex,
                                                bool replace) {
  auto nl = Rtnetlink::open();
  if (!nl) return fail(std::move(nl.error()));
  // The qdisc is never deleted by l3afd: other owners may use it (README.md).
  auto created = nl->ensure_clsact(ifindex);
  if (!created) return fail(std::move(created.error()).with_context("iface " + spec.iface));
  const uint32_t parent = clsact_parent(spec.hook == model::Hook::TcEgress);
  BpfFilterSpec f{ifindex,
                  parent,
                  kClassicFilterHandle,
                  kClassicFilterPriority,
                  e.prog_fd,
                  e.spec.entry_function};
  if (auto s = nl->add_bpf_filter(f, replace); !s) {
    return fail(std::move(s.error()).with_context("iface " + spec.iface));
  }
  Attachment a{AttachMode::TcClassic, ifindex, 0, UniqueFd(), {}, parent, {}};
  if (replace) release_previous_owner(e, a);
  e.attachment = std::move(a);
  spdlog::info("op=attach key={} iface={} mode=tc-classic replace={} qdisc_created={}", spec.key,
               spec.iface, replace, *created);
  return AttachInfo{AttachMode::TcClassic, 0, ifindex, /*replaced=*/replace};
}

const LibbpfKernel::Entry* LibbpfKernel::owner_of_link(uint32_t link_id) const {
  for (const auto& [key, other] : entries_) {
    if (other->attachment && other->attachment->link_id == link_id) return other.get();
  }
  return nullptr;
}

Status LibbpfKernel::swap_program(const Entry& e, int link_fd, uint32_t link_id) {
  // The program we expect on the link: the one of the key that owns it, which nobody else may
  // have changed ...
  if (const Entry* owner = owner_of_link(link_id)) {
    return swap_link_program(link_fd, e.prog_fd, owner->prog_fd);
  }
  // ... or, taking over a link nobody here owns (left pinned by an earlier run), the one it
  // runs as inspected just now. Another tool may swap it between the inspection and the
  // update; inspect again a bounded number of times.
  Error last{Errc::Conflict, 0, "", {}, {}, {}};
  for (int attempt = 0; attempt < kTakeoverAttempts; ++attempt) {
    auto info = link_info(link_fd);
    if (!info) return fail(std::move(info.error()));
    UniqueFd current(bpf_prog_get_fd_by_id(info->prog_id));
    if (!current) {
      // Swapped and freed since the inspection (ENOENT); anything else is a real failure.
      if (errno != ENOENT) {
        return fail(Errc::Kernel, "open program " + std::to_string(info->prog_id), errno);
      }
      last.message = "program " + std::to_string(info->prog_id) + " of link " +
                     std::to_string(link_id) + " vanished while taking it over";
      continue;
    }
    auto s = swap_link_program(link_fd, e.prog_fd, current.get());
    if (s || s.error().code != Errc::Conflict) return s;
    spdlog::warn("op=attach key={} takeover of link_id={} raced: {}", e.spec.key, link_id,
                 s.error().message);
    last = std::move(s.error());
  }
  return fail(std::move(last));
}

Result<AttachInfo> LibbpfKernel::replace_link(Entry& e, const AttachSpec& spec, UniqueFd link) {
  auto info = link_info(link.get());
  if (!info) return fail(std::move(info.error()));
  const bool tc = model::is_tc(spec.hook);
  const uint32_t want_type = tc ? kBpfLinkTypeTcx : static_cast<uint32_t>(BPF_LINK_TYPE_XDP);
  if (info->type != want_type) {
    return fail(Errc::Conflict, "link pinned at " + spec.replace_link_pin->string() + " is not a " +
                                    (tc ? "tcx" : "xdp") + " link");
  }
  const uint32_t ifindex = link_info_ifindex(*info);
  if (auto s = swap_program(e, link.get(), info->id); !s) {
    return fail(std::move(s.error()).with_context("replace program of link pinned at " +
                                                  spec.replace_link_pin->string()));
  }
  AttachMode mode = AttachMode::Tcx;
  if (!tc) {
    LIBBPF_OPTS(bpf_xdp_query_opts, q);
    if (bpf_xdp_query(static_cast<int>(ifindex), 0, &q) != 0) {
      return fail(Errc::Kernel, "query xdp mode", errno);
    }
    mode = q.attach_mode == XDP_ATTACHED_SKB ? AttachMode::XdpGeneric : AttachMode::XdpNative;
  }
  std::vector<fs::path> dirs;
  if (spec.link_pin_path != *spec.replace_link_pin) {
    auto created = pin_link(link.get(), spec.link_pin_path);
    if (!created) return fail(std::move(created.error()));
    dirs = std::move(*created);
    if (auto s = unpin(*spec.replace_link_pin); !s) return fail(std::move(s.error()));
    remove_empty_ancestors(spec.replace_link_pin->parent_path());
  }
  Attachment a{mode, ifindex, info->id, std::move(link), spec.link_pin_path, 0, std::move(dirs)};
  release_previous_owner(e, a);
  e.attachment = std::move(a);
  spdlog::info("op=attach key={} replaced program of link_id={} mode={}", spec.key, info->id,
               attach_mode_name(mode));
  return AttachInfo{mode, info->id, ifindex, /*replaced=*/true};
}

Status LibbpfKernel::drop_attachment(Entry& e) {
  Attachment& a = *e.attachment;
  if (a.mode == AttachMode::TcClassic) {
    auto nl = Rtnetlink::open();
    if (!nl) return fail(std::move(nl.error()));
    auto s =
        nl->delete_filter(a.ifindex, a.tc_parent, kClassicFilterPriority, kClassicFilterHandle);
    if (!s && s.error().code != Errc::NotFound) return s;
    if (!s) spdlog::warn("op=detach key={} filter already gone", e.spec.key);
  } else {
    // Remove the pin only if it still holds our link, then drop our fd: the link detaches when
    // its last reference goes (docs/chain-protocol.md K10).
    UniqueFd pinned(bpf_obj_get(a.link_pin.c_str()));
    if (pinned) {
      auto info = link_info(pinned.get());
      if (info && info->id == a.link_id) {
        if (auto s = unpin(a.link_pin); !s) return s;
      }
    }
    remove_empty_ancestors(a.link_pin.parent_path());
  }
  spdlog::info("op=detach key={} mode={}", e.spec.key, attach_mode_name(a.mode));
  e.attachment.reset();  // releases our fd of the link
  return ok();
}

Status LibbpfKernel::detach(const std::string& key) {
  std::lock_guard lock(mutex_);
  Entry* e = find(key);
  if (e == nullptr || !e->attachment)
    return fail(Errc::NotFound, "key " + key + " is not attached");
  return drop_attachment(*e);
}

}  // namespace l3afd::kernel::libbpf
