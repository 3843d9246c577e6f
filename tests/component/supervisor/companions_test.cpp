// PosixCompanions with real processes (the fake companion copied into a package directory):
// exact argv and rules file, exits reported once and reaped, stop (SIGTERM-ignoring process,
// cmd_stop), one-shot errors and timeouts, payload checks naming the field, adoption across
// instances sharing a record, stop_unclaimed, the log cap and the memory limit.
#include "supervisor/companions.h"

#include <signal.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <condition_variable>
#include <deque>
#include <mutex>

#include "component/supervisor/package_dir.h"
#include "supervisor/companion_record.h"
#include "supervisor/proc_identity.h"

namespace l3afd::supervisor {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using engine::CompanionExit;
using engine::CompanionRequest;
using testing::eventually;
using testing::gone;
using testing::PackageDir;
using testing::read_file;
using testing::Reaper;

class Reports {
 public:
  std::function<void(CompanionExit)> handler() {
    return [this](CompanionExit e) {
      std::lock_guard lock(mu_);
      got_.push_back(std::move(e));
      cv_.notify_all();
    };
  }
  std::optional<CompanionExit> next() {
    std::unique_lock lock(mu_);
    if (!cv_.wait_for(lock, 30s, [&] { return !got_.empty(); })) return std::nullopt;
    auto e = got_.front();
    got_.pop_front();
    return e;
  }
  std::size_t count() {
    std::lock_guard lock(mu_);
    return got_.size();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<CompanionExit> got_;
};

class Companions : public ::testing::Test {
 protected:
  CompanionsOptions options() const {
    CompanionsOptions o;
    o.log_dir = d_.file("logs");
    o.record_file = d_.file("companions.record");
    o.bpf_log_dir = "/var/log/l3afd";
    o.stop_grace = 30s;
    o.command_timeout = 30s;
    o.cgroup.root = d_.file("no-cgroup") / "l3afd";  // not cgroupfs: rlimits only
    return o;
  }
  std::unique_ptr<PosixCompanions> make(CompanionsOptions o) {
    auto c = PosixCompanions::create(std::move(o));
    EXPECT_TRUE(c) << c.error().to_string();
    if (!c) return nullptr;
    (*c)->on_exit(reports_.handler());
    return std::move(*c);
  }
  std::unique_ptr<PosixCompanions> make() { return make(options()); }
  CompanionRequest req(const std::string& name, std::map<std::string, std::string> args) const {
    CompanionRequest r;
    r.id = "eth0/ingress/" + name;
    r.package_dir = d_.pkg();
    r.iface = "eth0";
    r.direction = "ingress";
    r.version_dir = "1_0";
    r.program.name = name;
    r.program.cmd_start = "bin/fake";
    r.program.user_program_daemon = true;
    json::Object o;
    for (auto& [k, v] : args) o[k] = json::Value(std::string(v));
    r.program.start_args = std::move(o);
    return r;
  }
  std::string path(const std::string& name) const { return d_.file(name).string(); }
  /// Waits until the adapter has seen `id`'s process end (it is no longer recorded), plus a
  /// little room for a report that should not come.
  void settled(const std::string& id) const {
    EXPECT_TRUE(eventually([&] {
      auto l = load_records(d_.file("companions.record"));
      return l && std::none_of(l->begin(), l->end(),
                               [&](const CompanionRecord& r) { return r.id == id; });
    }));
    std::this_thread::sleep_for(50ms);
  }
  bool exists(const std::string& name) const { return fs::exists(d_.file(name)); }
  /// Live processes running the fake that are children of this test process.
  int fake_children() const {
    int n = 0;
    for (const auto& e : fs::directory_iterator("/proc")) {
      const auto name = e.path().filename().string();
      if (name.find_first_not_of("0123456789") != std::string::npos) continue;
      std::error_code ec;
      if (fs::read_symlink(e.path() / "exe", ec) != d_.fake() || ec) continue;
      const auto stat = read_file(e.path() / "stat");
      const auto close = stat.rfind(')');
      if (close == std::string::npos) continue;
      char state = 0;
      int ppid = 0;
      if (std::sscanf(stat.c_str() + close + 1, " %c %d", &state, &ppid) == 2 &&
          ppid == ::getpid() && state != 'Z') {
        ++n;
      }
    }
    return n;
  }

