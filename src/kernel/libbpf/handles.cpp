#include "kernel/libbpf/handles.h"

#include <bpf/libbpf.h>

namespace l3afd::kernel::libbpf {

void BpfObjectClose::operator()(bpf_object* object) const noexcept {
  bpf_object__close(object);
}

void BpfLinkDestroy::operator()(bpf_link* link) const noexcept {
  // The return value only reports a failed detach of an unpinned link; nothing can be done
  // about it in a destructor, and the fd is closed either way.
  (void)bpf_link__destroy(link);
}

}  // namespace l3afd::kernel::libbpf
