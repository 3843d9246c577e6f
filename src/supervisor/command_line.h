// Command lines of companion programs (docs/compatibility.md §11): what the daemon executes for
// cmd_start, cmd_stop, cmd_status and cmd_update, flag for flag. Pure, no I/O: the runner
// (a later posix adapter) executes the result with execve — never a shell — and re-checks
// the executable on disk. Many L3AF binaries parse their flags with getopt_long and exit on any
// unknown option, so nothing beyond the documented flags is ever added.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "core/result.h"
#include "model/l3af_types.h"

namespace l3afd::supervisor {

/// What a companion command runs for: one program on one hook (a probe has no hook).
struct Invocation {
  std::filesystem::path package_dir;  ///< the extracted package (FilePath); commands live in it
  std::string iface;                  ///< empty for probes: no --iface
  std::string direction;              ///< xdpingress | ingress | egress; empty for probes
  std::string version_dir;            ///< `V` (dots as underscores); empty: no --version
  /// Predecessor's next-array pin, only for a self-loading program (`object_file` empty) under
  /// chaining (docs/chain-protocol.md §1.3, §4.6): --map-name.
  std::optional<std::filesystem::path> map_name;
  std::string log_dir;  ///< [l3afd] bpf-log-dir; --log-dir only if longer than 1 character
  /// Where `rules` was written, when rules_file and rules are both longer than 1 character.
  std::optional<std::filesystem::path> rules_file;
};

/// An executable and its argv (argv[0] is the executable's path, as execve expects).
struct CommandLine {
  std::filesystem::path executable;
  std::vector<std::string> argv;
  bool operator==(const CommandLine&) const = default;
};

/// `cmd_start` (§11.1, in this order): --iface, --direction, --version, --map-name, --log-dir,
/// --rules-file, then --<key>=<value> for each start_args member in ascending key order.
/// Errors (InvalidPayload, one item naming the field): `cmd` empty or not a relative path inside
/// the package ("cmd_start"); an argument value that is not a string ("start_args").
Result<CommandLine> start_command(const Invocation& in, const std::string& cmd,
                                  const model::Args& args);

/// `cmd_stop` (§11.3, Ours): --iface, --direction, then --<key>=<value> (stop_args, sorted).
Result<CommandLine> stop_command(const Invocation& in, const std::string& cmd,
                                 const model::Args& args);

/// `cmd_status` (§11.3, Ours): --iface, --direction, then --<key>=<value> (status_args).
Result<CommandLine> status_command(const Invocation& in, const std::string& cmd,
                                   const model::Args& args);

/// `cmd_update` (§11.3): --iface, --direction, --cmd=update, --version, --log-dir, then
/// --<key>=<value> (update_args, sorted).
Result<CommandLine> update_command(const Invocation& in, const std::string& cmd,
                                   const model::Args& args);

/// True when a status command's output means "running": the output, trimmed of white space,
/// equals RUNNING in any case (§11.3, Ours).
bool reports_running(std::string_view output);

}  // namespace l3afd::supervisor
