// USDT probes of the real daemon seen by a real tracer (docs/tracing.md): Debian's bpftrace,
// started by the test without a shell and killed by its pid, attaches to the l3afd binary's
// probes; a real HTTP request with a known X-Request-ID must show up in its output with every
// step of the plan (the step kinds the dry run of the same payload lists, in order, ok=1) and
// op_done; a request that fails half-way must show the failed step and the rollback; a
// companion killed with SIGKILL must show its exit (status 9) and the start of its restart.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "e2e/daemon/daemon_fixture.h"
#include "json/value.h"
#include "model/l3af_json.h"
#include "support/http_client.h"
#include "support/netns.h"

namespace l3afd::e2e {
namespace {

using namespace std::chrono_literals;

/// One bpftrace process running `program`, its stdout and stderr in `out`. Killed with the
/// test (PR_SET_PDEATHSIG) and in the destructor, by its pid.
class Bpftrace {
 public:
  Bpftrace(const std::string& program, fs::path out) : out_(std::move(out)) {
    // Resolved before the fork: the child only makes async-signal-safe calls until execv.
    for (const char* d : {"/usr/bin/", "/usr/sbin/", "/usr/local/bin/"}) {
      if (::access((std::string(d) + "bpftrace").c_str(), X_OK) == 0) {
        bin_ = std::string(d) + "bpftrace";
        break;
      }
    }
    if (bin_.empty()) return;  // started() is false: install-deps installs Debian's bpftrace
    const std::string out_path = out_.string();
    // -B line: each printf reaches the file at once, not when bpftrace exits.
    const char* argv[] = {"bpftrace", "-B", "line", "-e", program.c_str(), nullptr};
    pid_ = ::fork();
    if (pid_ == 0) {
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      const int fd = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
      if (fd >= 0) {
        ::dup2(fd, 1);
        ::dup2(fd, 2);
      }
      ::execv(bin_.c_str(), const_cast<char* const*>(argv));
      ::_exit(127);
    }
  }
  ~Bpftrace() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGTERM);
    for (int i = 0; i < 100; ++i) {
      if (::waitpid(pid_, nullptr, WNOHANG) == pid_) return;
      std::this_thread::sleep_for(50ms);
    }
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
  Bpftrace(const Bpftrace&) = delete;
  Bpftrace& operator=(const Bpftrace&) = delete;

  bool started() const { return pid_ > 0; }
  std::string output() const {
    std::ifstream in(out_);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }
  /// Waits until the output holds a line containing `text`, bpftrace exits or `limit` passes.
  bool wait_for(const std::string& text, std::chrono::milliseconds limit) {
    const auto until = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < until) {
      if (output().find(text) != std::string::npos) return true;
      if (pid_ > 0 && ::waitpid(pid_, nullptr, WNOHANG) == pid_) {
        pid_ = -1;  // exited (an attach error): reaped, nothing left to kill
        return output().find(text) != std::string::npos;
      }
      std::this_thread::sleep_for(50ms);
    }
    return false;
  }

 private:
  std::string bin_;
  fs::path out_;
  pid_t pid_ = -1;
};

/// The bpftrace program: every engine and companion probe of the daemon `pid`, one line each,
/// fields space-separated as key=value; BEGIN prints "attached" (bpftrace runs BEGIN once every
/// probe is attached).
std::string trace_program(pid_t pid) {
  const std::string only = " /pid == " + std::to_string(pid) + "/ ";
  const auto probe = [&](const std::string& name, const std::string& action) {
    return "usdt:" + kDaemonBinary.string() + ":l3afd:" + name + only + "{ " + action + " }\n";
  };
  return "BEGIN { printf(\"attached\\n\"); }\n" +
         probe("op_start", R"(printf("op_start op=%s kind=%s\n", str(arg0), str(arg1));)") +
         probe("op_done",
               R"(printf("op_done op=%s kind=%s ok=%d ns=%lld\n", str(arg0), str(arg1), arg2,)"
               R"( arg3);)") +
         probe("plan_step",
               R"(printf("plan_step op=%s index=%d kind=%s target=%s ok=%d ns=%lld\n",)"
               R"( str(arg0), arg1, str(arg2), str(arg3), arg4, arg5);)") +
         probe("rollback",
               R"(printf("rollback op=%s undone=%d ok=%d ns=%lld\n", str(arg0), arg1, arg2,)"
               R"( arg3);)") +
         probe("companion_start", R"(printf("companion_start id=%s pid=%d\n", str(arg0), arg1);)") +
         probe("companion_exit",
               R"(printf("companion_exit id=%s pid=%d wait_status=%d\n", str(arg0), arg1,)"
               R"( arg2);)") +
         probe(
             "monitor_sample",
             R"(printf("monitor_sample program=%s series=%s key=%lld value=%llu ok=%d ns=%lld\n",)"
             R"( str(arg0), str(arg1), arg2, arg3, arg4, arg5);)");
}

