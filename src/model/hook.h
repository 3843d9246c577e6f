// Attach points of interface programs and their L3AF names. Pure.
#pragma once

#include <array>
#include <optional>
#include <string_view>

namespace l3afd::model {

/// One attach point of an interface. Probes are not per interface and are not a Hook.
enum class Hook { XdpIngress, TcIngress, TcEgress };

inline constexpr std::array<Hook, 3> kAllHooks = {Hook::XdpIngress, Hook::TcIngress,
                                                  Hook::TcEgress};

/// Direction string of docs/compatibility.md §0: xdpingress | ingress | egress.
constexpr std::string_view direction(Hook h) {
  switch (h) {
    case Hook::XdpIngress: return "xdpingress";
    case Hook::TcIngress: return "ingress";
    case Hook::TcEgress: return "egress";
  }
  return "";
}

/// JSON key of the hook list in BPFPrograms: xdp_ingress | tc_ingress | tc_egress.
constexpr std::string_view json_key(Hook h) {
  switch (h) {
    case Hook::XdpIngress: return "xdp_ingress";
    case Hook::TcIngress: return "tc_ingress";
    case Hook::TcEgress: return "tc_egress";
  }
  return "";
}

/// Expected prog_type of programs on the hook: xdp | tc.
constexpr std::string_view prog_type(Hook h) {
  return h == Hook::XdpIngress ? "xdp" : "tc";
}

constexpr bool is_tc(Hook h) {
  return h != Hook::XdpIngress;
}

}  // namespace l3afd::model
