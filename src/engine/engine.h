// Engine: the single writer (DESIGN.md §5).
//
// Concurrency contract:
// - The engine thread owns AppliedState and, through the kernel port, every kernel handle.
//   No other thread writes them.
// - Other threads read only immutable snapshots (snapshot()), shared via shared_ptr.
// - API handlers talk to the engine only through submit(); commands run one at a time, in
//   submission order, each as one plan that either completes or is rolled back entirely.
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <variant>
#include <vector>

#include "engine/companions.h"
#include "engine/executor.h"
#include "engine/ownership.h"
#include "engine/planner.h"
#include "engine/ports.h"
#include "engine/prefetch.h"
#include "engine/program_counters.h"
#include "engine/program_health.h"
#include "engine/state.h"
#include "kernel/kernel.h"

namespace l3afd::engine {

struct EngineConfig {
  PlannerConfig planner;
  std::vector<std::string> root_names;  ///< package names refused as program names
  bool chaining = false;                ///< must equal planner.chaining
  /// How long what left the data path (retired chain instances, replaced or detached programs)
  /// is kept intact after the switch before it is unloaded (docs/chain-protocol.md §4.1 I5, K6):
  /// packets already inside an old program finish through it and its next array. 0 = release at
  /// once.
  std::chrono::milliseconds retire_grace{0};
  /// Supervised companions: restart backoff, give-up after max-ebpf-restart-count, reset after a
  /// healthy period (docs/compatibility.md §15).
  RestartLimits restart_limits;
  /// How long a one-shot companion may run (user-program-timeout).
  std::chrono::milliseconds one_shot_timeout{60000};
  /// The health check's poll interval (ebpf-poll-interval, docs/compatibility.md §15):
  /// supervised companions that have a cmd_status and do not report RUNNING are stopped and
  /// restarted like one that exited (an exit itself is noticed at once through its pidfd); every
  /// deployed program the kernel no longer has is redeployed (CheckHealth).
  std::chrono::milliseconds health_interval{30000};
};

/// What a dry run would have done: the plan as the planner emitted it, not run.
struct PlanPreview {
  std::vector<Step> steps;    ///< the undoable steps, CommitState last
  std::vector<Step> release;  ///< the release steps that would follow the commit
};

// The write commands. With `dry_run` set the request is validated and planned as usual and the
// plan is stored there instead of being run: no fetch, no kernel call, no store write, no state
// change. The errors are those of a real request.
struct AddPrograms {
  std::vector<model::L3afBpfPrograms> entries;
  std::shared_ptr<PlanPreview> dry_run;
};
struct UpdatePrograms {
  std::vector<model::L3afBpfPrograms> entries;
  std::shared_ptr<PlanPreview> dry_run;
};
struct DeletePrograms {
  std::vector<model::L3afBpfProgramNames> entries;
  std::shared_ptr<PlanPreview> dry_run;
};
/// Restore at start: update semantics, but entries that cannot be applied now (another host,
/// interface absent) are kept as pending instead of being dropped (D9).
struct RestoreState {
  std::vector<model::L3afBpfPrograms> entries;
  PinnedLinks pinned_links;  ///< links of a previous run to take over (daemon/residue.h)
};
/// Shutdown: detach and unload everything; the store is left as it is, so the next start
/// redeploys (docs/compatibility.md §1.3).
struct StopAll {};
/// Applies the pending entries that can be applied now (their interface has appeared);
/// the others stay pending. Sent periodically by the daemon while entries are pending.
struct RetryPending {};
/// The BPF side of the health check (docs/compatibility.md §15). Posted by the engine's own
/// health timer every health_interval and when a redeploy is due (a caller may submit it too):
/// asks the kernel whether each watched program (engine/program_health.h) is still loaded; one
/// that is not is marked down (BPFRunning 0) and scheduled for a redeploy after the restart
/// policy's backoff, or given up on; each program whose redeploy is due is then replaced through
/// a make-before-break plan of its own (PlanOptions::rebuild; its companion is stopped and
/// started with it). A failed redeploy rolls back like any plan and counts as another loss.
/// Always succeeds (failures are the programs', reported in the snapshot and the log).
struct CheckHealth {};
/// Graceful restart (docs/operations.md "Graceful restart"): while `paused`, the engine takes no
/// action of its own — no health check (BPF or cmd_status), no redeploy, no companion restart —
/// so that the successor process adopting the live state sees it unchanged. Companion exits are
/// still recorded (their restart waits). Unpausing (a rolled-back restart) resumes supervision
/// with an immediate health check. Write commands are not affected (the API refuses them).
struct PauseSupervision {
  bool paused = true;
};

using Command = std::variant<AddPrograms, UpdatePrograms, DeletePrograms, RestoreState, StopAll,
                             RetryPending, CheckHealth, PauseSupervision>;

/// Immutable view for readers.
struct Snapshot {
  AppliedState state;
  std::vector<model::L3afBpfPrograms> pending;  ///< restored entries not applied yet
  /// Supervised companions by companion id (plan_builder.h companion_id): running, restarts.
  std::map<std::string, CompanionStatus> companions;
  /// The BPF side of the health check by program id (program_health.h program_health_id):
  /// loaded, redeploys. health_view() combines both sides for one program.
  std::map<std::string, ProgramHealth> programs;
  /// The program event counters of /metrics (engine/program_counters.h), since the daemon
  /// started.
  ProgramCounters counters;
  /// Readers of the maps that monitor_maps entries of `state` name, by (object key, map name):
  /// the metrics sampler reads through them, never through the kernel port or engine state. A
  /// map whose reader could not be made is absent (its samples count as read failures).
  std::map<std::pair<std::string, std::string>, std::shared_ptr<const kernel::MapReader>>
      monitor_readers;
};

class Engine {
 public:
  /// `journal`: where the instances the engine creates are recorded before each plan runs and
  /// after it (engine/ownership.h); null records nothing (tests that do not exercise the sweep).
  /// `packages` must allow concurrent fetches (engine/ports.h): submit() fetches ahead on the
  /// caller's thread while the engine thread works.
  /// `companions`: where companion programs run (null: cmd_start and self-loading programs are
  /// refused with 400). Its exits are posted to the engine thread's queue.
  Engine(EngineConfig cfg, kernel::Kernel& kernel, PackageSource& packages, StateStore& store,
         OwnershipJournal* journal = nullptr, Companions* companions = nullptr);
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  /// Starts the engine thread. Call once.
  void start();
  /// Stops accepting commands, finishes the queue, joins the thread. Idempotent.
  void stop();