std::vector<std::string> lines_with(const std::string& text, const std::string& prefix) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (line.rfind(prefix, 0) == 0) out.push_back(line);
  }
  return out;
}

/// The value of ` key=` in a trace line ("" if absent).
std::string field(const std::string& line, const std::string& key) {
  const auto at = line.find(" " + key + "=");
  if (at == std::string::npos) return "";
  const auto begin = at + key.size() + 2;
  return line.substr(begin, line.find(' ', begin) - begin);
}

/// The "action" of every step of a dry run's answer, in order.
std::vector<std::string> dry_run_kinds(const std::string& body) {
  std::vector<std::string> out;
  const std::string steps = body.substr(0, body.find("\"release\""));
  for (auto at = steps.find("\"action\":\""); at != std::string::npos;
       at = steps.find("\"action\":\"", at + 1)) {
    const auto begin = at + 10;
    out.push_back(steps.substr(begin, steps.find('"', begin) - begin));
  }
  return out;
}

test::HttpResult post(uint16_t port, const std::string& target, const std::string& body,
                      const std::string& request_id) {
  return test::request("127.0.0.1", port, "POST", target, body, {{"X-Request-Id", request_id}});
}

class Tracing : public DaemonFixture {
 protected:
  /// bpftrace on the running daemon's probes, attached; nullptr (test failed) otherwise.
  std::unique_ptr<Bpftrace> attach() {
    auto bt = std::make_unique<Bpftrace>(trace_program(daemon_.pid()), dir_.path() / "bt.out");
    if (!bt->started()) {
      ADD_FAILURE() << "bpftrace not found (scripts/install-deps.sh installs Debian's bpftrace)";
      return nullptr;
    }
    if (!bt->wait_for("attached", 60s)) {
      ADD_FAILURE() << "bpftrace did not attach:\n" << bt->output();
      return nullptr;
    }
    return bt;
  }
};

