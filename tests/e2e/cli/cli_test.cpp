// The l3afd command line (docs/compatibility.md §1.1) and start-up failures, run as real processes.
// None of these reaches the point where the daemon touches the kernel.
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

extern char** environ;

namespace {

namespace fs = std::filesystem;

struct Run {
  int exit_code = -1;
  std::string output;  ///< stdout + stderr
};

/// Runs the daemon binary with `args` (no shell), bounded by `alarm`-free design: every case
/// here exits on its own before any listener starts.
Run run(std::vector<std::string> args) {
  int pipefd[2];
  EXPECT_EQ(::pipe(pipefd), 0);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, pipefd[1], 1);
  posix_spawn_file_actions_adddup2(&fa, pipefd[1], 2);
  posix_spawn_file_actions_addclose(&fa, pipefd[0]);
  std::vector<char*> argv;
  std::string bin = L3AFD_BINARY;
  argv.push_back(bin.data());
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = -1;
  EXPECT_EQ(posix_spawn(&pid, bin.c_str(), &fa, nullptr, argv.data(), environ), 0);
  posix_spawn_file_actions_destroy(&fa);
  ::close(pipefd[1]);
  Run r;
  char buf[4096];
  ssize_t n;
  while ((n = ::read(pipefd[0], buf, sizeof(buf))) > 0)
    r.output.append(buf, static_cast<size_t>(n));
  ::close(pipefd[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return r;
}

class Cli : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("l3afd-cli-" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path write_config(const std::string& text) {
    auto p = dir_ / "l3afd.cfg";
    std::ofstream(p) << text;
    return p;
  }
  std::string minimal(const std::string& chaining = "false") {
    return "[l3afd]\npid-file: " + (dir_ / "l3afd.pid").string() +
           "\nbpf-dir: " + (dir_ / "bpf").string() + "\nbpf-chaining-enabled: " + chaining +
           "\nBpfMapDefaultPath: /sys/fs/bpf\n[ebpf-repo]\nurl: file:///nonexistent\n"
           "[l3af-config-store]\nfilename: " +
           (dir_ / "store.json").string() + "\n";
  }
  fs::path dir_;
};

TEST_F(Cli, VersionPrintsTheCompatibleFirstLineAndExitsZero) {
  for (const char* flag : {"--version", "-version"}) {
    auto r = run({flag});
    EXPECT_EQ(r.exit_code, 0) << flag;
    EXPECT_TRUE(r.output.starts_with("Version: 2.1.0\n")) << r.output;
  }
}

TEST_F(Cli, AllFourConfigSpellingsAreAccepted) {
  const auto missing = (dir_ / "missing.cfg").string();
  for (std::vector<std::string> args : {std::vector<std::string>{"-config", missing},
                                        {"--config", missing},
                                        {"-config=" + missing},
                                        {"--config=" + missing}}) {
    auto r = run(args);
    EXPECT_EQ(r.exit_code, 1) << args[0];
    EXPECT_NE(r.output.find(missing), std::string::npos) << "the file is named: " << r.output;
  }
}

TEST_F(Cli, UnknownFlagIsAUsageError) {
  auto r = run({"--no-such-flag"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("flag provided but not defined"), std::string::npos) << r.output;
}

TEST_F(Cli, MissingRequiredKeyStopsStartUpWithOneLineNamingFileSectionAndKey) {
  auto cfg = write_config("[l3afd]\npid-file: /tmp/x.pid\n");
  auto r = run({"--config", cfg.string()});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.output.find(cfg.string() + ": [l3afd] "), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("required key is missing"), std::string::npos) << r.output;
  EXPECT_FALSE(fs::exists("/tmp/x.pid"));
}

TEST_F(Cli, BadValueNamesTheKeyAndTheReason) {
  auto cfg = write_config(minimal("maybe"));
  auto r = run({"--config", cfg.string()});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.output.find("[l3afd] bpf-chaining-enabled"), std::string::npos) << r.output;
  EXPECT_FALSE(fs::exists(dir_ / "l3afd.pid")) << "nothing started, no PID file left";
}

TEST_F(Cli, MtlsByDefaultNeedsItsCertificatesAndNamesTheMissingOne) {
  // [mtls] enabled defaults to true (the reference's default): without certificate files the
  // start stops, naming the file, before a PID file exists.
  auto mtls = write_config(minimal());
  auto r = run({"--config", mtls.string()});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.output.find("[mtls] server certificate"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("server.crt"), std::string::npos) << r.output;
  EXPECT_FALSE(fs::exists(dir_ / "l3afd.pid"));
}

TEST_F(Cli, UnsupportedModesAreRefusedAtStartWithAClearMessage) {
  std::string text = minimal("true") + "[mtls]\nenabled: false\n";
  text.insert(text.find("bpf-chaining-enabled"), "chain-write-order: fast\n");
  auto order = write_config(text);
  auto r = run({"--config", order.string()});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.output.find("[l3afd] chain-write-order: \"fast\" is not one of"), std::string::npos)
      << r.output;
}

}  // namespace
