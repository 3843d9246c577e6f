#include "supervisor/companions.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include <spdlog/spdlog.h>

#include "core/usdt.h"
#include "layout/bpffs_layout.h"
#include "supervisor/confinement.h"
#include "supervisor/proc_identity.h"
#include "supervisor/run_command.h"

namespace l3afd::supervisor {

namespace fs = std::filesystem;
using engine::CompanionExit;
using engine::CompanionProcess;
using engine::CompanionRequest;

namespace {

Error invalid(const CompanionRequest& r, const std::string& field, std::string message) {
  Error e{.code = Errc::InvalidPayload, .message = message};
  e.items.push_back(ErrorItem{.iface = r.iface,
                              .direction = r.direction,
                              .program = r.program.name,
                              .field = field,
                              .message = std::move(message)});
  return e;
}

/// Puts the request's location on an InvalidPayload error of command_line.h.
Error located(const CompanionRequest& r, Error e) {
  for (auto& item : e.items) {
    item.iface = r.iface;
    item.direction = r.direction;
    item.program = r.program.name;
  }
  return e;
}

/// The executable of a command line exists, is a regular file with an execute bit and its real
/// path (links resolved) lies inside the real package directory.
Status check_executable(const CompanionRequest& r, const fs::path& exe, const std::string& field) {
  std::error_code ec1, ec2;
  const auto real_dir = fs::canonical(r.package_dir, ec1);
  const auto real_exe = fs::canonical(exe, ec2);
  if (ec1)
    return fail(
        invalid(r, field, "package directory " + r.package_dir.string() + ": " + ec1.message()));
  if (ec2) return fail(invalid(r, field, field + " " + exe.string() + ": " + ec2.message()));
  if (!layout::is_within(real_dir, real_exe)) {
    return fail(invalid(r, field, field + " " + exe.string() + " resolves outside the package"));
  }
  struct stat st {};
  if (::stat(real_exe.c_str(), &st) != 0 || !S_ISREG(st.st_mode) || (st.st_mode & 0111) == 0) {
    return fail(invalid(r, field, field + " " + exe.string() + " is not an executable file"));
  }
  return ok();
}

Status check_args(const CompanionRequest& r, const model::Args& args, const std::string& field) {
  if (!args) return ok();
  for (const auto& [key, value] : *args) {
    if (!std::holds_alternative<std::string>(value.v)) {
      return fail(invalid(r, field, field + " member " + key + " is not a string"));
    }
  }
  return ok();
}

/// Where `rules` goes (§11.1 item 6): <package>/<direction>/<rules_file>, when rules_file and
/// rules are both longer than 1 character.
std::optional<fs::path> rules_path(const CompanionRequest& r) {
  if (r.program.rules_file.size() <= 1 || r.program.rules.size() <= 1) return std::nullopt;
  return (r.package_dir / r.direction / r.program.rules_file).lexically_normal();
}

std::string describe(const Exit& e) {
  return e.signaled ? "was killed by signal " + std::to_string(e.code)
                    : "exited with status " + std::to_string(e.code);
}

/// The wait status of companion_exit (docs/tracing.md): as waitpid(2) reports it (exit code
/// << 8, or the signal number), -1 when unknown (an adopted process is not our child).
int wait_status(const WatchedExit& e) {
  if (!e.exit) return -1;
  return e.exit->signaled ? e.exit->code : (e.exit->code & 0xff) << 8;
}

}  // namespace

Result<std::unique_ptr<PosixCompanions>> PosixCompanions::create(CompanionsOptions options) {
  if (!options.log_dir.empty()) {
    std::error_code ec;
    fs::create_directories(options.log_dir, ec);
    if (ec) return fail(Errc::Io, "create " + options.log_dir.string(), ec.value());
  }
  std::vector<CompanionRecord> previous;
  if (!options.record_file.empty() && options.record_file.has_parent_path()) {
    std::error_code ec;
    fs::create_directories(options.record_file.parent_path(), ec);
    if (ec)
      return fail(Errc::Io, "create " + options.record_file.parent_path().string(), ec.value());
  }
  if (!options.record_file.empty()) {
    auto loaded = load_records(options.record_file);
    if (loaded) {
      previous = std::move(*loaded);
    } else {
      spdlog::warn("companions: record ignored, nothing of a previous run is adopted: {}",
                   loaded.error().to_string());
    }
  }
  auto cgroups = Cgroups::probe(options.cgroup);
  std::unique_ptr<PosixCompanions> c(
      new PosixCompanions(std::move(options), std::move(previous), std::move(cgroups)));
  auto watcher = ExitWatcher::create([raw = c.get()](const WatchedExit& e) { raw->ended(e); });
  if (!watcher) return fail(std::move(watcher.error()));
  c->watcher_ = std::move(*watcher);
  return c;
}

PosixCompanions::PosixCompanions(CompanionsOptions options, std::vector<CompanionRecord> previous,
                                 Cgroups cgroups)
    : options_(std::move(options)), cgroups_(std::move(cgroups)), previous_(std::move(previous)) {}

PosixCompanions::~PosixCompanions() {
  watcher_.reset();  // joins the thread: no callback runs on a half-destroyed object
}

std::vector<std::pair<pid_t, UniqueFd>> PosixCompanions::output_pipes() const {
  return watcher_->dup_outputs();
}

void PosixCompanions::inherit_output_pipes(std::vector<std::pair<pid_t, UniqueFd>> pipes) {
  std::lock_guard lock(mu_);
  for (auto& [pid, fd] : pipes) inherited_outputs_[pid] = std::move(fd);
}

void PosixCompanions::on_exit(std::function<void(CompanionExit)> handler) {
  std::lock_guard lock(mu_);
  handler_ = std::move(handler);
}

fs::path PosixCompanions::log_path(const std::string& id) const {
  std::string name = id;
  for (char& ch : name) {
    if (ch == '/') ch = '_';
  }
  return options_.log_dir / (name + ".log");
}

std::shared_ptr<CappedLog> PosixCompanions::log_for(const std::string& id) {
  if (options_.log_dir.empty()) return nullptr;
  std::lock_guard lock(mu_);
  auto& log = logs_[id];
  if (!log) log = std::make_shared<CappedLog>(log_path(id), options_.log_cap);
  return log;
}

Invocation PosixCompanions::invocation(const CompanionRequest& r) const {
  return Invocation{r.package_dir,        r.iface,      r.direction, r.version_dir, r.map_name,
                    options_.bpf_log_dir, rules_path(r)};
}

Status PosixCompanions::check(const CompanionRequest& r) {
  const auto& p = r.program;
  const auto in = invocation(r);
  for (auto [args, field] :
       {std::pair{&p.start_args, "start_args"}, std::pair{&p.stop_args, "stop_args"},
        std::pair{&p.status_args, "status_args"}, std::pair{&p.update_args, "update_args"}}) {
    if (auto st = check_args(r, *args, field); !st) return st;
  }
  struct Cmd {
    const std::string* cmd;
    const char* field;
    Result<CommandLine> (*build)(const Invocation&, const std::string&, const model::Args&);
    const model::Args* args;
  };
  for (const Cmd& c : {Cmd{&p.cmd_start, "cmd_start", start_command, &p.start_args},
                       Cmd{&p.cmd_stop, "cmd_stop", stop_command, &p.stop_args},
                       Cmd{&p.cmd_status, "cmd_status", status_command, &p.status_args},
                       Cmd{&p.cmd_update, "cmd_update", update_command, &p.update_args}}) {
    if (c.cmd->empty() && std::string_view(c.field) != "cmd_start") continue;
    auto line = c.build(in, *c.cmd, *c.args);
    if (!line) return fail(located(r, std::move(line.error())));
    if (auto st = check_executable(r, line->executable, c.field); !st) return st;
  }
  if (!p.rules_file.empty()) {
    const fs::path rel(p.rules_file);
    const auto lexical = (r.package_dir / r.direction / rel).lexically_normal();
    std::error_code ec1, ec2;
    const auto real_dir = fs::weakly_canonical(r.package_dir, ec1);
    const auto real_file = fs::weakly_canonical(lexical, ec2);
    // Lexically inside, and inside once the links on the way are resolved (a link in the
    // archive must not lead the rules file out of the package either).
    if (rel.is_absolute() || !layout::is_within(r.package_dir, lexical) || ec1 || ec2 ||
        !layout::is_within(real_dir, real_file)) {
      return fail(invalid(r, "rules_file",
                          "rules_file " + p.rules_file + " is not a path inside the package"));
    }
  }
  // The accounts and capabilities of `companion` exist now (validated with the request, but an
  // account may have gone since, e.g. for a restored program).
  if (auto o = confined_options(r); !o) return fail(std::move(o.error()));
  return ok();
}

Status PosixCompanions::write_rules(const CompanionRequest& r) const {
  const auto path = rules_path(r);
  if (!path) return ok();
  std::error_code ec;
  fs::create_directories(path->parent_path(), ec);
  if (ec) return fail(Errc::Io, "create " + path->parent_path().string(), ec.value());
  UniqueFd fd(::open(path->c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644));
  if (!fd) return fail(Errc::Io, "open rules file " + path->string(), errno);
  if (::fchmod(fd.get(), 0644) != 0) return fail(Errc::Io, "chmod " + path->string(), errno);
  std::string_view rest = r.program.rules;
  while (!rest.empty()) {
    const ssize_t n = ::write(fd.get(), rest.data(), rest.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail(Errc::Io, "write rules file " + path->string(), errno);
    }
    rest.remove_prefix(static_cast<std::size_t>(n));
  }
  return ok();
}

std::map<std::uint64_t, PosixCompanions::Proc>::iterator PosixCompanions::find_running_locked(
    const std::string& id) {
  for (auto it = procs_.begin(); it != procs_.end(); ++it) {
    if (it->second.id == id && !it->second.stopping) return it;
  }
  return procs_.end();
}

Result<std::uint64_t> PosixCompanions::supervise_locked(Proc p, UniqueFd pidfd, UniqueFd output) {
  std::shared_ptr<CappedLog> log;
  if (!options_.log_dir.empty()) {
    auto& l = logs_[p.id];
    if (!l) l = std::make_shared<CappedLog>(log_path(p.id), options_.log_cap);
    log = l;
  }
  auto token = watcher_->watch(p.pid, std::move(pidfd), std::move(output), std::move(log));
  if (!token) return token;
  procs_.emplace(*token, std::move(p));
  return token;
}

void PosixCompanions::save_locked() {
  if (options_.record_file.empty()) return;
  std::vector<CompanionRecord> records = previous_;  // unclaimed ones stay recorded
  for (const auto& [token, p] : procs_) {
    records.push_back(CompanionRecord{p.id, p.pid, p.start_time, p.executable, p.stopping});
  }
  if (auto st = save_records(options_.record_file, records); !st) {
    spdlog::error("companions: record not saved path={}: {}", options_.record_file.string(),
                  st.error().to_string());
  }
}

Result<CompanionProcess> PosixCompanions::start(const CompanionRequest& r) {
  if (auto st = check(r); !st) return fail(std::move(st.error()));
  auto line = start_command(invocation(r), r.program.cmd_start, r.program.start_args);
  if (!line) return fail(located(r, std::move(line.error())));
  std::error_code ec;
  const auto real_exe = fs::canonical(line->executable, ec);
  if (ec) return fail(Errc::NotFound, "cmd_start " + line->executable.string(), ec.value());
  auto confined = confined_options(r);
  if (!confined) return fail(std::move(confined.error()));
  SpawnOptions o = std::move(*confined);

  std::lock_guard lock(mu_);
  if (find_running_locked(r.id) != procs_.end()) {
    return fail(Errc::Conflict, "companion " + r.id + " is already running");
  }
  // A process of the previous run recorded for this id: adopted when it is still the same
  // process running the same executable; stopped when it runs another one (an older package).
  for (auto it = previous_.begin(); it != previous_.end();) {
    if (it->id != r.id || it->stopping) {
      ++it;
      continue;
    }
    const CompanionRecord rec = *it;
    it = previous_.erase(it);
    auto fd = open_if_same(rec.pid, rec.start_time);
    if (!fd) continue;
    auto exe = proc_executable(rec.pid);
    Proc p{rec.id, rec.pid, rec.start_time, rec.executable, true, false};
    // Same executable and same user and group as this request starts it with: the companion
    // settings (docs/compatibility.md §11.7) are part of what is adopted.
    const bool same_exe = exe && *exe == real_exe && rec.executable == real_exe;
    if (same_exe && runs_as(rec.pid, o)) {
      UniqueFd output;
      if (auto in = inherited_outputs_.find(rec.pid); in != inherited_outputs_.end()) {
        output = std::move(in->second);
        inherited_outputs_.erase(in);
      }
      const bool has_output = output.valid();
      auto token = supervise_locked(p, std::move(*fd), std::move(output));
      if (!token) return fail(std::move(token.error()));
      save_locked();
      spdlog::info("companion adopted id={} pid={}{}", r.id, rec.pid,
                   has_output ? " (output pipe handed over)" : "");
      return CompanionProcess{rec.pid, rec.start_time, true};
    }
    spdlog::info("companion of a previous run runs {}, stopping it id={} pid={}",
                 same_exe ? "as another user or group" : "another executable", r.id, rec.pid);
    p.stopping = true;
    auto token = supervise_locked(p, std::move(*fd), UniqueFd());
    if (token) {
      if (auto st = watcher_->terminate(*token, options_.stop_grace); !st) {
        spdlog::warn("companion not stopped pid={}: {}", rec.pid, st.error().to_string());
      }
    }
  }

  if (auto st = write_rules(r); !st) return fail(std::move(st.error()));
  if (r.program.memory > 0) o.memory_bytes = static_cast<std::uint64_t>(r.program.memory);
  if (r.program.cpu > 0) o.cpu_seconds = static_cast<std::uint64_t>(r.program.cpu);
  o.output_pipe = true;
  if (cgroups_.available()) {
    CgroupLimits limits{o.memory_bytes, options_.pids_max};
    auto group = cgroups_.prepare(r.id, limits);
    if (group) {
      o.cgroup = *group;
    } else {
      spdlog::warn("companion without cgroup, rlimits only id={}: {}", r.id,
                   group.error().to_string());
    }
  }
  auto child = spawn(*line, o);
  if (!child) return fail(std::move(child.error()).with_context("start companion " + r.id));
  // Read before the watcher may reap it: an early exit leaves a zombie with its start time.
  auto st = proc_stat(child->pid);
  Proc p{r.id, child->pid, st ? st->start_time : 0, real_exe, false, false};
  auto token = supervise_locked(p, std::move(child->pidfd), std::move(child->output));
  if (!token) return fail(std::move(token.error()));
  save_locked();
  spdlog::info("companion started id={} pid={} cgroup={}", r.id, p.pid, !o.cgroup.empty());
  // Probe (docs/tracing.md): a process this run started, not one adopted from the last run.
  L3AFD_USDT(companion_start, p.id.c_str(), static_cast<std::int32_t>(p.pid));
  return CompanionProcess{p.pid, p.start_time, false};
}

Status PosixCompanions::run_checked(const CommandLine& cmd, const CompanionRequest& r,
                                    std::chrono::milliseconds timeout, const char* what) {
  auto o = confined_options(r);
  if (!o) return fail(std::move(o.error()).with_context(std::string(what) + " of " + r.id));
  auto log = log_for(r.id);
  auto outcome = run_to_end(cmd, std::move(*o), timeout, log.get());
  if (!outcome) {
    return fail(std::move(outcome.error()).with_context(std::string(what) + " of " + r.id));
  }
  if (outcome->exit == Exit{false, 0}) return ok();
  std::string msg = std::string(what) + " of " + r.id + " " + describe(outcome->exit);
  if (const auto tail = last_lines(outcome->output, 5); !tail.empty()) msg += ": " + tail;
  return fail(Errc::Kernel, std::move(msg));
}

Status PosixCompanions::run_once(const CompanionRequest& r, std::chrono::milliseconds timeout) {
  if (auto st = check(r); !st) return st;
  auto line = start_command(invocation(r), r.program.cmd_start, r.program.start_args);
  if (!line) return fail(located(r, std::move(line.error())));
  if (auto st = write_rules(r); !st) return st;
  return run_checked(*line, r, timeout, "cmd_start");
}

Status PosixCompanions::stop(const CompanionRequest& r) {
  std::uint64_t token = 0;
  {
    std::lock_guard lock(mu_);
    auto it = find_running_locked(r.id);
    if (it == procs_.end()) return fail(Errc::NotFound, "companion " + r.id + " is not running");
    // From now on its end is ours, not an exit to report (even when cmd_stop ends it).
    it->second.stopping = true;
    token = it->first;
    save_locked();
  }
  if (!r.program.cmd_stop.empty()) {
    auto line = stop_command(invocation(r), r.program.cmd_stop, r.program.stop_args);
    Status st = line ? run_checked(*line, r, options_.command_timeout, "cmd_stop")
                     : Status(fail(located(r, std::move(line.error()))));
    if (!st) spdlog::warn("companion cmd_stop failed id={}: {}", r.id, st.error().to_string());
  }
  std::lock_guard lock(mu_);
  if (procs_.count(token) == 0) return ok();  // it ended already (cmd_stop did its job)
  if (auto st = watcher_->terminate(token, options_.stop_grace);
      !st && st.error().code != Errc::NotFound) {
    return st;
  }
  spdlog::info("companion stopping id={} pid={}", r.id, procs_[token].pid);
  return ok();
}

Status PosixCompanions::update(const CompanionRequest& r) {
  if (r.program.cmd_update.empty()) return ok();
  auto line = update_command(invocation(r), r.program.cmd_update, r.program.update_args);
  if (!line) return fail(located(r, std::move(line.error())));
  if (auto st = check_executable(r, line->executable, "cmd_update"); !st) return st;
  return run_checked(*line, r, options_.command_timeout, "cmd_update");
}

Result<bool> PosixCompanions::running(const CompanionRequest& r) {
  if (!r.program.cmd_status.empty()) {
    auto line = status_command(invocation(r), r.program.cmd_status, r.program.status_args);
    if (!line) return fail(located(r, std::move(line.error())));
    auto o = confined_options(r);
    if (!o) return fail(std::move(o.error()).with_context("cmd_status of " + r.id));
    // The status output is read, not logged: a health check every poll interval would fill
    // the program's log with RUNNING.
    auto outcome = run_to_end(*line, std::move(*o), options_.command_timeout, nullptr);
    if (!outcome) {
      if (outcome.error().code == Errc::Timeout) {
        spdlog::warn("companion cmd_status hung, taken as not running id={}: {}", r.id,
                     outcome.error().to_string());
        return false;
      }
      return fail(std::move(outcome.error()).with_context("cmd_status of " + r.id));
    }
    return reports_running(outcome->output);
  }
  std::lock_guard lock(mu_);
  auto it = find_running_locked(r.id);
  return it != procs_.end() && watcher_->alive(it->first);
}

std::size_t PosixCompanions::stop_unclaimed() {
  std::lock_guard lock(mu_);
  std::size_t stopped = 0;
  for (const auto& rec : previous_) {
    auto fd = open_if_same(rec.pid, rec.start_time);
    if (!fd) {
      spdlog::debug("companion of a previous run is gone id={} pid={}", rec.id, rec.pid);
      continue;
    }
    Proc p{rec.id, rec.pid, rec.start_time, rec.executable, true, true};
    auto token = supervise_locked(p, std::move(*fd), UniqueFd());
    if (!token) {
      spdlog::warn("companion of a previous run not stopped id={} pid={}: {}", rec.id, rec.pid,
                   token.error().to_string());
      continue;
    }
    if (auto st = watcher_->terminate(*token, options_.stop_grace); !st) {
      spdlog::warn("companion of a previous run not stopped id={} pid={}: {}", rec.id, rec.pid,
                   st.error().to_string());
      continue;
    }
    spdlog::info("companion of a previous run unclaimed, stopping id={} pid={}", rec.id, rec.pid);
    ++stopped;
  }
  previous_.clear();
  save_locked();
  return stopped;
}

bool PosixCompanions::wait_stopped(std::chrono::steady_clock::time_point deadline) {
  std::unique_lock lock(mu_);
  auto none_left = [this] {
    for (const auto& [token, p] : procs_) {
      if (p.stopping) return false;
    }
    return true;
  };
  return stopped_cv_.wait_until(lock, deadline, none_left);
}

void PosixCompanions::ended(const WatchedExit& e) {
  std::function<void(CompanionExit)> handler;
  CompanionExit out;
  {
    std::lock_guard lock(mu_);
    auto it = procs_.find(e.token);
    if (it == procs_.end()) return;
    const Proc p = it->second;
    procs_.erase(it);
    // Probe (docs/tracing.md): every end the watcher notices, stops included.
    L3AFD_USDT(companion_exit, p.id.c_str(), static_cast<std::int32_t>(p.pid), wait_status(e));
    bool id_left = false;
    for (const auto& [token, q] : procs_) id_left = id_left || q.id == p.id;
    if (!id_left) cgroups_.remove(p.id);
    save_locked();
    if (p.stopping) {
      spdlog::info("companion stopped id={} pid={}", p.id, p.pid);
      stopped_cv_.notify_all();
      return;
    }
    out = CompanionExit{p.id, p.pid, e.exit && e.exit->signaled, e.exit ? e.exit->code : -1};
    spdlog::warn("companion exited id={} pid={} signaled={} code={}", p.id, p.pid, out.signaled,
                 out.code);
    handler = handler_;
  }
  if (handler) handler(std::move(out));
}

}  // namespace l3afd::supervisor
