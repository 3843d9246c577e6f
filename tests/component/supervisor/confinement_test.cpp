// Companion confinement with real processes (docs/compatibility.md §11.7): the fake companion
// reports what it runs with (--report-file: uid/gid/groups, environment, NoNewPrivs and the
// capability sets of /proc/self/status, open fds, cwd) and each property is asserted:
// - every child: no_new_privs, exactly the environment given, no inherited fd, cwd in the package;
// - credentials: supplementary groups, gid, uid (real, effective, saved), no capability left, or
//   exactly the ambient ones asked for; a set-user-ID binary raises nothing under no_new_privs
//   (with a control showing the file system honours the bit without it);
// - a step of the child that fails is an error naming it, with its errno;
// - PosixCompanions: cmd_start, cmd_stop, cmd_status, cmd_update and one-shots all run as the
//   payload's user with its environment; a gone account is a 400 naming the member; adoption only
//   of a process running as the requested user.
// Needs root for every test that changes the user (skipped otherwise, with the reason).
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cinttypes>
#include <cstdio>
#include <map>
#include <sstream>

#include "component/supervisor/package_dir.h"
#include "supervisor/companion_record.h"
#include "supervisor/companions.h"
#include "supervisor/posix_runner.h"

namespace l3afd::supervisor {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using engine::CompanionRequest;
using testing::eventually;
using testing::gone;
using testing::PackageDir;
using testing::read_file;
using testing::Reaper;

/// What the fake companion wrote to its --report-file.
struct Report {
  std::map<std::string, std::string> values;  ///< every key but env
  std::vector<std::string> env;               ///< env= lines, in order
  std::string operator[](const std::string& k) const {
    auto it = values.find(k);
    return it == values.end() ? "<missing " + k + ">" : it->second;
  }
};

Report parse_report(const std::string& text) {
  Report r;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    const auto eq = line.find('=');
    if (eq == std::string::npos) continue;
    const std::string key = line.substr(0, eq);
    if (key == "env") {
      r.env.push_back(line.substr(eq + 1));
    } else {
      r.values[key] = line.substr(eq + 1);
    }
  }
  return r;
}

/// A capability set as /proc/<pid>/status prints it (16 hex digits).
std::string cap_hex(std::uint64_t bits) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016" PRIx64, bits);
  return buf;
}

std::uint64_t bit(int cap) {
  return std::uint64_t{1} << cap;
}

std::string triple(unsigned id) {
  return std::to_string(id) + "," + std::to_string(id) + "," + std::to_string(id);
}

#define REQUIRE_ROOT() \
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to change the user of a child"

class Confinement : public ::testing::Test {
 protected:
  void SetUp() override {
    // Where the companion, whoever it runs as, writes its reports (the operator's grant of a
    // writable directory, here world-writable).
    fs::create_directories(out());
    fs::permissions(out(), fs::perms::all);
    const passwd* pw = ::getpwnam("nobody");
    ASSERT_NE(pw, nullptr);
    nobody_ = *pw;
    const group* gr = ::getgrnam("nogroup");
    ASSERT_NE(gr, nullptr);
    nogroup_ = gr->gr_gid;
  }
  fs::path out() const { return d_.file("out"); }
  std::string report_path(const std::string& name) const { return (out() / name).string(); }
  Report report(const std::string& name) const { return parse_report(read_file(out() / name)); }
  CommandLine fake(const std::string& report_name, std::vector<std::string> extra = {}) const {
    CommandLine c{d_.fake(), {d_.fake().string(), "--report-file=" + report_path(report_name)}};
    for (auto& e : extra) c.argv.push_back(std::move(e));
    return c;
  }
  /// Runs `cmd` with `o` to its end (bounded) and returns the exit.
  static Exit run(const CommandLine& cmd, const SpawnOptions& o) {
    auto c = spawn(cmd, o);
    EXPECT_TRUE(c) << c.error().to_string();
    if (!c) return Exit{true, -1};
    auto e = wait_exit(*c, 30000ms);
    EXPECT_TRUE(e && e->has_value());
    return e && *e ? **e : Exit{true, -1};
  }
  SpawnOptions in_package() const {
    SpawnOptions o;
    o.cwd = d_.pkg();
    return o;
  }

  PackageDir d_{"confine"};
  passwd nobody_{};
  gid_t nogroup_ = 0;
};

