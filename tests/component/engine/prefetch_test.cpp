// engine/prefetch.h: which packages a request needs, concurrent fetching ahead of the engine,
// and the engine-side decorator that answers FetchPackage steps from those results.
#include "engine/prefetch.h"

#include "engine/engine.h"
#include "kernel/fake/fake_kernel.h"

#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <future>
#include <mutex>
#include <set>
#include <thread>

using namespace l3afd;

namespace {

model::BpfProgram program(const std::string& name, const std::string& version,
                          const std::string& status = "enabled") {
  model::BpfProgram p;
  p.name = name;
  p.version = version;
  p.artifact = name + ".tar.gz";
  p.admin_status = status;
  return p;
}

model::L3afBpfPrograms entry(const std::string& iface, std::vector<model::BpfProgram> xdp,
                             std::vector<model::BpfProgram> tc_in = {}) {
  model::L3afBpfPrograms e;
  e.iface = iface;
  model::BpfPrograms bp;
  bp.xdp_ingress = std::move(xdp);
  bp.tc_ingress = std::move(tc_in);
  e.bpf_programs = bp;
  return e;
}

TEST(PackagesOf, EnabledProgramsOnceEachAndRootsOnlyWithChaining) {
  engine::PlannerConfig cfg;
  cfg.default_repo_url = "file:///repo";
  auto own = program("own", "1.0");
  own.ebpf_package_repo_url = "http://198.18.0.1/repo";
  const std::vector<model::L3afBpfPrograms> req{
      entry("eth0", {program("a", "1.0"), program("off", "1.0", "disabled"), own}),
      entry("eth1", {program("a", "1.0")}, {program("t", "2.0")})};

  auto refs = engine::packages_of(req, cfg);
  std::set<std::string> got;
  for (const auto& r : refs) got.insert(r.repo_url + " " + r.name + "@" + r.version);
  EXPECT_EQ(got, (std::set<std::string>{"file:///repo a@1.0", "http://198.18.0.1/repo own@1.0",
                                        "file:///repo t@2.0"}));
  EXPECT_EQ(refs.size(), got.size()) << "no duplicates";

  cfg.chaining = true;
  got.clear();
  for (const auto& r : engine::packages_of(req, cfg)) got.insert(r.name + "@" + r.version);
  EXPECT_TRUE(got.contains("xdp-root@latest"));
  EXPECT_TRUE(got.contains("tc-root@latest"));
}

/// The thread-safe cache half of the test package sources (a package is cached by name).
class ThreadSafeCache : public engine::PackageSource {
 public:
  Status remove(const engine::PackageRef& r) override {
    std::lock_guard lk(mu_);
    cache_.erase(r.name);
    return ok();
  }
  bool still_cached(const engine::PackageRef& r, const engine::Package&) override {
    std::lock_guard lk(mu_);
    return cache_.contains(r.name);
  }

 protected:
  std::mutex mu_;
  std::condition_variable cv_;
  std::set<std::string> cache_;
};

/// A package source that records how many fetches overlap and can hold every fetch until
/// released.
class GatedSource final : public ThreadSafeCache {
 public:
  Result<engine::Package> fetch(const engine::PackageRef& r) override {
    std::unique_lock lk(mu_);
    ++inside_;
    max_inside_ = std::max(max_inside_, inside_);
    cv_.notify_all();
    // Deadlock guard only (a sequential prefetch never reaches two at once): not a timing
    // assertion; the test checks max_inside_.
    cv_.wait_for(lk, std::chrono::seconds(30), [&] { return met_ || inside_ >= want_together_; });
    met_ = true;
    --inside_;
    if (r.name == "missing") return fail(Errc::NotFound, "no package " + r.name);
    bool fresh = cache_.insert(r.name).second;
    return engine::Package{"/cache/" + r.name, fresh};
  }
  int want_together_ = 1;
  int max_inside_ = 0;
  int fetches() const { return static_cast<int>(cache_.size()); }

 private:
  int inside_ = 0;
  bool met_ = false;  ///< the wanted overlap happened once: later fetches do not wait
};

engine::PackageRef ref(const std::string& name) {
  return engine::PackageRef{"file:///repo", name, "1.0", name + ".tar.gz"};
}

TEST(Prefetch, FetchesConcurrentlyAndKeepsEveryResult) {
  GatedSource src;
  src.want_together_ = 2;
  auto results = engine::prefetch(src, {ref("a"), ref("b"), ref("missing")}, 2);
  EXPECT_EQ(src.max_inside_, 2) << "two fetches ran at the same time";
  ASSERT_EQ(results.size(), 3u);
  EXPECT_TRUE(results.at(ref("a")));
  EXPECT_TRUE(results.at(ref("a"))->fresh);
  ASSERT_FALSE(results.at(ref("missing")));
  EXPECT_EQ(results.at(ref("missing")).error().code, Errc::NotFound);
}

TEST(PrefetchingSource, AnswersFromTheInstalledResultsThenFromTheSource) {
  GatedSource src;
  engine::PrefetchingSource dec(src);
  dec.install(engine::prefetch(src, {ref("a"), ref("missing"), ref("unused")}, 4));
  ASSERT_EQ(src.fetches(), 2);

  auto a = dec.fetch(ref("a"));
  ASSERT_TRUE(a);
  EXPECT_TRUE(a->fresh) << "the fetch ahead created it: a rollback must remove it";
  auto missing = dec.fetch(ref("missing"));
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, Errc::NotFound) << "a failed fetch ahead is reported as is";

