#include "kernel/probe_sections.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <cstring>

namespace l3afd::kernel {
namespace {

struct Prefix {
  std::string_view name;
  ProbeKind kind;
};

// libbpf 1.1's section definitions of the probe families (SEC_DEF "x+": "x" or "x/...").
constexpr std::array<Prefix, 17> kPrefixes{{
    {"tracepoint", ProbeKind::Tracepoint},
    {"tp", ProbeKind::Tracepoint},
    {"raw_tracepoint", ProbeKind::RawTracepoint},
    {"raw_tp", ProbeKind::RawTracepoint},
    {"raw_tracepoint.w", ProbeKind::RawTracepoint},
    {"raw_tp.w", ProbeKind::RawTracepoint},
    {"tp_btf", ProbeKind::TpBtf},
    {"uprobe", ProbeKind::Uprobe},
    {"uprobe.s", ProbeKind::Uprobe},
    {"uretprobe", ProbeKind::Uretprobe},
    {"uretprobe.s", ProbeKind::Uretprobe},
    {"kprobe", ProbeKind::Kprobe},
    {"ksyscall", ProbeKind::Kprobe},
    {"kprobe.multi", ProbeKind::Kprobe},
    {"kretprobe", ProbeKind::Kretprobe},
    {"kretsyscall", ProbeKind::Kretprobe},
    {"kretprobe.multi", ProbeKind::Kretprobe},
}};

/// The prefix `section` uses, with what follows its slash ("" for a bare prefix).
std::optional<std::pair<Prefix, std::string_view>> split(std::string_view section) {
  for (const Prefix& p : kPrefixes) {
    if (section == p.name) return std::pair{p, std::string_view{}};
    if (section.size() > p.name.size() && section.starts_with(p.name) &&
        section[p.name.size()] == '/') {
      return std::pair{p, section.substr(p.name.size() + 1)};
    }
  }
  return std::nullopt;
}

bool function_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_' || c == '.';
}

/// Why `<binary>:<function>[+<offset>]` (what follows `uprobe/`) is not attachable, or "".
std::string uprobe_target_problem(std::string_view target, bool ret) {
  const auto colon = target.find(':');
  if (colon == std::string_view::npos || colon == 0) return "no <binary>:<function>";
  std::string_view rest = target.substr(colon + 1);
  std::size_t n = 0;
  while (n < rest.size() && function_char(rest[n])) ++n;
  if (n == 0) return "no function after ':'";
  rest.remove_prefix(n);
  if (rest.empty()) return "";
  if (rest[0] != '+' || rest.size() == 1) return "unexpected characters after the function";
  if (ret) return "uretprobes take no offset";
  for (char c : rest.substr(1)) {
    if (std::isxdigit(static_cast<unsigned char>(c)) == 0 && c != 'x' && c != 'X') {
      return "the offset is not a number";
    }
  }
  return "";
}

std::string expected_form(ProbeKind kind) {
  switch (kind) {
    case ProbeKind::Tracepoint: return "tracepoint/<category>/<event>";
    case ProbeKind::RawTracepoint: return "raw_tp/<event>";
    case ProbeKind::TpBtf: return "tp_btf/<event>";
    case ProbeKind::Uprobe: return "uprobe/<binary path>:<function>[+<offset>]";
    case ProbeKind::Uretprobe: return "uretprobe/<binary path>:<function>";
    case ProbeKind::Kprobe: return "kprobe/<function>[+<offset>]";
    case ProbeKind::Kretprobe: return "kretprobe/<function>";
  }
  return "";
}

}  // namespace

std::optional<ProbeKind> probe_kind_of_section(std::string_view section) {
  auto s = split(section);
  if (!s) return std::nullopt;
  return s->first.kind;
}

bool needs_kprobes(ProbeKind kind) noexcept {
  return kind == ProbeKind::Kprobe || kind == ProbeKind::Kretprobe;
}

std::string auto_attach_problem(ProbeKind kind, std::string_view section) {
  auto s = split(section);
  if (!s) return "section " + std::string(section) + " is not a probe section";
  const std::string_view target = s->second;
  std::string why;
  if (target.empty()) {
    why = "it names no attach point";
  } else if (kind == ProbeKind::Tracepoint) {
    const auto slash = target.find('/');
    if (slash == std::string_view::npos || slash == 0 || slash + 1 == target.size()) {
      why = "it names no <category>/<event>";
    }
  } else if (kind == ProbeKind::Uprobe || kind == ProbeKind::Uretprobe) {
    why = uprobe_target_problem(target, kind == ProbeKind::Uretprobe);
  }
  if (why.empty()) return "";
  return "section " + std::string(section) + " cannot be attached automatically: " + why +
         " (expected " + expected_form(kind) + ")";
}

tl::unexpected<Error> invalid_object_file(std::string message) {
  Error err{Errc::InvalidPayload, 0, std::move(message), {}, {}, {}};
  err.items.push_back(ErrorItem{"", "", "", "object_file", err.message});
  return fail(std::move(err));
}

Result<std::vector<ProbeSection>> classify_probe_programs(
    const std::filesystem::path& object_file, const std::vector<ObjectProgram>& programs,
    const KprobeSupport& kprobes) {
  const std::string file = object_file.filename().string();
  std::vector<ProbeSection> out;
  for (const ObjectProgram& p : programs) {
    auto kind = probe_kind_of_section(p.section);
    if (!kind) continue;
    if (needs_kprobes(*kind) && !kprobes.supported) {
      return invalid_object_file("object_file " + file + ": section " + p.section +
                                 " needs kprobes, but this kernel has no kprobe support (" +
                                 kprobes.evidence + ")");
    }
    if (auto why = auto_attach_problem(*kind, p.section); !why.empty()) {
      return invalid_object_file("object_file " + file + ": " + why);
    }
    out.push_back(ProbeSection{p.function, p.section, *kind});
  }
  if (out.empty()) {
    return invalid_object_file(
        "object_file " + file +
        ": object holds no probe program (sections tracepoint/, raw_tp/, tp_btf/, uprobe/, "
        "uretprobe/, kprobe/, kretprobe/)");
  }
  return out;
}

std::string probe_link_pin_name(const ProbeSection& probe) {
  return probe.function + "_" + probe_kind_name(probe.kind);
}

std::vector<std::pair<std::string, ProbeKind>> parse_probe_link_pin_name(std::string_view name) {
  std::vector<std::pair<std::string, ProbeKind>> out;
  for (ProbeKind k :
       {ProbeKind::Tracepoint, ProbeKind::RawTracepoint, ProbeKind::TpBtf, ProbeKind::Uprobe,
        ProbeKind::Uretprobe, ProbeKind::Kprobe, ProbeKind::Kretprobe}) {
    const std::string suffix = std::string("_") + probe_kind_name(k);
    if (name.size() > suffix.size() && name.ends_with(suffix)) {
      out.emplace_back(std::string(name.substr(0, name.size() - suffix.size())), k);
    }
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
    return std::strlen(probe_kind_name(a.second)) > std::strlen(probe_kind_name(b.second));
  });
  return out;
}

}  // namespace l3afd::kernel
