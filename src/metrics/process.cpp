#include "metrics/process.h"

#include <sys/resource.h>
#include <unistd.h>

#include <charconv>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

#include "core/proc_stat.h"

namespace l3afd::metrics {

Result<StatFields> parse_proc_stat(std::string_view line) {
  const auto f = proc_stat_fields(line);
  if (!f) return fail(Errc::InvalidPayload, "no ')' in stat");
  // proc(5): utime 14, stime 15, starttime 22, vsize 23, rss 24.
  const auto utime = proc_stat_number(*f, 14), stime = proc_stat_number(*f, 15),
             start = proc_stat_number(*f, 22), vsize = proc_stat_number(*f, 23),
             rss = proc_stat_number(*f, 24);
  if (!utime || !stime || !start || !vsize || !rss) {
    return fail(Errc::InvalidPayload, "stat has too few or malformed fields");
  }
  return StatFields{*utime, *stime, *start, *vsize, *rss};
}

namespace {

Result<std::string> slurp(const char* path) {
  std::ifstream in(path);
  if (!in) return fail(Errc::Io, std::string("cannot read ") + path);
  std::string s;
  std::getline(in, s, '\0');
  return s;
}

/// Boot time (unix seconds) from the btime line of /proc/stat.
Result<double> boot_time() {
  auto s = slurp("/proc/stat");
  if (!s) return fail(std::move(s.error()));
  std::istringstream in(*s);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("btime ", 0) != 0) continue;
    std::uint64_t v = 0;
    const auto r = std::from_chars(line.data() + 6, line.data() + line.size(), v);
    if (r.ec != std::errc()) break;
    return static_cast<double>(v);
  }
  return fail(Errc::Io, "no btime in /proc/stat");
}

}  // namespace

Result<ProcessStats> read_process_stats() {
  auto stat = slurp("/proc/self/stat");
  if (!stat) return fail(std::move(stat.error()));
  auto f = parse_proc_stat(*stat);
  if (!f) return fail(std::move(f.error()));
  auto boot = boot_time();
  if (!boot) return fail(std::move(boot.error()));
  const double ticks = static_cast<double>(::sysconf(_SC_CLK_TCK));
  const double page = static_cast<double>(::sysconf(_SC_PAGESIZE));
  ProcessStats s;
  s.cpu_seconds = static_cast<double>(f->utime_ticks + f->stime_ticks) / ticks;
  s.resident_bytes = static_cast<double>(f->rss_pages) * page;
  s.virtual_bytes = static_cast<double>(f->vsize);
  s.start_time_seconds = *boot + static_cast<double>(f->start_ticks) / ticks;
  rlimit lim{};
  if (::getrlimit(RLIMIT_NOFILE, &lim) == 0) s.max_fds = static_cast<double>(lim.rlim_cur);
  if (::getrlimit(RLIMIT_AS, &lim) == 0 && lim.rlim_cur != RLIM_INFINITY) {
    s.virtual_max_bytes = static_cast<double>(lim.rlim_cur);
  }
  std::error_code ec;
  for (auto it = std::filesystem::directory_iterator("/proc/self/fd", ec);
       !ec && it != std::filesystem::directory_iterator(); it.increment(ec)) {
    s.open_fds += 1;
  }
  if (s.open_fds > 0) s.open_fds -= 1;  // the iterator's own descriptor
  return s;
}

void add_process(Exposition& out, const ProcessStats& s) {
  using prometheus::MetricType;
  auto one = [&](const char* name, const char* help, MetricType type, double v) {
    out.add(name, help, type, {}, v);
  };
  one("process_cpu_seconds_total", "Total user and system CPU time spent in seconds.",
      MetricType::Counter, s.cpu_seconds);
  one("process_max_fds", "Maximum number of open file descriptors.", MetricType::Gauge, s.max_fds);
  one("process_open_fds", "Number of open file descriptors.", MetricType::Gauge, s.open_fds);
  one("process_resident_memory_bytes", "Resident memory size in bytes.", MetricType::Gauge,
      s.resident_bytes);
  one("process_start_time_seconds", "Start time of the process since unix epoch in seconds.",
      MetricType::Gauge, s.start_time_seconds);
  one("process_virtual_memory_bytes", "Virtual memory size in bytes.", MetricType::Gauge,
      s.virtual_bytes);
  one("process_virtual_memory_max_bytes", "Maximum amount of virtual memory available in bytes.",
      MetricType::Gauge, s.virtual_max_bytes);
}

}  // namespace l3afd::metrics
