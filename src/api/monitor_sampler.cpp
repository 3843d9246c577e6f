#include "api/monitor_sampler.h"

#include <spdlog/spdlog.h>

namespace l3afd::api {

MonitorSampler::MonitorSampler(SnapshotFn snapshot, kernel::Kernel& kernel, std::size_t samples)
    : snapshot_(std::move(snapshot)), kernel_(kernel), samples_(samples) {}

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
  // What the published state monitors now: (labels) → where to read it.
  std::map<SeriesKey, std::tuple<std::string, std::string, std::uint64_t, metrics::Aggregator>>
      wanted;
  auto want = [&](const model::BpfProgram& spec, const std::string& object_key,
                  const std::string& iface, const std::string& ipv4) {
    if (object_key.empty() || !spec.monitor_maps) return;
    for (const auto& m : *spec.monitor_maps) {
      auto agg = metrics::parse_aggregator(m.aggregator);
      // Unknown ones are refused at validation (a stored one of l3afd v2.1.0 is skipped);
      // scalar is read at each scrape instead.
      if (!agg || *agg == metrics::Aggregator::Scalar) continue;
      const std::string label = m.name + "_" + std::to_string(m.key) + "_" + m.aggregator;
      wanted[{spec.name, iface, ipv4, label}] = {object_key, m.name,
                                                 static_cast<std::uint64_t>(m.key), *agg};
    }
  };
  for (const auto& [iface, rec] : snap->state.ifaces) {
    for (const auto& [h, list] : rec.hooks) {
      for (const auto& r : list) want(r.spec, r.object_key, iface, rec.ipv4_address);
    }
  }
  for (const auto& p : snap->state.probes) want(p.spec, p.object_key, "", "");

  std::lock_guard lk(mu_);
  // Series of programs or entries that left are dropped (the original keeps them, D35); a
  // new instance of the same program (another object key) starts its window again.
  std::erase_if(series_, [&](const auto& kv) {
    auto w = wanted.find(kv.first);
    return w == wanted.end() || std::get<0>(w->second) != kv.second.object_key ||
           std::get<1>(w->second) != kv.second.map;
  });
  for (const auto& [key, where] : wanted) {
    const auto& [object_key, map, map_key, agg] = where;
    auto it = series_.find(key);
    if (it == series_.end()) {
      it = series_
               .emplace(key,
                        Series{object_key, map, map_key, metrics::SeriesAggregator(agg, samples_)})
               .first;
    }
    auto v = kernel_.read_map_value(object_key, map, map_key);
    if (!v) {
      ++failures_;
      spdlog::debug("monitor read failed program={} map={} key={}: {}", std::get<0>(key), map,
                    map_key, v.error().to_string());
      continue;
    }
    it->second.aggregator.add(*v);
  }
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

}  // namespace l3afd::api