  PackageDir d_{"companions"};
  Reports reports_;
};

TEST_F(Companions, TheChildSeesTheExactArgvAndTheRulesWrittenBeforeItStarted) {
  auto c = make();
  auto r =
      req("argv",
          {{"argv-file", path("argv")}, {"rules-copy", path("rules-seen")}, {"sleep-ms", "-1"}});
  r.map_name = fs::path("/sys/fs/bpf/eth0/ingress/prev_next");
  r.program.rules_file = "rules.txt";
  r.program.rules = "allow 10.0.0.0/8\n";
  auto p = c->start(r);
  ASSERT_TRUE(p) << p.error().to_string();
  EXPECT_FALSE(p->adopted);
  ASSERT_TRUE(eventually([&] { return exists("argv") && exists("rules-seen"); }));
  const auto rules = d_.pkg() / "ingress" / "rules.txt";
  EXPECT_EQ(read_file(d_.file("argv")),
            d_.fake().string() +
                "\n--iface=eth0\n--direction=ingress\n--version=1_0\n"
                "--map-name=/sys/fs/bpf/eth0/ingress/prev_next\n--log-dir=/var/log/l3afd\n"
                "--rules-file=" +
                rules.string() + "\n--argv-file=" + path("argv") +
                "\n--rules-copy=" + path("rules-seen") + "\n--sleep-ms=-1\n");
  EXPECT_EQ(read_file(d_.file("rules-seen")), "allow 10.0.0.0/8\n")
      << "the rules file was there when the companion started";
  struct stat st {};
  ASSERT_EQ(::stat(rules.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0644u);
  auto st2 = proc_stat(p->pid);
  ASSERT_TRUE(st2);
  EXPECT_EQ(st2->start_time, p->start_time);
  ASSERT_TRUE(c->stop(r));
  ASSERT_TRUE(eventually([&] { return gone(p->pid); }));
  settled(r.id);
  EXPECT_EQ(reports_.count(), 0u) << "no exit is reported for a stopped companion";
}

TEST_F(Companions, ADaemonExitIsReportedOnceAndReaped) {
  auto c = make();
  auto r = req("exits", {{"sleep-ms", "100"}, {"code", "5"}});
  auto p = c->start(r);
  ASSERT_TRUE(p) << p.error().to_string();
  auto e = reports_.next();
  ASSERT_TRUE(e);
  EXPECT_EQ(*e, (CompanionExit{r.id, p->pid, false, 5}));
  EXPECT_TRUE(gone(p->pid)) << "reaped before it was reported";
  auto running = c->running(r);
  ASSERT_TRUE(running);
  EXPECT_FALSE(*running);
  auto recorded = load_records(d_.file("companions.record"));
  ASSERT_TRUE(recorded);
  EXPECT_TRUE(recorded->empty()) << "an ended companion is no longer recorded";

  auto k = c->start(req("killed", {{"sleep-ms", "-1"}}));
  ASSERT_TRUE(k);
  auto alive = c->running(req("killed", {}));
  ASSERT_TRUE(alive);
  EXPECT_TRUE(*alive);
  ASSERT_EQ(::kill(k->pid, SIGKILL), 0);
  auto ke = reports_.next();
  ASSERT_TRUE(ke);
  EXPECT_EQ(*ke, (CompanionExit{"eth0/ingress/killed", k->pid, true, SIGKILL}));
  std::this_thread::sleep_for(50ms);  // room for a wrong second report
  EXPECT_EQ(reports_.count(), 0u) << "each exit reported once";
}

TEST_F(Companions, StopReturnsWithoutWaitingForTheGrace) {
  auto o = options();
  o.stop_grace = std::chrono::hours(1);  // stop() returning at all proves it did not wait
  auto c = make(o);
  auto r =
      req("stubborn", {{"ignore-term", "1"}, {"ready-file", path("ready")}, {"sleep-ms", "-1"}});
  auto p = c->start(r);
  ASSERT_TRUE(p);
  ASSERT_TRUE(eventually([&] { return exists("ready"); }));
  ASSERT_TRUE(c->stop(r));
  EXPECT_FALSE(gone(p->pid)) << "SIGTERM ignored, the grace far away: still there";
  auto running = c->running(r);
  ASSERT_TRUE(running);
  EXPECT_FALSE(*running) << "a companion being stopped no longer counts as running";
  auto again = c->stop(r);
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, Errc::NotFound);
  c.reset();
  EXPECT_TRUE(gone(p->pid)) << "a stop in progress is finished (SIGKILL, reaped) at shutdown";
  EXPECT_EQ(reports_.count(), 0u);
}

TEST_F(Companions, ASigtermIgnoringProcessIsKilledAfterTheGraceAndReaped) {
  auto o = options();
  o.stop_grace = 200ms;
  auto c = make(o);
  auto r =
      req("stubborn", {{"ignore-term", "1"}, {"ready-file", path("ready")}, {"sleep-ms", "-1"}});
  auto p = c->start(r);
  ASSERT_TRUE(p);
  ASSERT_TRUE(eventually([&] { return exists("ready"); }));
  ASSERT_TRUE(c->stop(r));
  ASSERT_TRUE(eventually([&] { return gone(p->pid); }, 60s)) << "SIGKILLed after the grace";
  EXPECT_EQ(::waitpid(p->pid, nullptr, WNOHANG), -1) << "and reaped";
  settled(r.id);
  EXPECT_EQ(reports_.count(), 0u);
}

TEST_F(Companions, CmdStopIsUsedWhenSet) {
  auto c = make();  // grace 30 s: only cmd_stop can end it within the wait below
  auto r = req("polite", {{"pid-file", path("pid")},
                          {"usr1-marker", path("marker")},
                          {"ignore-term", "1"},
                          {"ready-file", path("ready")},
                          {"sleep-ms", "-1"}});
  r.program.cmd_stop = "bin/fake";
  json::Object stop_args;
  stop_args["signal-pid-file"] = json::Value(path("pid"));
  stop_args["argv-file"] = json::Value(path("stop-argv"));
  r.program.stop_args = stop_args;
  auto p = c->start(r);
  ASSERT_TRUE(p);
  ASSERT_TRUE(eventually([&] { return exists("ready") && exists("pid"); }));
  ASSERT_TRUE(c->stop(r));
  ASSERT_TRUE(eventually([&] { return gone(p->pid); }, 20s));
  EXPECT_EQ(read_file(d_.file("marker")), "usr1") << "ended by cmd_stop, not by SIGKILL";
  EXPECT_EQ(read_file(d_.file("stop-argv")), d_.fake().string() +
                                                 "\n--iface=eth0\n--direction=ingress\n"
                                                 "--argv-file=" +
                                                 path("stop-argv") +
                                                 "\n--signal-pid-file=" + path("pid") + "\n");
  settled(r.id);
  EXPECT_EQ(reports_.count(), 0u) << "an end caused by cmd_stop is not an exit to report";
}

TEST_F(Companions, StatusCommandDecidesRunningAndUpdateRunsWithItsArguments) {
  auto c = make();
  auto r = req("status", {{"code", "0"}});
  r.program.cmd_status = "bin/fake";
  r.program.status_args = json::Object{{"argv-file", json::Value(path("status-argv"))},
                                       {"say", json::Value(std::string(" running\n"))}};
  auto yes = c->running(r);
  ASSERT_TRUE(yes) << yes.error().to_string();
  EXPECT_TRUE(*yes) << "trimmed output RUNNING, any case, without a supervised process";
  EXPECT_EQ(read_file(d_.file("status-argv")),
            d_.fake().string() + "\n--iface=eth0\n--direction=ingress\n--argv-file=" +
                path("status-argv") + "\n--say= running\n\n");
  (*r.program.status_args)["say"] = json::Value(std::string("RUNNING, mostly"));
  auto no = c->running(r);
  ASSERT_TRUE(no);
  EXPECT_FALSE(*no);

  EXPECT_TRUE(c->update(r)) << "no cmd_update: nothing to do";
  r.program.cmd_update = "bin/fake";
  r.program.update_args = json::Object{{"argv-file", json::Value(path("update-argv"))}};
  ASSERT_TRUE(c->update(r));
  EXPECT_EQ(read_file(d_.file("update-argv")),
            d_.fake().string() +
                "\n--iface=eth0\n--direction=ingress\n--cmd=update\n--version=1_0\n"
                "--log-dir=/var/log/l3afd\n--argv-file=" +
                path("update-argv") + "\n");
  (*r.program.update_args)["code"] = json::Value(std::string("9"));
  auto failed = c->update(r);
  ASSERT_FALSE(failed);
  EXPECT_EQ(failed.error().code, Errc::Kernel);
  EXPECT_NE(failed.error().message.find("exited with status 9"), std::string::npos);
}

TEST_F(Companions, AOneShotNonZeroExitIsAnErrorWithItsOutput) {
  auto c = make();
  auto r = req("oneshot", {{"print-lines", "3"}, {"code", "4"}});
  r.program.user_program_daemon = false;
  auto st = c->run_once(r, 30s);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code, Errc::Kernel);
  EXPECT_NE(st.error().message.find("exited with status 4"), std::string::npos)
      << st.error().message;
  EXPECT_NE(st.error().message.find("line 2"), std::string::npos) << st.error().message;
  EXPECT_EQ(read_file(c->log_path(r.id)), "line 0\nline 1\nline 2\n") << "and in its log";
  EXPECT_EQ(c->log_path(r.id), d_.file("logs") / "eth0_ingress_oneshot.log");
  EXPECT_TRUE(c->run_once(req("ok", {{"code", "0"}}), 30s));
}

TEST_F(Companions, AHangingOneShotTimesOutAndIsGone) {
  auto c = make();
  auto r = req("hang", {{"pid-file", path("pid")}, {"sleep-ms", "-1"}});
  auto st = c->run_once(r, 300ms);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code, Errc::Timeout) << st.error().to_string();
  ASSERT_TRUE(eventually([&] { return exists("pid"); }));
  const int pid = std::stoi(read_file(d_.file("pid")));
  EXPECT_TRUE(gone(pid)) << "killed and reaped before Timeout was returned";
}

