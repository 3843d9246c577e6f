// Runs a program (no shell) and captures its stdout and stderr, for tests that drive real
// command-line clients (curl, ...). Bounded by a safety limit: a hung program is killed.
#pragma once

#include <chrono>
#include <string>
#include <vector>

namespace l3afd::test {

struct ProcessResult {
  int exit_code = -1;  ///< exit status; 128+signal when killed; -1 when it could not start
  std::string output;  ///< stdout followed by stderr as they arrived
};

/// argv[0] is looked up in PATH.
ProcessResult run_process(const std::vector<std::string>& argv,
                          std::chrono::seconds safety_limit = std::chrono::seconds(60));

}  // namespace l3afd::test
