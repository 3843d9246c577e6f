// RAII owners of the libbpf adapter's kernel handles. Each is move-only and its destruction is
// the release: a BpfObject closes the libbpf object (every program and map fd it holds), a
// BpfLink destroys the libbpf link object (closes its fd). Link fds from bpf_link_create() and
// fds opened from pins are owned by UniqueFd (core/unique_fd.h).
//
// Releasing a handle never removes a pin: a pinned program, map or link keeps its kernel
// object alive after the daemon's last fd is gone (docs/chain-protocol.md K10, K11).
#pragma once

#include <memory>

struct bpf_object;
struct bpf_link;

namespace l3afd::kernel::libbpf {

/// Deleter of BpfObject: bpf_object__close().
struct BpfObjectClose {
  void operator()(bpf_object* object) const noexcept;
};

/// Deleter of BpfLink: bpf_link__destroy().
struct BpfLinkDestroy {
  void operator()(bpf_link* link) const noexcept;
};

/// Owner of an opened (and possibly loaded) libbpf object; null when it holds none.
using BpfObject = std::unique_ptr<bpf_object, BpfObjectClose>;

/// Owner of a libbpf link object (e.g. from bpf_program__attach()); null when it holds none.
using BpfLink = std::unique_ptr<bpf_link, BpfLinkDestroy>;

}  // namespace l3afd::kernel::libbpf