TEST_F(Companions, PathsAndArgumentsAreCheckedNamingTheField) {
  auto c = make();
  fs::create_symlink("/bin/true", d_.pkg() / "bin" / "escape");
  std::ofstream(d_.pkg() / "bin" / "text") << "not a program";
  fs::create_directories(d_.pkg() / "bin" / "dir");
  fs::create_directories(d_.file("outside"));
  fs::create_symlink(d_.file("outside"), d_.pkg() / "out");
  auto field_of = [&](const CompanionRequest& r) -> std::string {
    auto st = c->check(r);
    if (st) return "ok";
    EXPECT_EQ(st.error().code, Errc::InvalidPayload);
    EXPECT_EQ(st.error().items.size(), 1u);
    if (st.error().items.empty()) return "no item";
    EXPECT_EQ(st.error().items[0].program, r.program.name);
    return st.error().items[0].field;
  };
  auto with = [&](auto change) {
    auto r = req("checked", {{"code", "0"}});
    change(r);
    return field_of(r);
  };
  EXPECT_EQ(with([](CompanionRequest&) {}), "ok");
  EXPECT_EQ(with([](CompanionRequest& r) { r.program.cmd_start = "../x"; }), "cmd_start");
  EXPECT_EQ(with([](CompanionRequest& r) { r.program.cmd_start = "/bin/true"; }), "cmd_start");
  EXPECT_EQ(with([](CompanionRequest& r) { r.program.cmd_start = "bin/escape"; }), "cmd_start");
  EXPECT_EQ(with([](CompanionRequest& r) { r.program.cmd_start = "bin/text"; }), "cmd_start");
  EXPECT_EQ(with([](CompanionRequest& r) { r.program.cmd_start = "bin/dir"; }), "cmd_start");
  EXPECT_EQ(with([](CompanionRequest& r) { r.program.cmd_start = "bin/missing"; }), "cmd_start");
  EXPECT_EQ(with([](CompanionRequest& r) { r.program.cmd_stop = "../y"; }), "cmd_stop");
  EXPECT_EQ(with([](CompanionRequest& r) { r.program.cmd_status = "bin/text"; }), "cmd_status");
  EXPECT_EQ(with([](CompanionRequest& r) { r.program.cmd_update = "bin/escape"; }), "cmd_update");
  EXPECT_EQ(with([](CompanionRequest& r) { r.program.rules_file = "../../r"; }), "rules_file");
  EXPECT_EQ(with([](CompanionRequest& r) { r.program.rules_file = "/etc/r"; }), "rules_file");
  EXPECT_EQ(with([](CompanionRequest& r) { r.program.rules_file = "../out/r"; }), "rules_file")
      << "a link in the package leading out of it";
  EXPECT_EQ(with([](CompanionRequest& r) { r.program.rules_file = "sub/rules"; }), "ok");
  EXPECT_EQ(with([](CompanionRequest& r) { (*r.program.start_args)["n"] = json::Value(1.0); }),
            "start_args");
  EXPECT_EQ(with([](CompanionRequest& r) {
              r.program.stop_args = json::Object{{"b", json::Value(true)}};
            }),
            "stop_args");
  EXPECT_EQ(with([](CompanionRequest& r) {
              r.program.update_args = json::Object{{"o", json::Value(json::Object{})}};
            }),
            "update_args");
  // start() and run_once() check first: nothing runs.
  auto bad = req("checked", {{"argv-file", path("argv")}});
  bad.program.start_args =
      json::Object{{"argv-file", json::Value(path("argv"))}, {"n", json::Value(2.0)}};
  auto p = c->start(bad);
  ASSERT_FALSE(p);
  EXPECT_EQ(p.error().items.at(0).field, "start_args");
  auto o = c->run_once(bad, 30s);
  ASSERT_FALSE(o);
  EXPECT_EQ(o.error().items.at(0).field, "start_args");
  std::this_thread::sleep_for(100ms);
  EXPECT_FALSE(exists("argv"));
}

