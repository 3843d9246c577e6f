// Shared by the package binaries in tools/companions (ratelimiting, connection_limit): command
// line parsing with the L3AF conventions (docs/compatibility.md §11.1: `--k=v` flags; unknown
// options are ignored with a warning, never fatal), input validation and small file helpers.
// Logging goes to stderr, which the daemon captures into its log.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace l3afd::companion {

/// An option the binary knows: `--<name>=<value>` (or `--<name> <value>`) when it takes a
/// value, `--<name>` otherwise.
struct OptionDef {
  std::string name;
  bool takes_value = true;
  std::string help;  ///< one line for the usage text
};

struct ParsedArgs {
  std::map<std::string, std::string> values;  ///< known options given (flags map to "")
  bool help = false;                          ///< --help or -h
  std::vector<std::string> warnings;          ///< ignored arguments, said why
  std::string error;                          ///< non-empty: the command line is unusable
};

/// Parses argv[1..]. An unknown option or a positional argument is a warning (ignored); a known
/// option without its value, or a flag given a value, is an error.
ParsedArgs parse_args(int argc, const char* const* argv, const std::vector<OptionDef>& known);

/// The usage text: "usage: <prog> <synopsis>", the description, one line per option.
std::string usage(std::string_view prog, std::string_view synopsis, std::string_view about,
                  const std::vector<OptionDef>& known);

/// Logs "<prog>: <message>" to stderr (one line).
void log(std::string_view prog, std::string_view message);

/// The start every binary shares: prints the usage and returns 0 for --help; logs each
/// warning; logs the error and returns 2 for an unusable command line; nullopt to go on.
std::optional<int> handle_command_line(const ParsedArgs& args, std::string_view prog,
                                       std::string_view synopsis, std::string_view about,
                                       const std::vector<OptionDef>& known);

/// Empty if `name` is a usable interface name (1..15 bytes, no '/', no whitespace, not "." or
/// ".."), otherwise why not. Does not check that it exists.
std::string check_iface_name(std::string_view name);

/// Empty if `v` is usable as one directory name of the pin layout (the version `V`): 1..64
/// characters of [A-Za-z0-9._-], not "." or "..", otherwise why not.
std::string check_path_component(std::string_view v);

/// Empty if `p` is an absolute path without "." or ".." elements, otherwise why not.
std::string check_absolute_path(std::string_view p);

/// A decimal unsigned integer (digits only, no sign, no spaces) that fits in `max`.
std::optional<uint64_t> parse_uint(std::string_view s, uint64_t max);

/// A comma-separated list of TCP/UDP ports (1..65535), duplicates removed, order kept.
/// Empty optional if any element is not a port; an empty string is an empty list.
std::optional<std::vector<uint16_t>> parse_ports(std::string_view s);

/// Directory of this executable (/proc/self/exe): the package directory. Empty if unknown.
std::filesystem::path own_directory();

/// Creates `dir` and missing parents with mode 0750 (the pin layout's mode). Empty on success,
/// otherwise why not.
std::string make_dirs(const std::filesystem::path& dir);

}  // namespace l3afd::companion
