// Companion programs of LibbpfKernel (docs/packages.md §1: "other programs in the object ...
// attached automatically"): tracepoint-type programs attached at load and pinned as
// `<function>_tp`, iter/ programs run on demand (run_iterators), and their release with the key.
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <system_error>

#include "core/log.h"
#include "core/unique_fd.h"
#include "kernel/libbpf/libbpf_errors.h"
#include "kernel/libbpf/libbpf_kernel.h"
#include "kernel/libbpf/pins.h"

namespace l3afd::kernel::libbpf {

namespace fs = std::filesystem;

namespace {

constexpr std::string_view kCompanionSuffix = "_tp";

bool starts(std::string_view s, std::string_view p) {
  return s.substr(0, p.size()) == p;
}

uint32_t link_id_of(int fd) {
  bpf_link_info info{};
  uint32_t len = sizeof(info);
  return bpf_obj_get_info_by_fd(fd, &info, &len) == 0 ? info.id : 0;
}

}  // namespace

bool is_companion_section(std::string_view sec) {
  return starts(sec, "tracepoint/") || starts(sec, "tp/") || starts(sec, "tp_btf/") ||
         starts(sec, "raw_tracepoint/") || starts(sec, "raw_tp/");
}

bool is_iterator_section(std::string_view sec) {
  return starts(sec, "iter/");
}

Status attach_companions(LibbpfKernel::Entry& e) {
  bpf_program* prog = nullptr;
  bpf_object__for_each_program(prog, e.object.get()) {
    if (prog == e.entry || !is_companion_section(bpf_program__section_name(prog))) continue;
    const std::string name = bpf_program__name(prog);
    BpfLink link(bpf_program__attach(prog));
    if (!link) {
      return libbpf_fail(Errc::Kernel,
                         "attach " + name + " (" + bpf_program__section_name(prog) + ")", errno);
    }
    const int link_fd = bpf_link__fd(link.get());
    e.companion_links.push_back(std::move(link));
    const uint32_t id = link_id_of(link_fd);
    e.companion_link_ids.push_back(id);
    if (!e.spec.companion_link_dir.empty()) {
      const fs::path pin = e.spec.companion_link_dir / (name + std::string(kCompanionSuffix));
      if (auto s = pin_replace(link_fd, pin); !s) return s;
      e.companion_pins.push_back(pin);
      e.loaded.pins_created.push_back(pin);
    }
    spdlog::info("op=attach_companion key={} program={} link_id={}", e.spec.key, name, id);
  }
  return ok();
}

void adopt_companions(LibbpfKernel::Entry& e, const fs::path& dir) {
  std::error_code ec;
  if (dir.empty() || !fs::is_directory(dir, ec)) return;
  for (const auto& f : fs::directory_iterator(dir, ec)) {
    const std::string name = f.path().filename().string();
    if (name.size() <= kCompanionSuffix.size() || !name.ends_with(kCompanionSuffix)) continue;
    UniqueFd fd(bpf_obj_get(f.path().c_str()));
    if (!fd) continue;
    const uint32_t id = link_id_of(fd.get());
    if (id == 0) continue;
    e.companion_pins.push_back(f.path());
    e.companion_link_ids.push_back(id);
    e.owned_fds.push_back(std::move(fd));
  }
}

Status LibbpfKernel::run_iterators(const std::string& key) {
  std::lock_guard lock(mutex_);
  Entry* e = find(key);
  if (e == nullptr) return fail(Errc::NotFound, "key " + key + " is not loaded");
  for (bpf_program* prog : e->iterators) {
    const std::string name = bpf_program__name(prog);
    // Released at the end of this iteration: an iterator link is never pinned.
    const BpfLink link(bpf_program__attach_iter(prog, nullptr));
    if (!link) return libbpf_fail(Errc::Kernel, "attach iterator " + name, errno);
    UniqueFd it(bpf_iter_create(bpf_link__fd(link.get())));
    const int create_errno = errno;
    std::size_t reads = 0;
    if (it) {
      // The program's side effects happen while the iterator is read; its output is unused.
      // Bounded: an iterator over sockets ends; 1M reads of 4 KiB would be a runaway.
      std::array<char, 4096> buf{};
      for (; reads < (1U << 20); ++reads) {
        const ssize_t n = ::read(it.get(), buf.data(), buf.size());
        if (n == 0) break;
        if (n < 0 && errno != EINTR && errno != EAGAIN) break;
      }
    }
    if (!it) return fail(Errc::Kernel, "create iterator " + name, create_errno);
    spdlog::info("op=run_iterator key={} program={} reads={}", key, name, reads);
  }
  return ok();
}

}  // namespace l3afd::kernel::libbpf
