#include "companion_common.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <iostream>

namespace l3afd::companion {

namespace fs = std::filesystem;

ParsedArgs parse_args(int argc, const char* const* argv, const std::vector<OptionDef>& known) {
  ParsedArgs out;
  auto find = [&](std::string_view name) -> const OptionDef* {
    for (const auto& d : known) {
      if (d.name == name) return &d;
    }
    return nullptr;
  };
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i] == nullptr ? std::string_view() : argv[i];
    if (arg == "--help" || arg == "-h") {
      out.help = true;
      continue;
    }
    if (arg.size() <= 2 || !arg.starts_with("--")) {
      out.warnings.push_back("ignoring argument '" + std::string(arg) + "' (not an option)");
      continue;
    }
    const auto eq = arg.find('=');
    const std::string_view name = arg.substr(2, eq == std::string_view::npos ? arg.npos : eq - 2);
    const OptionDef* def = find(name);
    if (def == nullptr) {
      out.warnings.push_back("ignoring unknown option '" + std::string(arg) + "'");
      continue;
    }
    if (!def->takes_value) {
      if (eq != std::string_view::npos) {
        out.error = "option --" + def->name + " takes no value";
        return out;
      }
      out.values[def->name] = "";
      continue;
    }
    if (eq != std::string_view::npos) {
      out.values[def->name] = std::string(arg.substr(eq + 1));
    } else if (i + 1 < argc && argv[i + 1] != nullptr &&
               !std::string_view(argv[i + 1]).starts_with("--")) {
      out.values[def->name] = argv[++i];
    } else {
      out.error = "option --" + def->name + " needs a value (--" + def->name + "=<value>)";
      return out;
    }
  }
  return out;
}

std::string usage(std::string_view prog, std::string_view synopsis, std::string_view about,
                  const std::vector<OptionDef>& known) {
  std::string u = "usage: " + std::string(prog) + " " + std::string(synopsis) + "\n\n" +
                  std::string(about) + "\n\noptions:\n";
  for (const auto& d : known) {
    std::string left = "  --" + d.name + (d.takes_value ? "=<value>" : "");
    if (left.size() < 26) left.resize(26, ' ');
    u += left + " " + d.help + "\n";
  }
  u += "  --help                   this text\n\nUnknown options are ignored with a warning.\n";
  return u;
}

void log(std::string_view prog, std::string_view message) {
  std::cerr << prog << ": " << message << std::endl;
}

std::optional<int> handle_command_line(const ParsedArgs& args, std::string_view prog,
                                       std::string_view synopsis, std::string_view about,
                                       const std::vector<OptionDef>& known) {
  if (args.help) {
    std::cout << usage(prog, synopsis, about, known);
    return 0;
  }
  for (const auto& w : args.warnings) log(prog, "warning: " + w);
  if (!args.error.empty()) {
    log(prog, "error: " + args.error + " (see --help)");
    return 2;
  }
  return std::nullopt;
}

std::string check_iface_name(std::string_view name) {
  if (name.empty()) return "the interface name is empty";
  if (name.size() > 15) return "interface name '" + std::string(name) + "' is longer than 15";
  if (name == "." || name == "..") return "'" + std::string(name) + "' is not an interface name";
  for (char c : name) {
    if (c == '/' || c == ':' || static_cast<unsigned char>(c) <= ' ' || c == 0x7f) {
      return "interface name '" + std::string(name) + "' contains a forbidden character";
    }
  }
  return {};
}

std::string check_path_component(std::string_view v) {
  if (v.empty() || v.size() > 64) return "'" + std::string(v) + "' must have 1 to 64 characters";
  if (v == "." || v == "..") return "'" + std::string(v) + "' is not a directory name";
  for (char c : v) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '_' || c == '-';
    if (!ok) return "'" + std::string(v) + "' may hold only letters, digits, '.', '_' and '-'";
  }
  return {};
}

std::string check_absolute_path(std::string_view p) {
  if (p.empty() || p.front() != '/') return "'" + std::string(p) + "' is not an absolute path";
  if (p.find('\0') != std::string_view::npos) return "the path contains a NUL byte";
  for (const auto& e : fs::path(std::string(p))) {
    if (e == "." || e == "..") return "'" + std::string(p) + "' contains '.' or '..'";
  }
  return {};
}

std::optional<uint64_t> parse_uint(std::string_view s, uint64_t max) {
  if (s.empty() || s.size() > 20) return std::nullopt;
  uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    const uint64_t d = static_cast<uint64_t>(c - '0');
    if (v > (max - d) / 10) return std::nullopt;
    v = v * 10 + d;
  }
  return v;
}

std::optional<std::vector<uint16_t>> parse_ports(std::string_view s) {
  std::vector<uint16_t> out;
  if (s.empty()) return out;
  std::size_t start = 0;
  for (;;) {
    const auto comma = s.find(',', start);
    const auto part = s.substr(start, comma == s.npos ? s.npos : comma - start);
    auto v = parse_uint(part, 65535);
    if (!v || *v == 0) return std::nullopt;
    const auto port = static_cast<uint16_t>(*v);
    bool seen = false;
    for (uint16_t p : out) seen = seen || p == port;
    if (!seen) out.push_back(port);
    if (comma == s.npos) break;
    start = comma + 1;
  }
  return out;
}

fs::path own_directory() {
  std::error_code ec;
  fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (ec) return {};
  return exe.parent_path();
}

std::string make_dirs(const fs::path& dir) {
  std::vector<fs::path> missing;
  for (fs::path p = dir; !p.empty() && p != p.root_path(); p = p.parent_path()) {
    std::error_code ec;
    if (fs::exists(p, ec)) break;
    missing.push_back(p);
  }
  for (auto it = missing.rbegin(); it != missing.rend(); ++it) {
    if (::mkdir(it->c_str(), 0750) != 0 && errno != EEXIST) {
      return "create directory " + it->string() + ": " + std::strerror(errno);
    }
    (void)::chmod(it->c_str(), 0750);
  }
  return {};
}

}  // namespace l3afd::companion