  /// Queues a command; the future holds its outcome. Errors: InvalidPayload, WrongHost,
  /// UnknownInterface (validation), Conflict (planning), or the failing step's error after a
  /// complete rollback. After stop(): Unavailable.
  /// An add or update (not a dry run) whose payload passes validation first has its packages
  /// fetched on the calling thread, concurrently (engine/prefetch.h), and is queued only then,
  /// so a slow repository delays only this request, never the engine thread and the other
  /// writes. Thread-safe.
  /// `request_id` (may be empty) is the engine thread's log::RequestScope while the command
  /// runs, so every line logged for it (engine, planner, plan runner, kernel adapter) carries
  /// the id of the request that submitted it.
  std::future<Status> submit(Command cmd, std::string request_id = {});

  /// The latest published state. Thread-safe, never null.
  std::shared_ptr<const Snapshot> snapshot() const;

  /// Runs a command on the caller's thread (tests, and start-up before start()).
  Status run_now(const Command& cmd);

  /// Start-up, before start(): what a previous run recorded as its own. Kept in every record the
  /// engine writes until settle_owned(), so the restore does not forget it before the residue
  /// sweep has removed what is unused.
  void inherit_owned(std::vector<OwnedInstance> previous) { inherited_ = std::move(previous); }
  /// After the residue sweep: forgets the inherited record and records what the engine owns now.
  Status settle_owned();
  /// Start-up, before start() (graceful restart): the program event counters of the previous
  /// process, so that /metrics continues from them (docs/compatibility.md §16.2 item 6). What
  /// this process counted already (a restore that reloaded a program) is added on top.
  void inherit_counters(const ProgramCounters& previous);