TEST_F(Tracing, ARequestsPlanStepsAndItsOutcomeCarryItsRequestId) {
  testing::VethPair v;
  ASSERT_EQ(v.error(), "");
  ASSERT_TRUE(start_daemon());
  const std::string ifc = v.root_name();
  const std::string body =
      model::encode(std::vector<model::L3afBpfPrograms>{entry(ifc, xdp_counter())});

  // The plan the real request will run, as the dry run of the same payload lists it.
  const auto dry = post(api_port_, "/l3af/configs/v1/add?dry_run=1", body, "e2e-trace-dry");
  ASSERT_EQ(dry.status, 200) << dry.body;
  const auto expected = dry_run_kinds(dry.body);
  ASSERT_FALSE(expected.empty()) << dry.body;
  EXPECT_EQ(expected.back(), "commit") << dry.body;

  auto bt = attach();
  ASSERT_NE(bt, nullptr);
  const auto added = post(api_port_, "/l3af/configs/v1/add", body, "e2e-trace-add-1");
  ASSERT_EQ(added.status, 200) << added.body;
  ASSERT_TRUE(bt->wait_for("op_done op=e2e-trace-add-1 ", 10s)) << bt->output();

  const std::string out = bt->output();
  const auto steps = lines_with(out, "plan_step op=e2e-trace-add-1 ");
  ASSERT_EQ(steps.size(), expected.size()) << out;
  for (std::size_t i = 0; i < steps.size(); ++i) {
    EXPECT_EQ(field(steps[i], "index"), std::to_string(i + 1)) << steps[i];
    EXPECT_EQ(field(steps[i], "kind"), expected[i]) << steps[i];
    EXPECT_EQ(field(steps[i], "ok"), "1") << steps[i];
    EXPECT_FALSE(field(steps[i], "target").empty()) << steps[i];
    EXPECT_GT(std::stoll(field(steps[i], "ns")), 0) << steps[i];
  }
  // The program's own steps name it as <iface>/<direction>/<program>.
  EXPECT_NE(out.find("kind=attach target=" + ifc + "/xdpingress/xdp-counter ok=1"),
            std::string::npos)
      << out;
  const auto start = lines_with(out, "op_start op=e2e-trace-add-1 ");
  ASSERT_EQ(start.size(), 1u) << out;
  EXPECT_EQ(field(start[0], "kind"), "add");
  const auto done = lines_with(out, "op_done op=e2e-trace-add-1 ");
  ASSERT_EQ(done.size(), 1u) << out;
  EXPECT_EQ(field(done[0], "kind"), "add");
  EXPECT_EQ(field(done[0], "ok"), "1");
  EXPECT_GT(std::stoll(field(done[0], "ns")), 0);
  EXPECT_TRUE(lines_with(out, "rollback ").empty()) << out;
  // The dry run, traced before bpftrace attached, is not in the output; nothing else is.
  EXPECT_EQ(out.find("e2e-trace-dry"), std::string::npos) << out;

  ASSERT_EQ(remove({names(ifc, {"xdp-counter"})}).status, 200);
}

TEST_F(Tracing, ARequestThatFailsHalfWayShowsTheFailedStepAndTheRollback) {
  testing::VethPair v;
  ASSERT_EQ(v.error(), "");
  ASSERT_TRUE(start_daemon());
  const std::string ifc = v.root_name();
  // The package is fetched, then its load fails: the fetch is undone (bad_input_test's
  // entry_function_unknown case).
  auto prog = xdp_counter();
  prog.entry_function_name = "no_such_function";
  const std::string body = model::encode(std::vector<model::L3afBpfPrograms>{entry(ifc, prog)});

  auto bt = attach();
  ASSERT_NE(bt, nullptr);
  const auto failed = post(api_port_, "/l3af/configs/v1/add", body, "e2e-trace-fail-1");
  ASSERT_EQ(failed.status, 400) << failed.body;
  ASSERT_TRUE(bt->wait_for("op_done op=e2e-trace-fail-1 ", 10s)) << bt->output();

  const std::string out = bt->output();
  const auto steps = lines_with(out, "plan_step op=e2e-trace-fail-1 ");
  ASSERT_GE(steps.size(), 2u) << out;
  for (std::size_t i = 0; i + 1 < steps.size(); ++i) {
    EXPECT_EQ(field(steps[i], "ok"), "1") << steps[i];
  }
  EXPECT_EQ(field(steps.back(), "kind"), "load") << out;
  EXPECT_EQ(field(steps.back(), "target"), ifc + "/xdpingress/xdp-counter") << out;
  EXPECT_EQ(field(steps.back(), "ok"), "0") << out;

  const auto rollback = lines_with(out, "rollback op=e2e-trace-fail-1 ");
  ASSERT_EQ(rollback.size(), 1u) << out;
  EXPECT_EQ(field(rollback[0], "undone"), std::to_string(steps.size() - 1)) << out;
  EXPECT_EQ(field(rollback[0], "ok"), "1") << out;
  EXPECT_GE(std::stoll(field(rollback[0], "ns")), 0) << out;
  // The rollback comes after the failed step and before the command's outcome.
  EXPECT_LT(out.find(steps.back()), out.find(rollback[0])) << out;
  const auto done = lines_with(out, "op_done op=e2e-trace-fail-1 ");
  ASSERT_EQ(done.size(), 1u) << out;
  EXPECT_EQ(field(done[0], "ok"), "0") << out;
  EXPECT_LT(out.find(rollback[0]), out.find(done[0])) << out;
}

