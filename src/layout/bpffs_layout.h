// The ONLY place where l3afd's bpffs pin paths are named (docs/compatibility.md §10, Keep).
// Pure path computation, no I/O. Callers validate names first (model/validate); the
// functions here re-check that every component is a safe single path element and return
// InvalidPayload otherwise, so no computed path can escape the base directory.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

#include "core/result.h"
#include "model/hook.h"

namespace l3afd::layout {

/// `V` of the reference: the version with every '.' replaced by '_'.
std::string version_dir(std::string_view version);

/// True if `c` is usable as one path element: non-empty, no '/', no NUL, not "." or "..".
bool is_safe_component(std::string_view c) noexcept;

/// True if `child` is lexically inside `parent` (after lexical normalisation), not equal to it.
bool is_within(const std::filesystem::path& parent, const std::filesystem::path& child);

/// Identity of one program instance on a hook (what all its paths derive from).
struct ProgramPaths {
  std::filesystem::path map_dir;        ///< B/<iface>/<name>/V or B/tc/globals/<iface>/<name>/V
  std::filesystem::path prog_pin;       ///< B/progs/<iface>/<name>/V/<entry>_<xdp|tc>
  std::filesystem::path link_pin;       ///< B/links/<iface>/<name>/V/<name>_xdp | <name>_tc_<dir>
  std::filesystem::path map_name_path;  ///< map_dir/<map_name> (empty when map_name is empty)
  bool operator==(const ProgramPaths&) const = default;
};

/// Pin paths of one probe entry (bpf_programs.probes): its maps in B/<name>/V (why a probe may
/// not be named like an interface, docs/compatibility.md §10), its links in B/links/<name>/V.
struct ProbePaths {
  std::filesystem::path map_dir;
  std::filesystem::path link_dir;
  bool operator==(const ProbePaths&) const = default;
};

class BpffsLayout {
 public:
  /// `base` is [l3afd] BpfMapDefaultPath (normally /sys/fs/bpf).
  explicit BpffsLayout(std::filesystem::path base) : base_(std::move(base)) {}

  const std::filesystem::path& base() const { return base_; }

  /// All pin paths of program `name`@`version` on `iface`/`hook`.
  /// InvalidPayload if a component is unsafe.
  Result<ProgramPaths> program(std::string_view iface, model::Hook hook, std::string_view name,
                               std::string_view version, std::string_view entry_function,
                               std::string_view map_name) const;

  /// Pin paths of probe `name`@`version`. InvalidPayload if a component is unsafe.
  Result<ProbePaths> probe(std::string_view name, std::string_view version) const;

  /// Roots of the trees only l3afd writes (B/progs, B/links): used by residue scans.
  std::filesystem::path progs_root() const { return base_ / "progs"; }
  std::filesystem::path links_root() const { return base_ / "links"; }

 private:
  std::filesystem::path base_;
};

}  // namespace l3afd::layout
