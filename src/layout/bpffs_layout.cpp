#include "layout/bpffs_layout.h"

#include <algorithm>

namespace l3afd::layout {

std::string version_dir(std::string_view version) {
  std::string v(version);
  std::replace(v.begin(), v.end(), '.', '_');
  return v;
}

bool is_safe_component(std::string_view c) noexcept {
  if (c.empty() || c == "." || c == "..") return false;
  return c.find('/') == std::string_view::npos && c.find('\0') == std::string_view::npos;
}

bool is_within(const std::filesystem::path& parent, const std::filesystem::path& child) {
  const auto p = parent.lexically_normal();
  const auto c = child.lexically_normal();
  auto rel = c.lexically_relative(p);
  if (rel.empty() || rel == ".") return false;
  return *rel.begin() != "..";
}

Result<ProgramPaths> BpffsLayout::program(std::string_view iface, model::Hook hook,
                                          std::string_view name, std::string_view version,
                                          std::string_view entry_function,
                                          std::string_view map_name) const {
  for (auto [what, c] :
       {std::pair{"iface", iface}, std::pair{"name", name}, std::pair{"version", version},
        std::pair{"entry function", entry_function}}) {
    if (!is_safe_component(c)) {
      return fail(Errc::InvalidPayload,
                  std::string(what) + " '" + std::string(c) + "' is not a safe path component");
    }
  }
  if (!map_name.empty() && !is_safe_component(map_name)) {
    return fail(Errc::InvalidPayload,
                "map_name '" + std::string(map_name) + "' is not a safe path component");
  }
  const std::string v = version_dir(version);
  const std::string n(name);
  const std::string i(iface);
  ProgramPaths p;
  p.map_dir = model::is_tc(hook) ? base_ / "tc" / "globals" / i / n / v : base_ / i / n / v;
  p.prog_pin = base_ / "progs" / i / n / v /
               (std::string(entry_function) + "_" + std::string(model::prog_type(hook)));
  const std::string link_name = hook == model::Hook::XdpIngress
                                    ? n + "_xdp"
                                    : n + "_tc_" + std::string(model::direction(hook));
  p.link_pin = base_ / "links" / i / n / v / link_name;
  if (!map_name.empty()) p.map_name_path = p.map_dir / std::string(map_name);
  return p;
}

Result<ProbePaths> BpffsLayout::probe(std::string_view name, std::string_view version) const {
  for (auto [what, c] : {std::pair{"name", name}, std::pair{"version", version}}) {
    if (!is_safe_component(c)) {
      return fail(Errc::InvalidPayload,
                  std::string(what) + " '" + std::string(c) + "' is not a safe path component");
    }
  }
  const std::string n(name);
  const std::string v = version_dir(version);
  return ProbePaths{.map_dir = base_ / n / v, .link_dir = base_ / "links" / n / v};
}

}  // namespace l3afd::layout