TEST_F(Companions, ASecondInstanceAdoptsTheLiveProcessAndReportsItsExit) {
  Reaper reaper;
  auto r = req("adopt", {{"sleep-ms", "-1"}});
  engine::CompanionProcess first;
  {
    auto a = make();
    auto p = a->start(r);
    ASSERT_TRUE(p);
    first = *p;
    reaper.add(p->pid);
    auto conflict = a->start(r);
    ASSERT_FALSE(conflict);
    EXPECT_EQ(conflict.error().code, Errc::Conflict);
  }  // the daemon goes away; its companion keeps running
  ASSERT_FALSE(gone(first.pid));
  auto b = make();
  auto p = b->start(r);
  ASSERT_TRUE(p) << p.error().to_string();
  EXPECT_EQ(*p, (engine::CompanionProcess{first.pid, first.start_time, true}));
  EXPECT_EQ(fs::status(d_.file("companions.record")).permissions(),
            fs::perms::owner_read | fs::perms::owner_write);
  EXPECT_EQ(fake_children(), 1) << "no second copy was started";
  auto running = b->running(r);
  ASSERT_TRUE(running);
  EXPECT_TRUE(*running);
  EXPECT_EQ(b->stop_unclaimed(), 0u) << "the adopted one is claimed";
  ASSERT_EQ(::kill(first.pid, SIGKILL), 0);
  auto e = reports_.next();
  ASSERT_TRUE(e);
  EXPECT_EQ(e->id, r.id);
  EXPECT_EQ(e->pid, first.pid);
}