TEST_F(Confinement, EveryChildHasNoNewPrivsNoEnvironmentNoInheritedFdAndThePackageAsCwd) {
  const int leaked = ::open("/dev/null", O_RDONLY);  // not close-on-exec, on purpose
  ASSERT_GE(leaked, 0);
  const Exit e = run(fake("plain"), in_package());
  ::close(leaked);
  EXPECT_EQ(e, (Exit{false, 0}));
  const Report r = report("plain");
  EXPECT_EQ(r["NoNewPrivs"], "1");
  EXPECT_TRUE(r.env.empty()) << r.env.front();
  EXPECT_EQ(r["fds"], "0,1,2");
  EXPECT_EQ(r["cwd"], d_.pkg().string());
  EXPECT_EQ(r["uid"], std::to_string(::getuid()) + "," + std::to_string(::geteuid()) + "," +
                          std::to_string(::geteuid()))
      << "without credentials: the daemon's user";

  SpawnOptions o = in_package();
  o.env = {"GREETING=hello world", "PATH=/usr/bin", "X=a=b"};
  EXPECT_EQ(run(fake("env"), o), (Exit{false, 0}));
  EXPECT_EQ(report("env").env, o.env) << "exactly what was given, nothing added";
}

TEST_F(Confinement, CredentialsGiveGroupsGidAndUidAndLeaveNoCapability) {
  REQUIRE_ROOT();
  SpawnOptions o = in_package();
  o.credentials = Credentials{.uid = nobody_.pw_uid, .gid = nogroup_, .groups = {nogroup_, 4242}};
  EXPECT_EQ(run(fake("nobody"), o), (Exit{false, 0}));
  const Report r = report("nobody");
  EXPECT_EQ(r["uid"], triple(nobody_.pw_uid)) << "real, effective and saved";
  EXPECT_EQ(r["gid"], triple(nogroup_));
  EXPECT_EQ(r["groups"], std::to_string(std::min<gid_t>(nogroup_, 4242)) + "," +
                             std::to_string(std::max<gid_t>(nogroup_, 4242)));
  for (const char* set : {"CapInh", "CapPrm", "CapEff", "CapAmb"}) {
    EXPECT_EQ(r[set], cap_hex(0)) << set;
  }
  EXPECT_EQ(r["NoNewPrivs"], "1");
  EXPECT_EQ(r["fds"], "0,1,2");
  EXPECT_EQ(r["cwd"], d_.pkg().string());
}

TEST_F(Confinement, AmbientCapabilitiesAreExactlyTheOnesAskedForAfterTheExec) {
  REQUIRE_ROOT();
  SpawnOptions o = in_package();
  const std::uint64_t want = bit(CAP_NET_BIND_SERVICE) | bit(CAP_BPF) | bit(CAP_CHECKPOINT_RESTORE);
  o.credentials =
      Credentials{.uid = nobody_.pw_uid, .gid = nogroup_, .groups = {nogroup_}, .ambient = want};
  EXPECT_EQ(run(fake("caps"), o), (Exit{false, 0}));
  const Report r = report("caps");
  EXPECT_EQ(r["uid"], triple(nobody_.pw_uid));
  EXPECT_EQ(r["CapAmb"], cap_hex(want));
  EXPECT_EQ(r["CapPrm"], cap_hex(want));
  EXPECT_EQ(r["CapEff"], cap_hex(want));
  EXPECT_EQ(r["CapInh"], cap_hex(want));
  EXPECT_EQ(r["NoNewPrivs"], "1") << "ambient capabilities survive no_new_privs";
}

TEST_F(Confinement, NoNewPrivsKeepsASetUserIdBinaryFromRaisingPrivileges) {
  REQUIRE_ROOT();
  const fs::path suid = d_.pkg() / "bin" / "suid";
  fs::copy_file(d_.fake(), suid);
  ASSERT_EQ(::chown(suid.c_str(), 0, 0), 0);
  ASSERT_EQ(::chmod(suid.c_str(), 04755), 0);
  const CommandLine cmd{suid, {suid.string(), "--report-file=" + report_path("control")}};
  // Control, without the runner: the same change of user, no no_new_privs. The file system
  // honours the bit, so the binary runs with effective uid 0.
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    const gid_t groups[] = {nogroup_};
    if (::setgroups(1, groups) != 0 || ::setgid(nogroup_) != 0 || ::setuid(nobody_.pw_uid) != 0) {
      ::_exit(2);
    }
    char* const argv[] = {const_cast<char*>(cmd.argv[0].c_str()),
                          const_cast<char*>(cmd.argv[1].c_str()), nullptr};
    ::execv(suid.c_str(), argv);
    ::_exit(3);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  EXPECT_EQ(report("control")["uid"], std::to_string(nobody_.pw_uid) + ",0,0")
      << "control: the set-user-ID bit works here";

  SpawnOptions o = in_package();
  o.credentials = Credentials{.uid = nobody_.pw_uid, .gid = nogroup_, .groups = {nogroup_}};
  const CommandLine confined{suid, {suid.string(), "--report-file=" + report_path("confined")}};
  EXPECT_EQ(run(confined, o), (Exit{false, 0}));
  EXPECT_EQ(report("confined")["uid"], triple(nobody_.pw_uid))
      << "under no_new_privs the bit gives nothing";
  EXPECT_EQ(report("confined")["CapEff"], cap_hex(0));
}