 private:
  /// One handler per command: std::visit over Command fails to compile if one is missing.
  /// Fires the op_start and op_done USDT probes around the handler (engine/tracing.h).
  Status execute(const Command& cmd);
  Status handle(const AddPrograms& c);
  Status handle(const UpdatePrograms& c);
  Status handle(const DeletePrograms& c);
  Status handle(const RestoreState& c);
  Status handle(const StopAll& c);
  Status handle(const RetryPending& c);
  Status handle(const CheckHealth& c);
  Status handle(const PauseSupervision& c);
  /// Replaces the lost instance `object_key` of program `id` through a plan of its own
  /// (PlanOptions::rebuild). True when it committed.
  bool redeploy(const std::string& id, const std::string& object_key);
  /// Interface drift (CheckHealth, docs/operations.md "Interface drift"): compares the ifindex
  /// each attached program of applied_ recorded with the interface's current one. Deleted:
  /// its programs are reported down (warned once). Created again (another ifindex): its
  /// programs are re-attached through reattach(); until that commits they stay down. True if
  /// anything changed.
  bool check_interfaces();
  /// Whether the interface `name` of applied programs is gone now or has another ifindex than
  /// they were attached to (what check_interfaces() reports at its next run).
  bool interface_drifted(const std::string& name);
  /// Re-attaches the instances `keys` of interface `iface` (created again) through one plan
  /// with PlanOptions::rebuild: new instances attached to the new interface, maps kept by
  /// their pins, the old ones released after the commit. True when it committed.
  bool reattach(const std::string& iface, std::set<std::string> keys);
  /// On the engine thread, between commands: queues a CheckHealth when the poll interval has
  /// passed or a redeploy is due, unless one is queued already.
  void post_health_check(std::chrono::steady_clock::time_point now);
  /// Applies `entries` one interface at a time with add semantics; an entry that cannot be
  /// applied now is kept pending. `adopt`: links to take over (restore at start only).
  Status apply_entries(const std::vector<model::L3afBpfPrograms>& entries,
                       const PinnedLinks* adopt);
  /// Logs the plan (summary at info, each step at debug); with `dry_run` stores it there and
  /// stops; else runs exactly it, publishes the completed state and queues the releases.
  Status apply(Result<Plan> plan, const std::shared_ptr<PlanPreview>& dry_run = nullptr);
  /// Plan options of a committing command: the pending entries stay in the store.
  PlanOptions commit_options(const PinnedLinks* adopt = nullptr) const;
  /// Validation context; `check_ifaces`: ask the kernel whether each interface exists.
  model::ValidationContext validation_context(bool check_ifaces) const;
  void publish();
  /// The monitor_maps readers of applied_, reusing those of `previous` for the same object
  /// key and map (kernel::Kernel::map_reader).
  std::map<std::pair<std::string, std::string>, std::shared_ptr<const kernel::MapReader>>
  monitor_readers(const Snapshot* previous);
  void loop();
  /// Supervision on the engine thread: exits posted by the Companions port, due restarts,
  /// healthy resets. Publishes when anything changed.
  void handle_exits(std::deque<CompanionExit> exits);
  void supervise_due();
  /// Runs cmd_status of every running supervised companion that has one (§15).
  bool check_health(std::chrono::steady_clock::time_point now);
  /// Starts the companion `id` again (a self-loading one with a fresh staging array as
  /// --map-name: its program in the chain keeps running, docs/chain-protocol.md §4.6).
  /// `claim` (after the restore): a companion this run already started is left as it is.
  void restart_companion(const std::string& id, bool claim = false);
  /// After the restore: every supervised companion of the applied state is claimed: started,
  /// or adopted by the supervisor from its record of the previous run (a hook adopted without a
  /// plan), so that stop_unclaimed() never stops one a program still wants.
  void ensure_companions();
  /// The earliest deadline of the engine thread (release or companion), if any.
  std::optional<std::chrono::steady_clock::time_point> next_deadline() const;
  /// Runs the deferred release steps whose grace has passed (all of them if `all`).
  void release_due(bool all);
  /// Restore with chaining (docs/chain-protocol.md §4.8): every hook of `e` whose chain is still
  /// live in the kernel exactly as `e` wants it (root link pinned, every program and next array
  /// pinned, slots linking them in order) is adopted by fd and recorded as applied, so the restore
  /// plan that follows leaves it alone: nothing is reloaded, no counter resets, no packet
  /// notices the restart. A hook that does not verify is left to the plan (rebuild + one
  /// switch of the root link). Changes nothing in the kernel except re-taking the root link.
  void adopt_live_chains(const model::L3afBpfPrograms& e, const PinnedLinks& links);
  /// Restore without chaining (docs/chain-protocol.md §4.8 for one program per hook): a hook
  /// whose pinned link is the program's own link pin, with the program's entry program and maps
  /// still pinned, is adopted by fd and its link taken over (running the same program), so the
  /// restore plan leaves it alone: nothing reloaded, the program id stays. Otherwise the plan
  /// loads it again on the pinned maps and switches the link to it (make-before-break).
  void adopt_live_direct(const model::L3afBpfPrograms& e, const PinnedLinks& links);
  /// Restore: every probe of `e` whose links a previous run left pinned is taken over
  /// (Kernel::adopt_probes) and recorded as applied, so it keeps running without a gap and is
  /// not attached twice.
  void adopt_live_probes(const model::L3afBpfPrograms& e);

