#include "daemon/residue.h"

#include <algorithm>
#include <optional>
#include <set>
#include <string>

#include <spdlog/spdlog.h>

namespace l3afd::daemon {

namespace fs = std::filesystem;

namespace {

/// The components of `p` below `root`, or nullopt when `p` is not strictly inside it.
std::optional<std::vector<std::string>> below(const fs::path& root, const fs::path& p) {
  if (!layout::is_within(root, p)) return std::nullopt;
  std::vector<std::string> out;
  for (const auto& c : p.lexically_normal().lexically_relative(root.lexically_normal())) {
    out.push_back(c.string());
  }
  return out;
}

/// True when a recorded instance has exactly the shape the layout gives an instance of its
/// interface (docs/compatibility.md §10): B/<iface>/<name>/<V> or B/tc/globals/<iface>/<name>/<V>,
/// B/progs/<iface>/<name>/<V>/<pin>, B/links/<iface>/<name>/<V>/<pin>. A damaged record can
/// then never make the sweep remove a parent directory or another interface's pins.
bool plausible(const layout::BpffsLayout& layout, const engine::OwnedInstance& inst) {
  auto safe = [](const std::vector<std::string>& parts) {
    return std::all_of(parts.begin(), parts.end(),
                       [](const std::string& c) { return layout::is_safe_component(c); });
  };
  auto m = below(layout.base(), inst.paths.map_dir);
  auto p = below(layout.progs_root(), inst.paths.prog_pin);
  auto l = below(layout.links_root(), inst.paths.link_pin);
  if (!m || !p || !l || !safe(*m) || !safe(*p) || !safe(*l)) return false;
  const bool xdp_maps = m->size() == 3 && (*m)[0] == inst.iface && (*m)[0] != "progs" &&
                        (*m)[0] != "links" && (*m)[0] != "tc";
  const bool tc_maps =
      m->size() == 5 && (*m)[0] == "tc" && (*m)[1] == "globals" && (*m)[2] == inst.iface;
  return (xdp_maps || tc_maps) && p->size() == 4 && (*p)[0] == inst.iface && l->size() == 4 &&
         (*l)[0] == inst.iface;
}

void remove_path(const fs::path& p, const fs::path& base, std::vector<fs::path>& removed) {
  if (!layout::is_within(base, p)) return;
  std::error_code ec;
  const auto n = fs::remove_all(p, ec);
  if (ec) {
    spdlog::warn("residue: cannot remove path={}: {}", p.string(), ec.message());
  } else if (n > 0) {
    removed.push_back(p);
  }
}

void remove_empty_parents(fs::path dir, const fs::path& stop) {
  std::error_code ec;
  while (layout::is_within(stop, dir) && fs::is_directory(dir, ec) && fs::is_empty(dir, ec)) {
    fs::remove(dir, ec);
    dir = dir.parent_path();
  }
}

}  // namespace

engine::PinnedLinks find_pinned_links(const layout::BpffsLayout& layout) {
  engine::PinnedLinks out;
  std::error_code ec;
  const fs::path root = layout.links_root();
  if (!fs::is_directory(root, ec)) return out;
  // root/<iface>/<name>/<V>/<name>_xdp | <name>_tc_ingress | <name>_tc_egress
  for (const auto& iface : fs::directory_iterator(root, ec)) {
    for (const auto& name : fs::directory_iterator(iface.path(), ec)) {
      for (const auto& ver : fs::directory_iterator(name.path(), ec)) {
        for (const auto& pin : fs::directory_iterator(ver.path(), ec)) {
          const std::string file = pin.path().filename().string();
          std::optional<model::Hook> hook;
          if (file.ends_with("_xdp"))
            hook = model::Hook::XdpIngress;
          else if (file.ends_with("_tc_ingress"))
            hook = model::Hook::TcIngress;
          else if (file.ends_with("_tc_egress"))
            hook = model::Hook::TcEgress;
          if (hook) out[{iface.path().filename().string(), *hook}] = pin.path();
        }
      }
    }
  }
  return out;
}

std::vector<fs::path> sweep_residue(const layout::BpffsLayout& layout,
                                    const engine::Snapshot& keep_snap,
                                    const std::vector<engine::OwnedInstance>& recorded) {
  std::set<std::string> pending_ifaces;
  for (const auto& e : keep_snap.pending) pending_ifaces.insert(e.iface);
  std::set<fs::path> keep_links, keep_progs, keep_maps, keep_link_dirs;
  for (const auto& k : engine::owned_by(keep_snap.state)) {
    keep_links.insert(k.paths.link_pin);
    keep_progs.insert(k.paths.prog_pin);
    keep_maps.insert(k.paths.map_dir);
    keep_link_dirs.insert(k.paths.link_pin.parent_path());
  }

  std::vector<fs::path> removed;
  for (const auto& inst : recorded) {
    if (pending_ifaces.contains(inst.iface)) continue;
    if (!plausible(layout, inst)) {
      spdlog::warn(
          "residue: ownership record of {} does not have the layout's shape ({} {} {}): "
          "left alone",
          inst.iface, inst.paths.map_dir.string(), inst.paths.prog_pin.string(),
          inst.paths.link_pin.string());
      continue;
    }
    const fs::path link_dir = inst.paths.link_pin.parent_path();
    if (!keep_links.contains(inst.paths.link_pin)) {
      remove_path(inst.paths.link_pin, layout.links_root(), removed);
    }
    if (!keep_link_dirs.contains(link_dir)) {
      // Companion programs' links (tracepoint family) of the instance: `<function>_tp`.
      std::error_code ec;
      std::vector<fs::path> companions;
      for (const auto& pin : fs::directory_iterator(link_dir, ec)) {
        if (pin.path().filename().string().ends_with("_tp")) companions.push_back(pin.path());
      }
      for (const auto& c : companions) remove_path(c, layout.links_root(), removed);
    }
    remove_empty_parents(link_dir, layout.links_root());
    if (!keep_progs.contains(inst.paths.prog_pin)) {
      remove_path(inst.paths.prog_pin, layout.progs_root(), removed);
    }
    remove_empty_parents(inst.paths.prog_pin.parent_path(), layout.progs_root());
    if (!keep_maps.contains(inst.paths.map_dir)) {
      remove_path(inst.paths.map_dir, layout.base(), removed);
    }
    remove_empty_parents(inst.paths.map_dir.parent_path(), layout.base());
  }
  for (const auto& p : removed)
    spdlog::warn("residue of an unfinished change removed: {}", p.string());
  spdlog::info("residue sweep: {} recorded instance(s), {} path(s) removed", recorded.size(),
               removed.size());
  return removed;
}

}  // namespace l3afd::daemon