TEST_F(Companions, ARecordedProcessRunningAnotherExecutableIsStoppedNotAdopted) {
  Reaper reaper;
  auto r = req("replaced", {{"sleep-ms", "-1"}});
  int old_pid = 0;
  {
    auto a = make();
    auto p = a->start(r);
    ASSERT_TRUE(p);
    old_pid = p->pid;
    reaper.add(old_pid);
  }
  fs::copy_file(d_.fake(), d_.pkg() / "bin" / "fake2");  // the new package's binary
  r.program.cmd_start = "bin/fake2";
  auto b = make();
  auto p = b->start(r);
  ASSERT_TRUE(p) << p.error().to_string();
  reaper.add(p->pid);
  EXPECT_FALSE(p->adopted);
  EXPECT_NE(p->pid, old_pid);
  EXPECT_TRUE(eventually([&] { return gone(old_pid); })) << "the old copy was stopped";
  auto running = b->running(r);
  ASSERT_TRUE(running);
  EXPECT_TRUE(*running) << "the new copy is the one supervised";
  std::this_thread::sleep_for(50ms);
  EXPECT_EQ(reports_.count(), 0u);
}

TEST_F(Companions, StopUnclaimedStopsExactlyTheUnclaimedRecordedProcesses) {
  Reaper reaper;
  auto keep = req("keep", {{"sleep-ms", "-1"}});
  auto drop = req("drop", {{"sleep-ms", "-1"}});
  auto recycled = req("recycled", {{"sleep-ms", "-1"}});
  int keep_pid = 0, drop_pid = 0, recycled_pid = 0;
  {
    auto a = make();
    auto k = a->start(keep), d = a->start(drop), x = a->start(recycled);
    ASSERT_TRUE(k && d && x);
    keep_pid = k->pid;
    drop_pid = d->pid;
    recycled_pid = x->pid;
    for (int pid : {keep_pid, drop_pid, recycled_pid}) reaper.add(pid);
  }
  // The pid of "recycled" now names another process as far as the record can tell.
  auto records = load_records(d_.file("companions.record"));
  ASSERT_TRUE(records);
  ASSERT_EQ(records->size(), 3u);
  for (auto& rec : *records) {
    if (rec.id == recycled.id) rec.start_time += 1;
  }
  ASSERT_TRUE(save_records(d_.file("companions.record"), *records));

  auto b = make();
  auto k = b->start(keep);
  ASSERT_TRUE(k);
  EXPECT_TRUE(k->adopted);
  EXPECT_EQ(b->stop_unclaimed(), 1u);
  ASSERT_TRUE(eventually([&] { return gone(drop_pid); }));
  EXPECT_FALSE(gone(keep_pid)) << "claimed by a start()";
  EXPECT_FALSE(gone(recycled_pid)) << "its start time differs: never signalled";
  // The record forgets the stopped one once the watcher has seen it end (after the reap).
  std::vector<CompanionRecord> left;
  EXPECT_TRUE(eventually([&] {
    auto l = load_records(d_.file("companions.record"));
    if (l) left = *l;
    return l && l->size() == 1;
  }));
  ASSERT_EQ(left.size(), 1u);
  EXPECT_EQ(left.front().id, keep.id);
  EXPECT_EQ(reports_.count(), 0u);
}

