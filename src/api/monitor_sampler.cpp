#include "api/monitor_sampler.h"

#include <spdlog/spdlog.h>

#include "core/usdt.h"

namespace l3afd::api {

MonitorSampler::MonitorSampler(SnapshotFn snapshot, std::size_t samples)
    : snapshot_(std::move(snapshot)), samples_(samples) {}

MonitorSampler::~MonitorSampler() {
  stop();
}

void MonitorSampler::start(std::chrono::milliseconds period) {
  thread_ = std::thread([this, period] {
    std::unique_lock lk(run_mu_);
    while (!stopping_) {
      lk.unlock();
      tick();
      lk.lock();
      run_cv_.wait_for(lk, period, [this] { return stopping_; });
    }
  });
}

void MonitorSampler::stop() {
  {
    std::lock_guard lk(run_mu_);
    stopping_ = true;
  }
  run_cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void MonitorSampler::refresh(const std::shared_ptr<const engine::Snapshot>& snap) {
  // What the published state monitors now: (labels) → reader, key, aggregator.
  struct Wanted {
    std::shared_ptr<const kernel::MapReader> reader;
    std::uint64_t key;
    metrics::Aggregator agg;
  };
  std::map<SeriesKey, Wanted> wanted;
  auto want = [&](const model::BpfProgram& spec, const std::string& object_key,
                  const std::string& iface, const std::string& ipv4) {
    if (object_key.empty() || !spec.monitor_maps) return;
    for (const auto& m : *spec.monitor_maps) {
      auto agg = metrics::parse_aggregator(m.aggregator);
      // Unknown ones are refused at validation (a stored one of l3afd v2.1.0 is skipped);
      // scalar is read at each scrape instead (render_metrics), fresher than a 1 s sample.
      if (!agg || *agg == metrics::Aggregator::Scalar) continue;
      std::shared_ptr<const kernel::MapReader> reader;
      if (auto r = snap->monitor_readers.find({object_key, m.name});
          r != snap->monitor_readers.end()) {
        reader = r->second;
      }
      for (const std::uint64_t k : model::monitored_keys(m)) {
        const std::string label = m.name + "_" + std::to_string(k) + "_" + m.aggregator;
        wanted[{spec.name, iface, ipv4, label}] = {reader, k, *agg};
      }
    }
  };
  for (const auto& [iface, rec] : snap->state.ifaces) {
    for (const auto& [h, list] : rec.hooks) {
      for (const auto& r : list) want(r.spec, r.object_key, iface, rec.ipv4_address);
    }
  }
  for (const auto& p : snap->state.probes) want(p.spec, p.object_key, "", "");

  // Series of programs or entries that left are dropped (the original keeps them, D35); a new
  // instance of the same program (another reader) starts its window again; the others keep
  // their window. `wanted` is sorted, so the new list is too.
  std::vector<Series> next;
  next.reserve(wanted.size());
  std::lock_guard lk(mu_);
  auto old = series_.begin();
  for (auto& [key, w] : wanted) {
    while (old != series_.end() && old->key < key) ++old;
    if (old != series_.end() && old->key == key && old->reader == w.reader) {
      next.push_back(std::move(*old));
    } else {
      next.push_back(Series{key, w.reader, w.key, metrics::SeriesAggregator(w.agg, samples_)});
    }
  }
  series_ = std::move(next);
}

void MonitorSampler::tick() {
  // The series list follows the published state; it is rebuilt only when a new snapshot was
  // published (a change), not at every tick.
  const auto snap = snapshot_();
  if (snap != last_snapshot_) {
    refresh(snap);
    last_snapshot_ = snap;
  }
  // Read outside the lock (values() is never blocked by the kernel). Only this thread changes
  // series_, so reading its readers and keys without the lock is safe.
  std::vector<Result<std::uint64_t>> read;
  read.reserve(series_.size());
  for (const auto& s : series_) {
    const auto t0 = std::chrono::steady_clock::now();
    auto v = s.reader ? s.reader->read(s.map_key)
                      : Result<std::uint64_t>(
                            fail(Errc::NotFound, "no reader for the map (see the engine's log)"));
    const std::int64_t ns =
        std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - t0)
            .count();
    L3AFD_USDT(monitor_sample, std::get<0>(s.key).c_str(), std::get<3>(s.key).c_str(),
               static_cast<std::int64_t>(s.map_key), v ? *v : std::uint64_t{0}, v ? 1 : 0, ns);
    read.push_back(std::move(v));
  }
  std::lock_guard lk(mu_);
  for (std::size_t i = 0; i < series_.size(); ++i) {
    ++reads_;
    if (!read[i]) {
      ++failures_;
      spdlog::debug("monitor read failed program={} series={}: {}", std::get<0>(series_[i].key),
                    std::get<3>(series_[i].key), read[i].error().to_string());
      continue;
    }
    series_[i].aggregator.add(*read[i]);
  }
}

std::vector<MonitorSeries> MonitorSampler::values() const {
  std::lock_guard lk(mu_);
  std::vector<MonitorSeries> out;
  out.reserve(series_.size());
  for (const auto& s : series_) {
    auto v = s.aggregator.value();
    if (!v) continue;
    out.push_back(MonitorSeries{std::get<0>(s.key), std::get<1>(s.key), std::get<2>(s.key),
                                std::get<3>(s.key), *v});
  }
  return out;
}

std::uint64_t MonitorSampler::read_failures() const {
  std::lock_guard lk(mu_);
  return failures_ + scrape_failures_.load();
}

void MonitorSampler::count_scrape_failures(std::uint64_t n) const {
  scrape_failures_ += n;
}

std::uint64_t MonitorSampler::reads() const {
  std::lock_guard lk(mu_);
  return reads_;
}

}  // namespace l3afd::api