  auto again = dec.fetch(ref("a"));  // taken once: now from the source (cache hit)
  ASSERT_TRUE(again);
  EXPECT_FALSE(again->fresh);

  auto unused = dec.take_unused();
  ASSERT_EQ(unused.size(), 1u);
  EXPECT_EQ(unused.front().name, "unused");
  EXPECT_TRUE(dec.take_unused().empty()) << "forgotten after take_unused";
}

TEST(PrefetchingSource, AnEntryRemovedSinceTheFetchAheadIsFetchedAgain) {
  GatedSource src;
  engine::PrefetchingSource dec(src);
  dec.install(engine::prefetch(src, {ref("a")}, 1));
  ASSERT_TRUE(src.remove(ref("a")));  // another request's rollback removed the fresh entry
  auto a = dec.fetch(ref("a"));
  ASSERT_TRUE(a);
  EXPECT_TRUE(src.still_cached(ref("a"), *a)) << "fetched again from the source";
  EXPECT_TRUE(a->fresh);
}

/// A thread-safe package source where the package named "slow" blocks until released — a
/// repository that stalls (issue 8: measured 9 s with the original design).
class StallingSource final : public ThreadSafeCache {
 public:
  Result<engine::Package> fetch(const engine::PackageRef& r) override {
    std::unique_lock lk(mu_);
    if (r.name == "slow") {
      stalled_ = true;
      cv_.notify_all();
      cv_.wait(lk, [&] { return released_; });
    }
    ++fetches_on_[std::this_thread::get_id()];
    cache_.insert(r.name);
    return engine::Package{"/cache/" + r.name, true};
  }
  void wait_stalled() {
    std::unique_lock lk(mu_);
    cv_.wait(lk, [&] { return stalled_; });
  }
  void release() {
    std::lock_guard lk(mu_);
    released_ = true;
    cv_.notify_all();
  }
  /// The threads fetches ran on.
  std::set<std::thread::id> fetch_threads() {
    std::lock_guard lk(mu_);
    std::set<std::thread::id> out;
    for (const auto& [t, n] : fetches_on_) out.insert(t);
    return out;
  }

 private:
  bool stalled_ = false;
  bool released_ = false;
  std::map<std::thread::id, int> fetches_on_;
};

/// A store that remembers the thread it was saved from: the engine thread.
class ThreadRecordingStore final : public engine::StateStore {
 public:
  Status save(const std::vector<model::L3afBpfPrograms>& state) override {
    std::lock_guard lk(mu_);
    saved_on_ = std::this_thread::get_id();
    state_ = state;
    return ok();
  }
  Result<std::vector<model::L3afBpfPrograms>> load() override { return state_; }
  std::thread::id saved_on() {
    std::lock_guard lk(mu_);
    return saved_on_;
  }

 private:
  std::mutex mu_;
  std::thread::id saved_on_;
  std::vector<model::L3afBpfPrograms> state_;
};

model::L3afBpfPrograms deployable(const std::string& iface, const std::string& name) {
  auto p = program(name, "1.0");
  p.seq_id = 1;
  p.prog_type = "xdp";
  p.object_file = "counter.bpf.o";
  p.entry_function_name = "counter";
  auto e = entry(iface, {p});
  e.host_name = "testhost";
  return e;
}

// The engine thread never waits for a repository: while one request's package download
// stalls, a request on another interface is applied, and the stalled one completes once its
// repository answers. No package is fetched on the engine thread.
TEST(PrefetchEngine, AStalledRepositoryDelaysOnlyItsOwnRequest) {
  kernel::fake::Injector inj;
  kernel::fake::FakeKernel kernel(inj);
  kernel.add_interface("eth0", 2);
  kernel.add_interface("eth1", 3);
  kernel.define_object("counter.bpf.o", {"counter", {{"packets", 0, 2, 4, 8, 1, {}}}});
  StallingSource packages;
  ThreadRecordingStore store;
  engine::EngineConfig cfg;
  cfg.planner.default_repo_url = "file:///repo";
  cfg.planner.host_name = "testhost";
  engine::Engine eng(cfg, kernel, packages, store);
  eng.start();

  std::promise<std::future<Status>> slow_submitted;
  std::thread slow_client([&] {
    slow_submitted.set_value(eng.submit(engine::AddPrograms{{deployable("eth0", "slow")}}));
  });
  packages.wait_stalled();
  auto fast = eng.submit(engine::AddPrograms{{deployable("eth1", "fast")}});
  // Deadlock guard, not a timing assertion: with fetches on the engine thread this never
  // becomes ready while "slow" is stalled.
  ASSERT_EQ(fast.wait_for(std::chrono::seconds(60)), std::future_status::ready)
      << "a write waited for another request's repository";
  EXPECT_TRUE(fast.get());
  EXPECT_NE(eng.snapshot()->state.programs("eth1", model::Hook::XdpIngress), nullptr);
  EXPECT_EQ(eng.snapshot()->state.programs("eth0", model::Hook::XdpIngress), nullptr);

  packages.release();
  slow_client.join();
  auto slow = slow_submitted.get_future().get();
  EXPECT_TRUE(slow.get());
  EXPECT_NE(eng.snapshot()->state.programs("eth0", model::Hook::XdpIngress), nullptr);
  eng.stop();
  const auto engine_thread = store.saved_on();
  ASSERT_NE(engine_thread, std::thread::id{});
  EXPECT_FALSE(packages.fetch_threads().contains(engine_thread))
      << "a package was fetched on the engine thread";
}

}  // namespace
