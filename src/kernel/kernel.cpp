#include "kernel/kernel.h"

namespace l3afd::kernel {

const char* attach_mode_name(AttachMode m) noexcept {
  switch (m) {
    case AttachMode::XdpNative: return "xdp-native";
    case AttachMode::XdpGeneric: return "xdp-generic";
    case AttachMode::Tcx: return "tcx";
    case AttachMode::TcClassic: return "tc-classic";
  }
  return "unknown";
}

const char* probe_kind_name(ProbeKind k) noexcept {
  switch (k) {
    case ProbeKind::Tracepoint: return "tracepoint";
    case ProbeKind::RawTracepoint: return "raw_tracepoint";
    case ProbeKind::TpBtf: return "tp_btf";
    case ProbeKind::Uprobe: return "uprobe";
    case ProbeKind::Uretprobe: return "uretprobe";
    case ProbeKind::Kprobe: return "kprobe";
    case ProbeKind::Kretprobe: return "kretprobe";
  }
  return "unknown";
}

}  // namespace l3afd::kernel
