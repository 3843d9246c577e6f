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

void MonitorSampler::tick() {
  const auto snap = snapshot_();
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
      if (!agg) continue;  // refused at validation; a stored one of l3afd v2.1.0 is skipped
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

  // Read outside the lock: values() is never blocked by the kernel.
  const auto started = std::chrono::steady_clock::now();
  std::map<SeriesKey, Result<std::uint64_t>> read;
  for (const auto& [key, w] : wanted) {
    const auto t0 = std::chrono::steady_clock::now();
    auto v = w.reader ? w.reader->read(w.key)
                      : Result<std::uint64_t>(
                            fail(Errc::NotFound, "no reader for the map (see the engine's log)"));
    const std::int64_t ns =
        std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - t0)
            .count();
    L3AFD_USDT(monitor_sample, std::get<0>(key).c_str(), std::get<3>(key).c_str(),
               static_cast<std::int64_t>(w.key), v ? *v : std::uint64_t{0}, v ? 1 : 0, ns);
    read.emplace(key, std::move(v));
  }
  const auto took = std::chrono::steady_clock::now() - started;

  std::lock_guard lk(mu_);
  // Series of programs or entries that left are dropped (the original keeps them, D35); a
  // new instance of the same program (another reader) starts its window again.
  std::erase_if(series_, [&](const auto& kv) {
    auto w = wanted.find(kv.first);
    return w == wanted.end() || w->second.reader != kv.second.reader;
  });
  for (const auto& [key, w] : wanted) {
    auto it = series_.find(key);
    if (it == series_.end()) {
      it = series_.emplace(key, Series{w.reader, w.key, metrics::SeriesAggregator(w.agg, samples_)})
               .first;
    }
    ++reads_;
    const auto& v = read.at(key);
    if (!v) {
      ++failures_;
      spdlog::debug("monitor read failed program={} series={}: {}", std::get<0>(key),
                    std::get<3>(key), v.error().to_string());
      continue;
    }
    it->second.aggregator.add(*v);
  }
  spdlog::trace("monitor sample: {} series in {} us", wanted.size(),
                std::chrono::duration_cast<std::chrono::microseconds>(took).count());
}

std::vector<MonitorSeries> MonitorSampler::values() const {
  std::lock_guard lk(mu_);
  std::vector<MonitorSeries> out;
  for (const auto& [key, s] : series_) {
    auto v = s.aggregator.value();
    if (!v) continue;
    out.push_back(
        MonitorSeries{std::get<0>(key), std::get<1>(key), std::get<2>(key), std::get<3>(key), *v});
  }
  return out;
}

std::uint64_t MonitorSampler::read_failures() const {
  std::lock_guard lk(mu_);
  return failures_;
}

std::uint64_t MonitorSampler::reads() const {
  std::lock_guard lk(mu_);
  return reads_;
}

}  // namespace l3afd::api
