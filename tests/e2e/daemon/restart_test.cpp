// Graceful restart (issue 11, docs/compatibility.md §16, docs/operations.md "Graceful restart"):
// PUT /l3af/configs/v1/restart on the real daemon — its refusals, the install layout with a
// daemon package fetched and verified, rollback when the new process fails or is too slow, the
// read-only window (503 restart_in_progress, 409 for a second restart), and the L3AF e2e
// sequence add → restart → update with byte-exact GETs. The traffic proof is in chain_test.cpp
// (ChainRestart.GracefulRestart…).
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <fstream>
#include <future>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "e2e/daemon/daemon_fixture.h"
#include "e2e/daemon/traffic.h"
#include "model/l3af_json.h"

extern char** environ;

namespace l3afd::e2e {
namespace {

const std::string kIpv4 = "198.18.200.1";
const std::string kRunning = std::string("v") + L3AFD_VERSION;

/// Runs a tool (PATH searched, no shell); true on exit 0.
bool run_tool(std::vector<std::string> args) {
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = -1;
  if (::posix_spawnp(&pid, argv[0], nullptr, nullptr, argv.data(), environ) != 0) return false;
  int status = 0;
  if (::waitpid(pid, &status, 0) != pid) return false;
  return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

std::string body_of(const std::string& version) {
  return "{\"hostname\": \"" + DaemonFixture::host() + "\", \"version\": \"" + version + "\"}";
}

class GracefulRestartE2e : public DaemonFixture {
 protected:
  /// `<dir>/install` in the layout of §16.1 with the running version installed (this build's
  /// binary and the test's config), and `<dir>/releases` as restart-artifacts-url.
  bool start_installed(int time_to_restart = 5) {
    base_ = dir_.path() / "install";
    releases_ = dir_.path() / "releases";
    DaemonOptions o;
    o.restart_basepath = base_.string();
    o.restart_artifacts_url = "file://" + releases_.string();
    o.time_to_restart = time_to_restart;
    if (!start_daemon(o)) return false;
    // The layout is read at restart time; its config is the one the daemon runs with.
    const fs::path rel = base_ / kRunning / "l3afd";
    fs::create_directories(rel);
    fs::create_directories(base_ / "latest");
    fs::copy_file(kDaemonBinary, rel / "l3afd");
    fs::copy_file(config_, rel / "l3afd.cfg");
    fs::create_symlink(rel / "l3afd", base_ / "latest" / "l3afd");
    fs::create_symlink(rel / "l3afd.cfg", base_ / "latest" / "l3afd.cfg");
    return true;
  }
  /// `<releases>/<version>/l3afd.tar.gz` holding l3afd/l3afd = `binary` and l3afd/l3afd.cfg =
  /// the test's config.
  void publish(const std::string& version, const fs::path& binary) {
    const fs::path stage = dir_.path() / ("stage-" + version);
    fs::create_directories(stage / "l3afd");
    fs::copy_file(binary, stage / "l3afd" / "l3afd", fs::copy_options::overwrite_existing);
    fs::permissions(stage / "l3afd" / "l3afd",
                    fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec);
    fs::copy_file(config_, stage / "l3afd" / "l3afd.cfg", fs::copy_options::overwrite_existing);
    fs::create_directories(releases_ / version);
    ASSERT_TRUE(
        run_tool({"tar", "-I", "gzip -1", "-cf", (releases_ / version / "l3afd.tar.gz").string(),
                  "-C", stage.string(), "l3afd"}));
  }
  /// A "daemon" that is a script (a test fixture, never the daemon's own code).
  fs::path script(const std::string& name, const std::string& text) {
    const fs::path p = dir_.path() / name;
    std::ofstream(p) << "#!/bin/sh\n" << text << "\n";
    fs::permissions(p, fs::perms::owner_all);
    return p;
  }
  std::string latest_target() const {
    std::error_code ec;
    return fs::read_symlink(base_ / "latest" / "l3afd", ec).string();
  }

  fs::path base_;
  fs::path releases_;
};

TEST_F(GracefulRestartE2e, RefusalsAnswerClearlyAndChangeNothing) {
  testing::VethPair v;
  ASSERT_EQ(v.error(), "");
  ASSERT_TRUE(start_daemon());
  const std::string ifc = v.root_name();
  ASSERT_EQ(add({entry(ifc, xdp_counter())}).status, 200);
  const pid_t pid = pid_file_value();
  const std::string store = state_bytes();

  auto r = api("PUT", "/l3af/configs/v1/restart", "{\"hostname\": ");
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_NE(r.body.find("invalid_json"), std::string::npos) << r.body;
  r = api("PUT", "/l3af/configs/v1/restart",
          "{\"hostname\": \"elsewhere\", \"version\": \"v1.0.0\"}");
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_NE(r.body.find("wrong_host"), std::string::npos) << r.body;
  for (const char* bad : {"v1.2", "1.2.3", "v1.2.101", "v01.2.3", "v1.2.3-rc1", ""}) {
    r = api("PUT", "/l3af/configs/v1/restart", body_of(bad));
    EXPECT_EQ(r.status, 400) << bad << ": " << r.body;
    EXPECT_NE(r.body.find("invalid_payload"), std::string::npos) << r.body;
    EXPECT_NE(r.body.find("version"), std::string::npos) << r.body;
  }
  // No install layout under the configured basepath: only the running version can restart.
  r = api("PUT", "/l3af/configs/v1/restart", body_of("v9.9.9"));
  EXPECT_EQ(r.status, 500) << r.body;
  EXPECT_NE(r.body.find("restart_failed"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("latest/l3afd"), std::string::npos) << r.body;

  EXPECT_EQ(pid_file_value(), pid);
  EXPECT_EQ(daemon_.pid(), pid);
  EXPECT_EQ(state_bytes(), store);
  // Read-only mode was left: writes work again.
  EXPECT_EQ(update({entry(ifc, xdp_counter("1.0", 9))}).status, 200);
  EXPECT_EQ(get(ifc).body, model::encode(view(ifc, kIpv4, xdp_counter("1.0", 9))));
}

// L3AF's e2e sequence (docs/compatibility.md §5.1): add, restart to the running version, update;
// the PID file names a new process within 5 s and every GET is what it would be without the
// restart. Also: the kernel objects are the same (adopted), and the counters continue.
TEST_F(GracefulRestartE2e, AddRestartUpdateIsByteExactAndAdoptsTheLiveState) {
  testing::VethPair v;
  ASSERT_EQ(v.error(), "");
  ASSERT_TRUE(start_daemon());
  const std::string ifc = v.root_name();
  ASSERT_EQ(add({entry(ifc, xdp_counter(), tc_counter())}).status, 200);
  const std::string get_before = get(ifc).body;
  const KernelSnapshot kernel_before = kernel_snapshot({ifc});
  std::vector<uint32_t> ids_before;
  for (const auto& d : bpfs(ifc)) ids_before.push_back(d.prog_id);

  pid_t new_pid = 0;
  auto r = graceful_restart(kRunning, &new_pid);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.body, "");
  EXPECT_EQ(get(ifc).body, get_before);
  std::vector<uint32_t> ids_after;
  for (const auto& d : bpfs(ifc)) ids_after.push_back(d.prog_id);
  EXPECT_EQ(ids_after, ids_before) << "adopted, not reloaded";
  const KernelSnapshot kernel_after = kernel_snapshot({ifc});
  EXPECT_EQ(kernel_after.pins, kernel_before.pins);
  EXPECT_EQ(kernel_after.attached, kernel_before.attached);
  EXPECT_NE(metrics().find("l3afd_BPFStartCount{direction=\"xdpingress\""), std::string::npos);

  ASSERT_EQ(update({entry(ifc, xdp_counter("1.0", 9), tc_counter())}).status, 200);
  EXPECT_EQ(get(ifc).body, model::encode(view(ifc, kIpv4, xdp_counter("1.0", 9), tc_counter())));

  // As after l3afd v2.1.0's hand-over (compatibility.md §5.1 item 4, L3AF's exp_output_4): a
  // stored empty array comes back as null after a graceful restart; the program is not
  // changed by it (same id).
  auto tc_empty = tc_counter();
  tc_empty.monitor_maps = std::vector<model::MonitorMap>{};
  ASSERT_EQ(update({entry(ifc, xdp_counter("1.0", 9), tc_empty)}).status, 200);
  ASSERT_NE(get(ifc).body.find("\"monitor_maps\": []"), std::string::npos) << get(ifc).body;
  const uint32_t tc_id = bpfs(ifc).back().prog_id;
  r = graceful_restart(kRunning);
  ASSERT_EQ(r.status, 200) << r.body;
  auto tc_null = tc_counter();
  tc_null.monitor_maps.reset();
  EXPECT_EQ(get(ifc).body, model::encode(view(ifc, kIpv4, xdp_counter("1.0", 9), tc_null)));
  EXPECT_EQ(bpfs(ifc).back().prog_id, tc_id);
}

TEST_F(GracefulRestartE2e, UpgradeFetchesThePackageAndRollsBackWhenTheNewProcessFails) {
  testing::VethPair v;
  ASSERT_EQ(v.error(), "");
  ASSERT_TRUE(start_installed());
  const std::string ifc = v.root_name();
  ASSERT_EQ(add({entry(ifc, xdp_counter())}).status, 200);
  const pid_t pid = pid_file_value();
  const std::string running_target = latest_target();

  // Missing package: 500, nothing changed.
  auto r = api("PUT", "/l3af/configs/v1/restart", body_of("v2.9.0"));
  EXPECT_EQ(r.status, 500) << r.body;
  EXPECT_NE(r.body.find("restart_failed"), std::string::npos) << r.body;
  EXPECT_FALSE(fs::exists(base_ / "v2.9.0"));

  // A new version whose binary exits at once: rolled back, the old process serves on.
  publish("v2.9.1", script("fails", "exit 3"));
  r = api("PUT", "/l3af/configs/v1/restart", body_of("v2.9.1"));
  EXPECT_EQ(r.status, 500) << r.body;
  EXPECT_NE(r.body.find("exited with status 3"), std::string::npos) << r.body;
  EXPECT_EQ(latest_target(), running_target) << "latest/ points to the running version again";
  EXPECT_FALSE(fs::exists(base_ / "v2.9.1")) << "the unpacked version is removed";
  EXPECT_EQ(pid_file_value(), pid);
  EXPECT_EQ(update({entry(ifc, xdp_counter("1.0", 8))}).status, 200);

  // The real binary as v2.9.2: the new process runs from <basepath>/v2.9.2.
  publish("v2.9.2", kDaemonBinary);
  pid_t new_pid = 0;
  r = graceful_restart("v2.9.2", &new_pid);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(latest_target(), (base_ / "v2.9.2" / "l3afd" / "l3afd").string());
  std::error_code ec;
  EXPECT_EQ(fs::read_symlink("/proc/" + std::to_string(new_pid) + "/exe", ec),
            base_ / "v2.9.2" / "l3afd" / "l3afd");
  EXPECT_TRUE(fs::exists(base_ / kRunning)) << "the previous version stays installed";
  EXPECT_EQ(get(ifc).body, model::encode(view(ifc, kIpv4, xdp_counter("1.0", 8))));
}

// The read-only window: while the new process starts, writes get 503 restart_in_progress with
// Retry-After: 1, GETs are served, a second restart gets 409; a new process that does not
// become ready within time-to-restart is killed and everything rolled back.
TEST_F(GracefulRestartE2e, SlowNewProcessTimesOutWhileWritesAreRefused) {
  testing::VethPair v;
  ASSERT_EQ(v.error(), "");
  ASSERT_TRUE(start_installed(/*time_to_restart=*/2));
  const std::string ifc = v.root_name();
  ASSERT_EQ(add({entry(ifc, xdp_counter())}).status, 200);
  const pid_t pid = pid_file_value();
  publish("v2.9.3", script("slow", "exec sleep 60"));

  auto restart = std::async(std::launch::async, [this] {
    return api("PUT", "/l3af/configs/v1/restart", body_of("v2.9.3"));
  });
  // Wait until the restart holds the gate (bounded). The probe rewrites what is there, so it
  // changes nothing when it gets in before the gate closes.
  test::HttpResult w;
  for (int i = 0; i < 250; ++i) {
    w = update({entry(ifc, xdp_counter())});
    if (w.status == 503) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_EQ(w.status, 503) << w.body;
  EXPECT_NE(w.body.find("restart_in_progress"), std::string::npos) << w.body;
  EXPECT_EQ(w.header("Retry-After"), "1");
  w = update({entry(ifc, xdp_counter("1.0", 5))});
  EXPECT_EQ(w.status, 503) << w.body;
  EXPECT_EQ(get(ifc).status, 200) << "reads are served during a restart";
  auto second = api("PUT", "/l3af/configs/v1/restart", body_of(kRunning));
  EXPECT_EQ(second.status, 409) << second.body;
  EXPECT_NE(second.body.find("restart_in_progress"), std::string::npos) << second.body;

  auto r = restart.get();
  EXPECT_EQ(r.status, 500) << r.body;
  EXPECT_NE(r.body.find("did not report ready within 2 s"), std::string::npos) << r.body;
  EXPECT_FALSE(fs::exists(base_ / "v2.9.3"));
  EXPECT_EQ(pid_file_value(), pid);
  // Writes are accepted again; the one refused during the restart changed nothing.
  EXPECT_EQ(get(ifc).body, model::encode(view(ifc, kIpv4, xdp_counter())));
  EXPECT_EQ(update({entry(ifc, xdp_counter("1.0", 5))}).status, 200);
}

// Clients that open a connection per request (curl, L3AF's e2e suite) never see a refused
// connection or a reset across a graceful restart: every request is answered, by the old process
// or the new one, 200 (reads) — at most 503 with Retry-After for writes, which are not sent here.
TEST_F(GracefulRestartE2e, ClientsGetAnAnswerToEveryRequestAcrossTheRestart) {
  testing::VethPair v;
  ASSERT_EQ(v.error(), "");
  ASSERT_TRUE(start_daemon());
  const std::string ifc = v.root_name();
  ASSERT_EQ(add({entry(ifc, xdp_counter())}).status, 200);
  std::atomic<bool> stop{false};
  std::atomic<int> answered{0};
  std::vector<std::string> problems;
  std::mutex mu;
  auto client = [&](uint16_t port, const std::string& target) {
    const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (!stop && std::chrono::steady_clock::now() < end) {
      auto r = test::request("127.0.0.1", port, "GET", target);
      if (r.status == 200) {
        ++answered;
      } else {
        std::lock_guard lock(mu);
        problems.push_back(target + ": " + std::to_string(r.status) + " " + r.error + " " + r.body);
      }
    }
  };
  std::thread a(client, api_port_, "/l3af/configs/v1/" + ifc);
  std::thread m(client, metrics_port_, "/metrics");
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  const int before = answered.load();
  auto r = graceful_restart(kRunning);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  stop = true;
  a.join();
  m.join();
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_GT(before, 0);
  EXPECT_GT(answered.load(), before) << "answered after the restart too";
  EXPECT_EQ(problems, std::vector<std::string>{});
}

// systemctl reload: the package manager installed a new version and switched latest/; SIGUSR2
// restarts into it, and the new process tells systemd (NOTIFY_SOCKET) that it is the service's
// main process and ready.
TEST_F(GracefulRestartE2e, Sigusr2RestartsIntoLatestAndTellsSystemd) {
  testing::VethPair v;
  ASSERT_EQ(v.error(), "");
  const fs::path notify = dir_.path() / "notify";
  UniqueFd sock(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  ASSERT_TRUE(sock);
  sockaddr_un sa{};
  sa.sun_family = AF_UNIX;
  ASSERT_LT(notify.string().size(), sizeof(sa.sun_path));
  std::strcpy(sa.sun_path, notify.c_str());
  ASSERT_EQ(::bind(sock.get(), reinterpret_cast<sockaddr*>(&sa), sizeof(sa)), 0);
  const auto next_message = [&]() -> std::string {
    pollfd p{sock.get(), POLLIN, 0};
    if (::poll(&p, 1, 15000) != 1) return "";
    char buf[512];
    const ssize_t n = ::recv(sock.get(), buf, sizeof buf, 0);
    return n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : "";
  };
  ::setenv("NOTIFY_SOCKET", notify.c_str(), 1);
  const bool started = start_installed();
  ::unsetenv("NOTIFY_SOCKET");
  ASSERT_TRUE(started);
  const pid_t old_pid = daemon_.pid();
  EXPECT_EQ(next_message(), "READY=1\nMAINPID=" + std::to_string(old_pid));
  const std::string ifc = v.root_name();
  ASSERT_EQ(add({entry(ifc, xdp_counter())}).status, 200);
  const std::string get_before = get(ifc).body;

  // What a package's post-install script does.
  const fs::path rel = base_ / "v2.9.5" / "l3afd";
  fs::create_directories(rel);
  fs::copy_file(kDaemonBinary, rel / "l3afd");
  fs::copy_file(config_, rel / "l3afd.cfg");
  for (const char* f : {"l3afd", "l3afd.cfg"}) {
    const fs::path tmp = base_ / "latest" / (std::string(f) + ".new");
    fs::create_symlink(rel / f, tmp);
    fs::rename(tmp, base_ / "latest" / f);
  }
  ::prctl(PR_SET_CHILD_SUBREAPER, 1);  // the new daemon becomes this process's child
  ASSERT_EQ(::kill(old_pid, SIGUSR2), 0);
  EXPECT_EQ(next_message(), "RELOADING=1");
  const std::string ready = next_message();
  ASSERT_TRUE(ready.starts_with("READY=1\nMAINPID=")) << ready;
  const pid_t new_pid = std::atoi(ready.c_str() + std::strlen("READY=1\nMAINPID="));
  EXPECT_NE(new_pid, old_pid);
  EXPECT_EQ(daemon_.wait_exit(10000), 0) << "the old process exits 0";
  daemon_.adopt(new_pid);
  EXPECT_EQ(pid_file_value(), new_pid);
  std::error_code ec;
  EXPECT_EQ(fs::read_symlink("/proc/" + std::to_string(new_pid) + "/exe", ec), rel / "l3afd");
  EXPECT_EQ(get(ifc).body, get_before);
}

}  // namespace
}  // namespace l3afd::e2e
