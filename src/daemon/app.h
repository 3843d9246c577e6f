// The composition root: the only place adapters are chosen and wired (DESIGN.md §2).
#pragma once

#include <filesystem>

namespace l3afd::daemon {

/// Runs the daemon with the config at `config_path` until SIGINT/SIGTERM/SIGQUIT.
/// Returns the process exit code: 0 after a clean stop, 1 on a start-up error or when
/// stopping did not finish within shutdown-timeout.
int run(const std::filesystem::path& config_path);

}  // namespace l3afd::daemon