TEST_F(Confinement, AFailingStepOfTheChildIsAnErrorNamingItWithItsErrno) {
  REQUIRE_ROOT();
  fs::permissions(d_.pkg(), fs::perms::owner_all);  // 0700, root's: nobody cannot enter
  SpawnOptions o = in_package();
  o.credentials = Credentials{.uid = nobody_.pw_uid, .gid = nogroup_, .groups = {nogroup_}};
  auto c = spawn(fake("never"), o);
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().code, Errc::Io);
  EXPECT_EQ(c.error().sys_errno, EACCES) << c.error().to_string();
  EXPECT_NE(c.error().message.find("chdir"), std::string::npos) << c.error().message;
  EXPECT_NE(c.error().message.find("uid " + std::to_string(nobody_.pw_uid)), std::string::npos)
      << c.error().message;
  EXPECT_EQ(::waitpid(-1, nullptr, WNOHANG), -1) << "the failed child was reaped";
  EXPECT_FALSE(fs::exists(out() / "never"));
}

// ---- PosixCompanions -----------------------------------------------------------------------

class ConfinedCompanions : public Confinement {
 protected:
  std::unique_ptr<PosixCompanions> make() {
    CompanionsOptions o;
    o.log_dir = d_.file("logs");
    o.record_file = d_.file("companions.record");
    o.stop_grace = 30s;
    o.command_timeout = 30s;
    o.cgroup.root = d_.file("no-cgroup") / "l3afd";  // not cgroupfs: rlimits only
    auto c = PosixCompanions::create(std::move(o));
    EXPECT_TRUE(c) << c.error().to_string();
    return c ? std::move(*c) : nullptr;
  }
  CompanionRequest req(const std::string& name, std::optional<model::CompanionSettings> c) const {
    CompanionRequest r;
    r.id = "eth0/ingress/" + name;
    r.package_dir = d_.pkg();
    r.iface = "eth0";
    r.direction = "ingress";
    r.version_dir = "1_0";
    r.program.name = name;
    r.program.cmd_start = "bin/fake";
    r.program.user_program_daemon = true;
    r.program.companion = std::move(c);
    return r;
  }
  static json::Object args(std::map<std::string, std::string> kv) {
    json::Object o;
    for (auto& [k, v] : kv) o[k] = json::Value(v);
    return o;
  }
  static model::CompanionSettings as_nobody() {
    return model::CompanionSettings{
        .user = "nobody",
        .group = "nogroup",
        .environment = std::map<std::string, std::string>{{"GREETING", "hello world"},
                                                          {"PATH", "/usr/bin:/bin"}},
        .capabilities = std::vector<std::string>{"CAP_NET_BIND_SERVICE"}};
  }
  /// The properties every command of as_nobody() must show.
  void expect_as_nobody(const std::string& name) const {
    const Report r = report(name);
    EXPECT_EQ(r["uid"], triple(nobody_.pw_uid)) << name;
    EXPECT_EQ(r["gid"], triple(nogroup_)) << name;
    EXPECT_EQ(r.env, (std::vector<std::string>{"GREETING=hello world", "PATH=/usr/bin:/bin"}))
        << name;
    EXPECT_EQ(r["CapAmb"], cap_hex(bit(CAP_NET_BIND_SERVICE))) << name;
    EXPECT_EQ(r["CapEff"], cap_hex(bit(CAP_NET_BIND_SERVICE))) << name;
    EXPECT_EQ(r["NoNewPrivs"], "1") << name;
    EXPECT_EQ(r["cwd"], d_.pkg().string()) << name;
    EXPECT_EQ(r["fds"], "0,1,2") << name;
  }
};

TEST_F(ConfinedCompanions, StartStopStatusUpdateAndOneShotAllRunConfined) {
  REQUIRE_ROOT();
  Reaper reaper;
  auto c = make();
  auto r = req("all", as_nobody());
  r.program.start_args = args({{"report-file", report_path("start")}, {"sleep-ms", "-1"}});
  r.program.cmd_status = "bin/fake";
  r.program.status_args = args({{"report-file", report_path("status")}, {"say", "RUNNING"}});
  r.program.cmd_update = "bin/fake";
  r.program.update_args = args({{"report-file", report_path("update")}});
  r.program.cmd_stop = "bin/fake";
  r.program.stop_args = args({{"report-file", report_path("stop")}});
  ASSERT_TRUE(c->check(r)) << c->check(r).error().to_string();
  auto p = c->start(r);
  ASSERT_TRUE(p) << p.error().to_string();
  reaper.add(p->pid);
  ASSERT_TRUE(eventually([&] { return fs::exists(out() / "start"); }));
  expect_as_nobody("start");
  auto up = c->running(r);
  ASSERT_TRUE(up) << up.error().to_string();
  EXPECT_TRUE(*up);
  expect_as_nobody("status");
  ASSERT_TRUE(c->update(r));
  expect_as_nobody("update");
  ASSERT_TRUE(c->stop(r));
  expect_as_nobody("stop");
  EXPECT_TRUE(eventually([&] { return gone(p->pid); }));

  auto once = req("once", as_nobody());
  once.program.user_program_daemon = false;
  once.program.start_args = args({{"report-file", report_path("once")}});
  ASSERT_TRUE(c->run_once(once, 30s));
  expect_as_nobody("once");
}

