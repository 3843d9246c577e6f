// The monitor_maps sampler (docs/compatibility.md §12.2): once a second, reads the configured
// key of every max-rate and avg monitor_maps entry of the published snapshot (programs and
// probes) and feeds it to the entry's aggregator (metrics/aggregator.h, over n-metric-samples);
// /metrics renders the aggregated values. `scalar` entries are not sampled: /metrics reads them
// at each scrape, which is never older than a 1 s sample. A failed read is counted and
// skipped, never published as 0; a series is dropped with its program or monitor_maps entry.
//
// Thread-safety: one sampling thread (start()/stop()); tick() may also be called directly
// (tests). values() and read_failures() are safe from any thread. Reads go through
// Kernel::read_map_value, which adapters make safe off the engine thread; the sampler reads
// only immutable snapshots.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "engine/engine.h"
#include "kernel/kernel.h"
#include "metrics/aggregator.h"

namespace l3afd::api {

/// One l3afd_BPFMonitorMap series (labels besides host) and its value.
struct MonitorSeries {
  std::string ebpf_program;
  std::string interface_name;  ///< "" for probes
  std::string ipv4_address;    ///< "" for probes
  std::string map_name;        ///< <map>_<key>_<aggregator>
  double value = 0;
  bool operator==(const MonitorSeries&) const = default;
};

class MonitorSampler {
 public:
  using SnapshotFn = std::function<std::shared_ptr<const engine::Snapshot>()>;
  /// `samples`: n-metric-samples (the aggregators' window).
  MonitorSampler(SnapshotFn snapshot, kernel::Kernel& kernel, std::size_t samples);
  ~MonitorSampler();
  MonitorSampler(const MonitorSampler&) = delete;
  MonitorSampler& operator=(const MonitorSampler&) = delete;

  /// Samples every `period` on a thread of its own until stop().
  void start(std::chrono::milliseconds period = std::chrono::seconds(1));
  void stop();

  /// One sampling round.
  void tick();

  /// The series with a value, sorted by labels.
  std::vector<MonitorSeries> values() const;
  /// Reads that failed since the start (logged at debug, each one).
  std::uint64_t read_failures() const;

 private:
  /// (program, interface, ipv4, map label) → object key, map, key, aggregator.
  using SeriesKey = std::tuple<std::string, std::string, std::string, std::string>;
  struct Series {
    std::string object_key;
    std::string map;
    std::uint64_t map_key = 0;
    metrics::SeriesAggregator aggregator;
  };

  SnapshotFn snapshot_;
  kernel::Kernel& kernel_;
  std::size_t samples_;
  mutable std::mutex mu_;
  std::map<SeriesKey, Series> series_;
  std::uint64_t failures_ = 0;
  std::mutex run_mu_;
  std::condition_variable run_cv_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace l3afd::api