TEST_F(Companions, TheLogIsCappedAndRotated) {
  auto o = options();
  o.log_cap = 1000;
  auto c = make(o);
  auto r = req("chatty", {{"print-bytes", "600"}});
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(c->start(r));
    ASSERT_TRUE(reports_.next());
  }
  EXPECT_EQ(read_file(c->log_path(r.id)), std::string(600, 'x'));
  EXPECT_EQ(read_file(c->log_path(r.id).string() + ".1"), std::string(600, 'x'));
}

TEST_F(Companions, MemoryBeyondTheLimitCannotBeAllocated) {
  auto c = make();
  auto big = req("big", {{"alloc", std::to_string(512ull << 20)}});
  big.program.memory = 256ll << 20;
  ASSERT_TRUE(c->start(big));
  auto e = reports_.next();
  ASSERT_TRUE(e);
  EXPECT_EQ(e->code, 3) << "the allocation failed (RLIMIT_AS)";
  auto small = req("small", {{"alloc", std::to_string(16ull << 20)}});
  small.program.memory = 256ll << 20;
  ASSERT_TRUE(c->start(small));
  auto f = reports_.next();
  ASSERT_TRUE(f);
  EXPECT_EQ(f->code, 0) << "within the limit it works";
  EXPECT_FALSE(c->uses_cgroups());
}

TEST_F(Companions, TheCgroupGetsMemoryMaxWhenCgroupsAreUsable) {
  // A plain directory stands in for cgroupfs (the real one is tested in cgroup_test.cpp).
  auto o = options();
  const auto root = d_.file("cg");
  fs::create_directories(root);
  std::ofstream(root / "cgroup.controllers") << "memory pids\n";
  std::ofstream(root / "cgroup.subtree_control");
  o.cgroup = {root, false};
  o.pids_max = 100;
  auto c = make(o);
  ASSERT_TRUE(c->uses_cgroups());
  auto r = req("limited", {{"code", "0"}});
  r.program.memory = 128ll << 20;
  const auto group = root / Cgroups::group_name(r.id);
  fs::create_directories(group);
  std::ofstream(group / "cgroup.procs");
  ASSERT_TRUE(c->start(r));
  ASSERT_TRUE(reports_.next());
  EXPECT_EQ(read_file(group / "memory.max"), std::to_string(128ull << 20));
  EXPECT_EQ(read_file(group / "pids.max"), "100");
  EXPECT_EQ(read_file(group / "cgroup.procs"), "0") << "the companion joined its group";
}

}  // namespace
}  // namespace l3afd::supervisor