/// Our test-companion package (companion_test.cpp): the XDP counter with the scriptable
/// test_companion binary as a supervised companion that sleeps until killed.
model::BpfProgram sleeping_companion() {
  model::BpfProgram p;
  p.name = "test-companion";
  p.seq_id = 2;
  p.artifact = "l3af_test_companion.tar.gz";
  p.version = "1.0";
  p.admin_status = "enabled";
  p.prog_type = "xdp";
  p.object_file = "xdp_counter.bpf.o";
  p.entry_function_name = "xdp_counter";
  p.map_name = "xdp_counter_next_prog";
  p.cmd_start = "test_companion";
  p.user_program_daemon = true;
  p.start_args = json::Object{{"sleep-ms", json::Value(std::string("-1"))}};
  return p;
}

TEST_F(Tracing, ACompanionsCrashAndRestartShowAsExitAndStart) {
  testing::VethPair v;
  ASSERT_EQ(v.error(), "");
  ASSERT_TRUE(start_daemon());
  const std::string ifc = v.root_name();
  const std::string id = ifc + "/xdpingress/test-companion/";  // + the version directory

  auto bt = attach();
  ASSERT_NE(bt, nullptr);
  const auto added =
      post(api_port_, "/l3af/configs/v1/add",
           model::encode(std::vector<model::L3afBpfPrograms>{entry(ifc, sleeping_companion())}),
           "e2e-trace-companion");
  ASSERT_EQ(added.status, 200) << added.body;
  ASSERT_TRUE(bt->wait_for("companion_start id=" + id, 10s)) << bt->output();
  auto starts = lines_with(bt->output(), "companion_start id=" + id);
  ASSERT_EQ(starts.size(), 1u) << bt->output();
  const std::string first = field(starts[0], "pid");
  ASSERT_GT(std::stoi(first), 0) << starts[0];

  ASSERT_EQ(::kill(std::stoi(first), SIGKILL), 0);
  ASSERT_TRUE(bt->wait_for("companion_exit id=" + id, 10s)) << bt->output();
  const auto exits = lines_with(bt->output(), "companion_exit id=" + id);
  ASSERT_EQ(exits.size(), 1u) << bt->output();
  EXPECT_EQ(field(exits[0], "pid"), first);
  EXPECT_EQ(field(exits[0], "wait_status"), std::to_string(SIGKILL));  // signaled: the signal

  // Restarted after the back-off: a second start of the same id, another process.
  const auto until = std::chrono::steady_clock::now() + 20s;
  while (lines_with(bt->output(), "companion_start id=" + id).size() < 2 &&
         std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(50ms);
  }
  starts = lines_with(bt->output(), "companion_start id=" + id);
  ASSERT_EQ(starts.size(), 2u) << bt->output();
  EXPECT_NE(field(starts[1], "pid"), first);
  EXPECT_LT(bt->output().find(exits[0]), bt->output().find(starts[1])) << bt->output();

  ASSERT_EQ(remove({names(ifc, {"test-companion"})}).status, 200);
}

TEST_F(Tracing, EachMonitorSampleShowsItsSeriesAndTheValueRead) {
  testing::VethPair v;
  ASSERT_EQ(v.error(), "");
  ASSERT_TRUE(start_daemon());
  const std::string ifc = v.root_name();
  auto bt = attach();
  ASSERT_NE(bt, nullptr);
  auto p = xdp_counter("1.0", 42);
  p.monitor_maps = std::vector<model::MonitorMap>{{"xdp_counter_config", 0, "avg"}};
  ASSERT_EQ(add({entry(ifc, p)}).status, 200);
  const std::string line_start =
      "monitor_sample program=xdp-counter series=xdp_counter_config_0_avg key=0 ";
  ASSERT_TRUE(bt->wait_for(line_start, 10s)) << bt->output();  // the sampler ticks every second
  const auto samples = lines_with(bt->output(), line_start);
  ASSERT_FALSE(samples.empty());
  EXPECT_EQ(field(samples[0], "value"), "42") << "map_args wrote 42 at key 0: " << samples[0];
  EXPECT_EQ(field(samples[0], "ok"), "1");
  EXPECT_GT(std::stoll(field(samples[0], "ns")), 0);
}

}  // namespace
}  // namespace l3afd::e2e
