#include "supervisor/command_line.h"

#include <algorithm>
#include <cctype>

#include "layout/bpffs_layout.h"

namespace l3afd::supervisor {

namespace {

Error invalid(const std::string& field, std::string message) {
  Error e{.code = Errc::InvalidPayload, .message = message};
  e.items.push_back(ErrorItem{.field = field, .message = std::move(message)});
  return e;
}

/// `<package_dir>/<cmd>`, refused unless `cmd` is a non-empty relative path that stays inside
/// the package directory (lexically; the runner re-checks the real path before execve).
Result<std::filesystem::path> executable(const Invocation& in, const std::string& cmd,
                                         const std::string& field) {
  if (cmd.empty()) return fail(invalid(field, field + " is empty"));
  const std::filesystem::path rel(cmd);
  const auto exe = (in.package_dir / rel).lexically_normal();
  if (rel.is_absolute() || !layout::is_within(in.package_dir, exe)) {
    return fail(invalid(field, field + " " + cmd + " is not a path inside the package"));
  }
  return exe;
}

/// Appends --<key>=<value> for every member of `args` (json::Object is sorted by key bytes, so
/// this is ascending key order, D26). Non-string values are refused.
Status append_args(std::vector<std::string>& argv, const model::Args& args,
                   const std::string& field) {
  if (!args) return ok();
  for (const auto& [key, value] : *args) {
    const auto* s = std::get_if<std::string>(&value.v);
    if (s == nullptr) return fail(invalid(field, field + " member " + key + " is not a string"));
    argv.push_back("--" + key + "=" + *s);
  }
  return ok();
}

void append_hook(std::vector<std::string>& argv, const Invocation& in) {
  if (!in.iface.empty()) argv.push_back("--iface=" + in.iface);
  if (!in.direction.empty()) argv.push_back("--direction=" + in.direction);
}

void append_log_dir(std::vector<std::string>& argv, const Invocation& in) {
  if (in.log_dir.size() > 1) argv.push_back("--log-dir=" + in.log_dir);
}

/// Common frame: executable, argv[0], the flags `middle` adds, then the sorted arguments.
template <class Middle>
Result<CommandLine> build(const Invocation& in, const std::string& cmd, const model::Args& args,
                          const std::string& cmd_field, const std::string& args_field,
                          Middle middle) {
  auto exe = executable(in, cmd, cmd_field);
  if (!exe) return fail(std::move(exe.error()));
  CommandLine out{*exe, {exe->string()}};
  middle(out.argv);
  if (auto st = append_args(out.argv, args, args_field); !st) return fail(std::move(st.error()));
  return out;
}

}  // namespace

Result<CommandLine> start_command(const Invocation& in, const std::string& cmd,
                                  const model::Args& args) {
  return build(in, cmd, args, "cmd_start", "start_args", [&](std::vector<std::string>& argv) {
    append_hook(argv, in);
    if (!in.version_dir.empty()) argv.push_back("--version=" + in.version_dir);
    if (in.map_name) argv.push_back("--map-name=" + in.map_name->string());
    append_log_dir(argv, in);
    if (in.rules_file) argv.push_back("--rules-file=" + in.rules_file->string());
  });
}

Result<CommandLine> stop_command(const Invocation& in, const std::string& cmd,
                                 const model::Args& args) {
  return build(in, cmd, args, "cmd_stop", "stop_args",
               [&](std::vector<std::string>& argv) { append_hook(argv, in); });
}

Result<CommandLine> status_command(const Invocation& in, const std::string& cmd,
                                   const model::Args& args) {
  return build(in, cmd, args, "cmd_status", "status_args",
               [&](std::vector<std::string>& argv) { append_hook(argv, in); });
}

Result<CommandLine> update_command(const Invocation& in, const std::string& cmd,
                                   const model::Args& args) {
  return build(in, cmd, args, "cmd_update", "update_args", [&](std::vector<std::string>& argv) {
    append_hook(argv, in);
    argv.push_back("--cmd=update");
    if (!in.version_dir.empty()) argv.push_back("--version=" + in.version_dir);
    append_log_dir(argv, in);
  });
}

bool reports_running(std::string_view output) {
  auto space = [](unsigned char c) { return std::isspace(c) != 0; };
  while (!output.empty() && space(static_cast<unsigned char>(output.front())))
    output.remove_prefix(1);
  while (!output.empty() && space(static_cast<unsigned char>(output.back())))
    output.remove_suffix(1);
  constexpr std::string_view kRunning = "RUNNING";
  return output.size() == kRunning.size() &&
         std::equal(output.begin(), output.end(), kRunning.begin(), [](char a, char b) {
           return std::toupper(static_cast<unsigned char>(a)) == b;
         });
}

}  // namespace l3afd::supervisor