  EngineConfig cfg_;
  kernel::Kernel& kernel_;
  PackageSource& packages_;
  PrefetchingSource prefetching_;  ///< what the executor fetches through (engine thread)
  Planner planner_;
  Executor executor_;
  OwnershipJournal* journal_;
  Companions* companions_;
  CompanionTable companion_table_;     ///< engine thread only
  ProgramHealthTable program_health_;  ///< engine thread only
  /// Interfaces of applied_ deleted under their programs, or created again and not
  /// re-attached yet (check_interfaces()); engine thread only.
  std::set<std::string> ifaces_gone_;
  /// When the health timer next posts CheckHealth; engine thread only.
  std::chrono::steady_clock::time_point next_program_check_{};
  bool health_queued_ = false;  ///< a CheckHealth of the timer is queued; under q_mu_
  ProgramCounters counters_;    ///< engine thread only; published in snapshots
  /// Counts a failed add/update (not a dry run) in counters_.
  void count_failed(const Error& e, bool dry_run);
  std::optional<ErrorItem> failed_subject_;  ///< the failed step's program (apply → count_failed)
  std::chrono::steady_clock::time_point next_health_{};  ///< engine thread only
  bool paused_ = false;                                  ///< PauseSupervision; engine thread only
  std::deque<CompanionExit> exits_;  ///< posted by the Companions port, under q_mu_
  std::vector<OwnedInstance> inherited_;
  AppliedState applied_;
  std::vector<model::L3afBpfPrograms> pending_;
  /// Everything the engine may have pins of: applied state, retiring instances, inherited.
  std::vector<OwnedInstance> owned_now() const;
  /// Records owned_now() plus `extra`; a failure is returned (before a plan) or logged (after).
  Status record_owned(const std::vector<OwnedInstance>& extra = {});

  struct Retiring {
    std::chrono::steady_clock::time_point due;
    std::vector<Step> steps;
    std::vector<OwnedInstance> owned;  ///< instances the steps release (still recorded until then)
  };
  std::deque<Retiring> retiring_;  ///< engine thread only, in due order

  mutable std::mutex snap_mu_;
  std::shared_ptr<const Snapshot> published_;

  std::mutex q_mu_;
  std::condition_variable q_cv_;
  /// One submitted command waiting for the engine thread.
  struct Queued {
    Command cmd;
    std::promise<Status> done;
    std::string request_id;      ///< "" for commands without a request
    PrefetchResults prefetched;  ///< packages fetched ahead by submit()
  };
  /// The packages fetched ahead for `cmd` (empty for other commands, dry runs and payloads
  /// that do not validate: those fail on the engine thread without a fetch).
  PrefetchResults fetch_ahead(const Command& cmd);
  /// After a command: removes the fresh cache entries fetched ahead that no step took and no
  /// applied program uses.
  void drop_unused_prefetched();
  /// The bpffs change lock (Kernel::lock_for_change), with the error given context.
  Result<kernel::ChangeLock> lock_change(const char* what);
  std::deque<Queued> queue_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace l3afd::engine
