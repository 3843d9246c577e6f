// program_loaded(): the health check's question to the real kernel (docs/compatibility.md §15).
#include <bpf/bpf.h>

#include <cerrno>

#include "core/log.h"
#include "core/unique_fd.h"
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
