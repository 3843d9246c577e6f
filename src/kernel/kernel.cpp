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

}  // namespace l3afd::kernel
