// The monitor_maps sampler (docs/compatibility.md §12.2, docs/metrics.md): once a second, reads
// every key of every max-rate and avg monitor_maps entry of the published snapshot (programs and
// probes; several keys with the key_end extension) and feeds it to the series' aggregator
// (metrics/aggregator.h, over n-metric-samples); /metrics renders the aggregated values. scalar
// entries are not sampled: render_metrics reads them at each scrape through the same readers,
// which is never older than a 1 s sample (L3AF's e2e suite reads a counter right after traffic).
//
// Reads go through the kernel::MapReader objects the snapshot holds (Snapshot::monitor_readers,
// each on its own dup of the map fd): the sampler never calls the kernel port, never looks a map
// up by name or id, and never touches engine state. A failed read (or a map without a reader) is
// counted and skipped, never published as 0; a series is dropped with its program or entry.
//
// Thread-safety: one sampling thread (start()/stop()); tick() may also be called directly
// (tests). values() and read_failures() are safe from any thread.
#pragma once

#include <atomic>
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
  MonitorSampler(SnapshotFn snapshot, std::size_t samples);
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
  /// Reads that failed since the start (logged at debug, each one), the scrapes' included.
  std::uint64_t read_failures() const;
  /// Adds `n` failed scalar reads of a scrape (render_metrics) to read_failures().
  void count_scrape_failures(std::uint64_t n) const;
  /// Reads done since the start (the bench's sampler cost per read).
  std::uint64_t reads() const;

 private:
  /// (program, interface, ipv4, map label).
  using SeriesKey = std::tuple<std::string, std::string, std::string, std::string>;
  struct Series {
    SeriesKey key;
    std::shared_ptr<const kernel::MapReader> reader;  ///< null: the map has no reader
    std::uint64_t map_key = 0;
    metrics::SeriesAggregator aggregator;
  };
  /// Rebuilds series_ from `snap` (sampling thread only).
  void refresh(const std::shared_ptr<const engine::Snapshot>& snap);

  SnapshotFn snapshot_;
  std::size_t samples_;
  mutable std::mutex mu_;
  std::vector<Series> series_;  ///< sorted by key; its list changes on the sampling thread only
  std::shared_ptr<const engine::Snapshot> last_snapshot_;  ///< of the last refresh()
  std::uint64_t failures_ = 0;
  mutable std::atomic<std::uint64_t> scrape_failures_{0};
  std::uint64_t reads_ = 0;
  std::mutex run_mu_;
  std::condition_variable run_cv_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace l3afd::api
