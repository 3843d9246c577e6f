// Result rows, the committed baseline file and the side-by-side tables printed by the bench.
// Not thread-safe (used from the main thread only).
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "stats.h"

namespace l3afd::bench {

/// Which direction of change is an improvement (printed so that ratios read unambiguously).
enum class Better { Lower, Higher };

/// One measured metric. `metric` is the stable key used in the baseline file.
struct Row {
  std::string metric;
  std::string unit;
  Summary value;
  bool has_p90 = false;
  Better better = Better::Lower;
};

/// A row of `values` summarized (median, p90, min, max), without p90 in the table.
Row make_row(std::string metric, std::string unit, std::vector<double> values, Better better);

/// A titled group of rows plus free-text note lines printed under it.
struct Table {
  std::string title;
  std::vector<Row> rows;
  std::vector<std::string> notes;
};

/// Baseline medians by metric key.
using Baseline = std::map<std::string, double>;

/// Reads a baseline written by save_baseline. A missing file gives an empty Baseline (every
/// comparison then prints "n/a"); a malformed line is skipped and described in `warnings`.
Baseline load_baseline(const std::filesystem::path& path, std::vector<std::string>& warnings);

/// Writes every row of `tables` to `path` (tab-separated: metric, unit, median, p90, min, max,
/// samples), preceded by '#' comment lines `header`. Returns "" or why writing failed.
std::string save_baseline(const std::filesystem::path& path, const std::vector<Table>& tables,
                          const std::vector<std::string>& header);

/// Prints the tables to stdout: metric, unit, median, p90 ("-" unless asked), min, max,
/// baseline median and the ratio current/baseline median ("n/a" without a baseline value).
void print_tables(const std::vector<Table>& tables, const Baseline& baseline);

}  // namespace l3afd::bench
