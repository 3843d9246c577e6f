// JSON request bodies for the L3AF API (l3af-compat.md §3–§4) deploying the packages of the
// local repository (bpf/README.md): xdp-counter on xdp_ingress, tc-counter on the TC hooks.
// Pure functions; thread-safe.
#pragma once

#include <string>
#include <vector>

namespace l3afd::bench {

enum class Hook { XdpIngress, TcIngress, TcEgress };

/// The hooks of one interface that a request touches.
struct IfaceHooks {
  std::string iface;
  std::vector<Hook> hooks;
};

/// POST …/add body: one entry per element of `entries`, one enabled program (seq_id 1,
/// version latest, loaded by the daemon from its object file) per listed hook.
std::string add_payload(const std::string& host, const std::vector<IfaceHooks>& entries);

/// POST …/delete body naming the program of every listed hook.
std::string delete_payload(const std::string& host, const std::vector<IfaceHooks>& entries);

/// JSON string literal (quotes included) for `s`.
std::string json_string(const std::string& s);

}  // namespace l3afd::bench
