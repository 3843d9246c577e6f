// Fixture of the self-loaded program tests: the libbpf adapter's fixture (private pin base,
// tests/kernel/libbpf/kernel_fixture.h) plus the package binaries of tools/companions, run as
// real processes from a package directory extracted from the build's local repository (so the
// binary finds its object next to it, as in a deployed package), against a veth pair the test
// makes (198.18.0.0/15). Processes are started with fork+execv (no shell) and stopped by their
// own pid only.
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "libbpf/kernel_fixture.h"
#include "support/netns.h"

namespace l3afd::kernel::libbpf {

inline const fs::path kRepoDir = L3AFD_BPF_REPO_DIR;

/// A child process with stdout+stderr in a file. The destructor SIGKILLs and reaps it if it
/// is still running.
class Child {
 public:
  Child(const std::vector<std::string>& argv, const fs::path& log) : log_(log) {
    pid_ = ::fork();
    if (pid_ == 0) {
      const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
      if (fd >= 0) {
        ::dup2(fd, 1);
        ::dup2(fd, 2);
      }
      std::vector<char*> args;
      for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
      args.push_back(nullptr);
      ::execv(args[0], args.data());
      ::_exit(127);
    }
  }
  ~Child() {
    if (pid_ > 0 && !status_) {
      ::kill(pid_, SIGKILL);
      int st = 0;
      ::waitpid(pid_, &st, 0);
    }
  }
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;

  bool started() const { return pid_ > 0; }
  /// True (and the exit status recorded) once it has exited.
  bool exited() {
    if (status_) return true;
    int st = 0;
    if (::waitpid(pid_, &st, WNOHANG) == pid_) status_ = st;
    return status_.has_value();
  }
  /// Waits for the exit; its exit code, or -1 if killed by a signal.
  int wait() {
    if (!status_) {
      int st = 0;
      if (::waitpid(pid_, &st, 0) == pid_) status_ = st;
    }
    return status_ && WIFEXITED(*status_) ? WEXITSTATUS(*status_) : -1;
  }
  /// SIGTERM, then wait.
  int terminate() {
    if (!exited()) ::kill(pid_, SIGTERM);
    return wait();
  }
  std::string output() const {
    std::ifstream in(log_);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }

 private:
  pid_t pid_ = -1;
  std::optional<int> status_;
  fs::path log_;
};

class SelfLoadedTest : public KernelTest {
 protected:
  static constexpr const char* kNextArray = "xdp_rl_ingress_next_prog";

  void SetUp() override {
    KernelTest::SetUp();
    ASSERT_EQ(veth_.error(), "");
    iface_ = veth_.root_name();
    pkg_root_ = fs::path("/tmp") / ("l3afd-sl-test-" + std::to_string(::getpid()));
    fs::create_directories(pkg_root_);
    for (const auto& [package, stem] :
         {std::pair<std::string, std::string>{"ratelimiting", "l3af_ratelimiting"},
          {"connection-limit", "l3af_connection_limit"}}) {
      const fs::path archive = kRepoDir / package / "latest" / L3AFD_PLATFORM / (stem + ".tar.gz");
      const auto r =
          l3afd::testing::run_command({"tar", "-xzf", archive.string(), "-C", pkg_root_.string()});
      ASSERT_EQ(r.exit_code, 0) << r.output;
    }
    rl_binary_ = pkg_root_ / "l3af_ratelimiting" / "ratelimiting";
    cl_binary_ = pkg_root_ / "l3af_connection_limit" / "connection_limit";
    map_dir_ = base_ / iface_ / "ratelimiting" / "latest";
    staging_ = map_dir_ / "l3afd_staging_1";
  }
  void TearDown() override {
    KernelTest::TearDown();
    std::error_code ec;
    fs::remove_all(pkg_root_, ec);
  }

  SelfLoadedSpec rl_spec(const std::string& key = "rl") const {
    SelfLoadedSpec s;
    s.key = key;
    s.hook = model::Hook::XdpIngress;
    s.staging_pin = staging_;
    s.private_map = kNextArray;
    s.next_array_pin = map_dir_ / kNextArray;
    s.map_pin_dir = map_dir_;
    s.prog_pin_path =
        base_ / "progs" / iface_ / "ratelimiting" / "latest" / "_xdp_ratelimiting_xdp";
    return s;
  }
  /// The real binary, chained into `map_name`, with extra arguments.
  std::unique_ptr<Child> start_rl(const fs::path& map_name,
                                  const std::vector<std::string>& extra = {}) {
    std::vector<std::string> argv = {rl_binary_.string(),
                                     "--iface=" + iface_,
                                     "--direction=xdpingress",
                                     "--version=latest",
                                     "--map-name=" + map_name.string(),
                                     "--bpf-base=" + base_.string()};
    argv.insert(argv.end(), extra.begin(), extra.end());
    auto c = std::make_unique<Child>(argv, pkg_root_ / "rl.log");
    EXPECT_TRUE(c->started());
    return c;
  }
  /// Runs a binary to its end; exit code and output.
  l3afd::testing::CommandResult run(const std::vector<std::string>& argv) {
    Child c(argv, pkg_root_ / "run.log");
    const int code = c.wait();
    return {code, c.output()};
  }
  /// Id in slot 0 of the program array pinned at `pin` (0 if empty).
  /// Polls until the binary has written slot 0 of `pin` (or has exited): the program id, 0 if
  /// it never did.
  static uint32_t wait_for_slot(Child& c, const fs::path& pin) {
    uint32_t id = 0;
    (void)eventually([&] { return (id = slot_id(pin)) != 0 || c.exited(); });
    return id;
  }
  static uint32_t slot_id(const fs::path& pin) {
    UniqueFd fd(bpf_obj_get(pin.c_str()));
    if (!fd) return 0;
    const uint32_t k = 0;
    uint32_t id = 0;
    return bpf_map_lookup_elem(fd.get(), &k, &id) == 0 ? id : 0;
  }

  l3afd::testing::VethPair veth_;
  std::string iface_;
  fs::path pkg_root_;
  fs::path rl_binary_;
  fs::path cl_binary_;
  fs::path map_dir_;
  fs::path staging_;
};

}  // namespace l3afd::kernel::libbpf
