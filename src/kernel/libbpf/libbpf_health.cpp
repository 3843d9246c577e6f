// program_loaded(): the health check's question to the real kernel (docs/compatibility.md §15).
#include <bpf/bpf.h>

#include <cerrno>
#include <filesystem>
#include <optional>
#include <string>

#include "core/log.h"
#include "core/unique_fd.h"
#include "kernel/libbpf/compat.h"
#include "kernel/libbpf/libbpf_kernel.h"

namespace l3afd::kernel::libbpf {

namespace {

/// True when `id` names a loaded program. An error other than ENOENT (EPERM, ...) is logged and
/// answers true: the check must not redeploy a program it only failed to look at.
bool prog_id_resolves(uint32_t id) {
  UniqueFd fd(bpf_prog_get_fd_by_id(id));
  if (fd) return true;
  if (errno == ENOENT) return false;
  spdlog::warn("op=program_loaded prog_id={} errno={}", id, errno);
  return true;
}

/// As prog_id_resolves(), for a link id.
bool link_id_resolves(uint32_t id) {
  UniqueFd fd(bpf_link_get_fd_by_id(id));
  if (fd) return true;
  if (errno == ENOENT) return false;
  spdlog::warn("op=program_loaded link_id={} errno={}", id, errno);
  return true;
}

/// The id of the object pinned at `pin`: 0 when the pin is gone (ENOENT), nullopt when it
/// could not be looked at (logged; the check then trusts it).
std::optional<uint32_t> pinned_id(const std::filesystem::path& pin) {
  UniqueFd fd(bpf_obj_get(pin.c_str()));
  if (!fd) {
    if (errno == ENOENT) return 0u;
    spdlog::warn("op=program_loaded pin={} errno={}", pin.string(), errno);
    return std::nullopt;
  }
  bpf_prog_info info{};  // the id is the first member of every bpf_*_info
  uint32_t len = sizeof(info);
  if (bpf_obj_get_info_by_fd(fd.get(), &info, &len) != 0) return std::nullopt;
  return info.id;
}

}  // namespace

bool LibbpfKernel::program_loaded(const std::string& key) {
  std::lock_guard lock(mutex_);
  const Entry* e = find(key);
  if (e == nullptr) return false;
  if (e->prog_fd >= 0) {
    // The fd the adapter holds must still name the program recorded at load.
    bpf_prog_info info{};
    uint32_t len = sizeof(info);
    if (bpf_obj_get_info_by_fd(e->prog_fd, &info, &len) != 0) {
      spdlog::warn("op=program_loaded key={} fd={} errno={}", key, e->prog_fd, errno);
      return false;
    }
    if (info.id != e->loaded.prog_id) {
      spdlog::warn("op=program_loaded key={} holds prog_id={}, recorded {}", key, info.id,
                   e->loaded.prog_id);
      return false;
    }
    if (!prog_id_resolves(e->loaded.prog_id)) return false;
    // Drift (issue 11): the entry program's pin removed or replaced by someone else — the next
    // start could not adopt it.
    if (!e->spec.prog_pin_path.empty()) {
      if (auto id = pinned_id(e->spec.prog_pin_path); id && *id != e->loaded.prog_id) {
        spdlog::warn("op=program_loaded key={} pin={} names {} instead of prog_id={}", key,
                     e->spec.prog_pin_path.string(), *id == 0 ? "nothing" : std::to_string(*id),
                     e->loaded.prog_id);
        return false;
      }
    }
    // Its link (programs attached directly): still attached (not `bpftool link detach`ed),
    // still running this program (not switched to another one), still pinned where we put it.
    if (e->attachment && e->attachment->link) {
      const Attachment& a = *e->attachment;
      bpf_link_info li{};
      uint32_t li_len = sizeof(li);
      if (bpf_obj_get_info_by_fd(a.link.get(), &li, &li_len) == 0) {
        if (link_info_ifindex(li) == 0) {
          spdlog::warn("op=program_loaded key={} link_id={} was detached", key, a.link_id);
          return false;
        }
        if (li.prog_id != e->loaded.prog_id) {
          spdlog::warn("op=program_loaded key={} link_id={} runs prog_id={} instead of {}", key,
                       a.link_id, li.prog_id, e->loaded.prog_id);
          return false;
        }
      }
      if (!a.link_pin.empty()) {
        if (auto id = pinned_id(a.link_pin); id && *id != a.link_id) {
          spdlog::warn("op=program_loaded key={} link pin {} names {} instead of link_id={}", key,
                       a.link_pin.string(), *id == 0 ? "nothing" : std::to_string(*id), a.link_id);
          return false;
        }
      }
    }
  } else if (e->companion_link_ids.empty()) {
    return false;  // neither an entry program nor probe links: nothing that could run
  }
  // Probe links, and the links of a data-path object's companion programs.
  for (uint32_t id : e->companion_link_ids) {
    if (id != 0 && !link_id_resolves(id)) return false;  // 0: its id was never read
  }
  return true;
}

}  // namespace l3afd::kernel::libbpf