TEST_F(ConfinedCompanions, WithoutTheExtensionTheDaemonsUserAndAnEmptyEnvironment) {
  Reaper reaper;
  auto c = make();
  auto r = req("plain", std::nullopt);
  r.program.start_args = args({{"report-file", report_path("plain")}, {"sleep-ms", "-1"}});
  auto p = c->start(r);
  ASSERT_TRUE(p) << p.error().to_string();
  reaper.add(p->pid);
  ASSERT_TRUE(eventually([&] { return fs::exists(out() / "plain"); }));
  const Report rep = report("plain");
  EXPECT_EQ(rep["uid"], std::to_string(::getuid()) + "," + std::to_string(::geteuid()) + "," +
                            std::to_string(::geteuid()));
  EXPECT_TRUE(rep.env.empty());
  EXPECT_EQ(rep["NoNewPrivs"], "1");
  ASSERT_TRUE(c->stop(r));
}

TEST_F(ConfinedCompanions, AnAccountThatIsGoneIsAPayloadErrorNamingTheMember) {
  auto c = make();
  auto r = req("gone", model::CompanionSettings{.user = "l3afd-no-such-user"});
  r.program.start_args = args({{"report-file", report_path("gone")}});
  auto started = c->start(r);
  ASSERT_FALSE(started);
  for (const Error& e : {c->check(r).error(), started.error()}) {
    const Status st = fail(e);
    EXPECT_EQ(st.error().code, Errc::InvalidPayload) << st.error().to_string();
    ASSERT_EQ(st.error().items.size(), 1u);
    EXPECT_EQ(st.error().items[0].field, "companion/user");
    EXPECT_EQ(st.error().items[0].iface, "eth0");
    EXPECT_EQ(st.error().items[0].direction, "ingress");
    EXPECT_EQ(st.error().items[0].program, "gone");
  }
  EXPECT_FALSE(fs::exists(out() / "gone")) << "nothing was started";
}

TEST_F(ConfinedCompanions, AProcessOfAPreviousRunIsAdoptedOnlyIfItRunsAsTheRequestedUser) {
  REQUIRE_ROOT();
  Reaper reaper;
  auto same = req("same", as_nobody());
  same.program.start_args = args({{"sleep-ms", "-1"}});
  auto other = req("other", std::nullopt);  // started as root ...
  other.program.start_args = args({{"sleep-ms", "-1"}});
  int same_pid = 0, other_pid = 0;
  {
    auto a = make();
    auto p = a->start(same);
    ASSERT_TRUE(p) << p.error().to_string();
    same_pid = p->pid;
    reaper.add(same_pid);
    auto q = a->start(other);
    ASSERT_TRUE(q) << q.error().to_string();
    other_pid = q->pid;
    reaper.add(other_pid);
  }                                       // the daemon goes away; its companions keep running
  other.program.companion = as_nobody();  // ... and asked for as nobody by the next run
  auto b = make();
  auto p = b->start(same);
  ASSERT_TRUE(p) << p.error().to_string();
  EXPECT_TRUE(p->adopted);
  EXPECT_EQ(p->pid, same_pid);
  auto q = b->start(other);
  ASSERT_TRUE(q) << q.error().to_string();
  reaper.add(q->pid);
  EXPECT_FALSE(q->adopted) << "it runs as root, not as the requested user";
  EXPECT_NE(q->pid, other_pid);
  EXPECT_TRUE(eventually([&] { return gone(other_pid); })) << "the old copy was stopped";
  auto creds = proc_credentials(q->pid);
  ASSERT_TRUE(creds);
  EXPECT_EQ(creds->uid, nobody_.pw_uid);
  EXPECT_EQ(creds->euid, nobody_.pw_uid);
  EXPECT_EQ(creds->gid, nogroup_);
  ASSERT_TRUE(b->stop(same));
  ASSERT_TRUE(b->stop(other));
}

}  // namespace
}  // namespace l3afd::supervisor
