#include "daemon/residue.h"

#include <set>
#include <string>
#include <tuple>

#include <spdlog/spdlog.h>

namespace l3afd::daemon {

namespace fs = std::filesystem;

namespace {

enum class Kind { Xdp, Tc };
using Instance = std::tuple<std::string, std::string, std::string, Kind>;  // iface, name, V, kind

void keep_programs(std::set<Instance>& keep, const std::string& iface, model::Hook h,
                   const model::BpfProgram& p) {
  keep.insert(
      {iface, p.name, layout::version_dir(p.version), model::is_tc(h) ? Kind::Tc : Kind::Xdp});
}

/// A pin file name tells the kind: links end in _xdp / _tc_ingress / _tc_egress, program pins
/// in _xdp / _tc.
std::optional<Kind> kind_of(const std::string& file) {
  auto ends = [&](std::string_view s) { return file.size() >= s.size() && file.ends_with(s); };
  if (ends("_xdp")) return Kind::Xdp;
  if (ends("_tc") || ends("_tc_ingress") || ends("_tc_egress")) return Kind::Tc;
  return std::nullopt;
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
                                    const engine::Snapshot& keep_snap) {
  std::set<std::string> pending_ifaces;
  for (const auto& e : keep_snap.pending) pending_ifaces.insert(e.iface);
  std::set<Instance> keep;
  for (const auto& [iface, rec] : keep_snap.state.ifaces) {
    for (const auto& [h, progs] : rec.hooks) {
      for (const auto& r : progs) keep_programs(keep, iface, h, r.spec);
    }
    for (const auto& [h, root] : rec.roots) keep_programs(keep, iface, h, root.spec);
  }
  for (const auto& e : keep_snap.pending) {
    if (!e.bpf_programs) continue;
    for (model::Hook h : model::kAllHooks) {
      const auto& list = e.bpf_programs->of(h);
      for (const auto& p : list.value_or(std::vector<model::BpfProgram>{}))
        keep_programs(keep, e.iface, h, p);
    }
  }

  std::vector<fs::path> removed;
  std::set<Instance> stale;
  std::error_code ec;
  for (const fs::path& root : {layout.links_root(), layout.progs_root()}) {
    if (!fs::is_directory(root, ec)) continue;
    // root/<iface>/<name>/<V>/<pin>
    for (const auto& iface : fs::directory_iterator(root, ec)) {
      for (const auto& name : fs::directory_iterator(iface.path(), ec)) {
        for (const auto& ver : fs::directory_iterator(name.path(), ec)) {
          for (const auto& pin : fs::directory_iterator(ver.path(), ec)) {
            const std::string file = pin.path().filename().string();
            if (file.ends_with("_tp")) {
              // A companion program's link (tracepoint family) of a program instance: kept if
              // the instance is kept, whichever hook it runs on.
              const std::string i = iface.path().filename().string();
              const std::string n = name.path().filename().string();
              const std::string v = ver.path().filename().string();
              if (keep.contains({i, n, v, Kind::Xdp}) || keep.contains({i, n, v, Kind::Tc}) ||
                  pending_ifaces.contains(i)) {
                continue;
              }
              remove_path(pin.path(), root, removed);
              continue;
            }
            auto kind = kind_of(file);
            if (!kind) continue;
            Instance inst{iface.path().filename().string(), name.path().filename().string(),
                          ver.path().filename().string(), *kind};
            if (keep.contains(inst) || pending_ifaces.contains(std::get<0>(inst))) continue;
            remove_path(pin.path(), root, removed);
            stale.insert(inst);
          }
          remove_empty_parents(ver.path(), root);
        }
      }
    }
  }
  for (const auto& [iface, name, v, kind] : stale) {
    // The map directory of the stale instance, unless a kept instance shares it.
    if (keep.contains(Instance{iface, name, v, kind})) continue;
    auto paths =
        layout.program(iface, kind == Kind::Tc ? model::Hook::TcIngress : model::Hook::XdpIngress,
                       name, v, "x", "");
    if (!paths) continue;
    remove_path(paths->map_dir, layout.base(), removed);
    remove_empty_parents(paths->map_dir.parent_path(), layout.base());
  }
  for (const auto& p : removed)
    spdlog::warn("residue of an unfinished change removed: {}", p.string());
  return removed;
}

}  // namespace l3afd::daemon
