#include "report.h"

#include <cstdio>
#include <fstream>
#include <sstream>

namespace l3afd::bench {

namespace {

/// Decimals shown for a unit: sub-millisecond detail for latencies (and CPU ms per second, µs per
/// monitored series), tenths of a nanosecond for per-packet costs, three for ratios, whole requests
/// or frames per second.
int decimals_for(const std::string& unit) {
  if (unit == "ms" || unit == "ns/pkt" || unit == "ns" || unit == "ms/s" || unit == "us") return 2;
  if (unit == "x") return 3;
  if (unit == "MiB" || unit == "us/req") return 1;
  return 0;
}

std::string fmt(double v, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

/// One table line; every column is pre-formatted text. The metric column fits the longest key
/// (rss_100prog_20if_chained_deleted, 32 characters).
void print_line(const std::vector<std::string>& c) {
  std::printf("%-32s %-6s %10s %10s %10s %10s %4s  %10s %7s  %s\n", c[0].c_str(), c[1].c_str(),
              c[2].c_str(), c[3].c_str(), c[4].c_str(), c[5].c_str(), c[6].c_str(), c[7].c_str(),
              c[8].c_str(), c[9].c_str());
}

}  // namespace

Baseline load_baseline(const std::filesystem::path& path, std::vector<std::string>& warnings) {
  Baseline b;
  std::ifstream in(path);
  if (!in) return b;
  std::string line;
  int line_no = 0;
  while (std::getline(in, line)) {
    ++line_no;
    if (line.empty() || line[0] == '#' || line.rfind("metric\t", 0) == 0) continue;
    std::istringstream fields(line);
    std::string metric, unit, median;
    if (!std::getline(fields, metric, '\t') || !std::getline(fields, unit, '\t') ||
        !std::getline(fields, median, '\t')) {
      warnings.push_back(path.string() + ":" + std::to_string(line_no) +
                         ": fewer than 3 tab-separated fields; line ignored");
      continue;
    }
    char* end = nullptr;
    const double v = std::strtod(median.c_str(), &end);
    if (end == median.c_str() || *end != '\0') {
      warnings.push_back(path.string() + ":" + std::to_string(line_no) + ": median '" + median +
                         "' is not a number; line ignored");
      continue;
    }
    b[metric] = v;
  }
  return b;
}

std::string save_baseline(const std::filesystem::path& path, const std::vector<Table>& tables,
                          const std::vector<std::string>& header) {
  const std::filesystem::path tmp = path.string() + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    if (!out) return "cannot write " + tmp.string();
    for (const auto& h : header) out << "# " << h << '\n';
    out << "metric\tunit\tmedian\tp90\tmin\tmax\tsamples\n";
    for (const auto& t : tables) {
      for (const auto& r : t.rows) {
        const int d = decimals_for(r.unit) + 2;  // keep a little more precision than printed
        out << r.metric << '\t' << r.unit << '\t' << fmt(r.value.median, d) << '\t'
            << (r.has_p90 ? fmt(r.value.p90, d) : "-") << '\t' << fmt(r.value.min, d) << '\t'
            << fmt(r.value.max, d) << '\t' << r.value.samples << '\n';
      }
    }
    out.flush();
    if (!out) return "writing " + tmp.string() + " failed";
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) return "rename " + tmp.string() + " to " + path.string() + ": " + ec.message();
  return {};
}

void print_tables(const std::vector<Table>& tables, const Baseline& baseline) {
  for (const auto& t : tables) {
    std::printf("\n== %s ==\n", t.title.c_str());
    print_line(
        {"metric", "unit", "median", "p90", "min", "max", "n", "base.med", "ratio", "better"});
    for (const auto& r : t.rows) {
      const int d = decimals_for(r.unit);
      std::string base = "n/a";
      std::string ratio = "n/a";
      if (auto it = baseline.find(r.metric); it != baseline.end()) {
        base = fmt(it->second, d);
        if (it->second != 0) ratio = fmt(r.value.median / it->second, 3);
      }
      print_line({r.metric, r.unit, fmt(r.value.median, d), r.has_p90 ? fmt(r.value.p90, d) : "-",
                  fmt(r.value.min, d), fmt(r.value.max, d), std::to_string(r.value.samples), base,
                  ratio, r.better == Better::Lower ? "lower" : "higher"});
    }
    for (const auto& n : t.notes) std::printf("note: %s\n", n.c_str());
  }
  std::fflush(stdout);
}

Row make_row(std::string metric, std::string unit, std::vector<double> values, Better better) {
  Row r;
  r.metric = std::move(metric);
  r.unit = std::move(unit);
  r.value = summarize(std::move(values));
  r.better = better;
  return r;
}

}  // namespace l3afd::bench
