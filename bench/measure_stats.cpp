#include "measure_stats.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>
#include <vector>

#include "daemon.h"
#include "stats.h"
#include "support/bpf_stats.h"
#include "test_run.h"

namespace l3afd::bench {

namespace {

constexpr std::uint32_t kCalibrationRepeat = 100000;
constexpr std::uint32_t kMinRepeat = 1000000;  // the brief: repeat >= 1e6
constexpr std::uint32_t kMaxRepeat = 100000000;

struct ObjectClose {
  void operator()(bpf_object* o) const { bpf_object__close(o); }
};

/// An fd that closes itself (the stats hold).
struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

std::optional<std::uint64_t> run_count(int prog) {
  bpf_prog_info info{};
  std::uint32_t len = sizeof info;
  if (bpf_obj_get_info_by_fd(prog, &info, &len) != 0) return std::nullopt;
  return info.run_cnt;
}

struct Sample {
  double ns = 0;              ///< CPU time of this thread in the syscall / repeat
  std::uint64_t counted = 0;  ///< run_cnt growth
  bool elsewhere = false;     ///< statistics on outside this bench during the sample
};

/// One BPF_PROG_TEST_RUN of `frame`, `repeat` times, with a stats hold if `on`.
std::optional<Sample> sample(int prog, const std::vector<std::uint8_t>& frame, std::uint32_t repeat,
                             bool on, std::string& error) {
  Fd hold;
  if (on) {
    hold.fd = bpf_enable_stats(BPF_STATS_RUN_TIME);
    if (hold.fd < 0) {
      error = std::string("bpf_enable_stats: ") + std::strerror(errno);
      return std::nullopt;
    }
  }
  Sample s;
  s.elsewhere = !on && l3afd::testing::bpf_stats_on_anywhere();
  const auto before = run_count(prog);
  const auto run = xdp_test_run(prog, frame, repeat, error);
  if (!run) return std::nullopt;
  const auto after = run_count(prog);
  if (!before || !after) {
    error = std::string("read program info: ") + std::strerror(errno);
    return std::nullopt;
  }
  s.counted = *after - *before;
  s.elsewhere = s.elsewhere || (!on && l3afd::testing::bpf_stats_on_anywhere());
  if (on && s.counted != repeat) {
    error = "stats on: run_cnt grew by " + std::to_string(s.counted) + " for " +
            std::to_string(repeat) + " runs";
    return std::nullopt;
  }
  if (!on && !s.elsewhere && s.counted != 0) {
    error = "stats off: run_cnt grew by " + std::to_string(s.counted) +
            " although neither the sysctl nor any visible process held them on";
    return std::nullopt;
  }
  s.ns = run->ns_per_pkt;
  return s;
}

}  // namespace

std::string measure_stats_cost(const std::filesystem::path& objects, const ChainSizes& sizes,
                               Table& out) {
  const std::filesystem::path file = objects / "bench_pass.bpf.o";
  std::unique_ptr<bpf_object, ObjectClose> obj(bpf_object__open_file(file.c_str(), nullptr));
  if (!obj) return "open " + file.string() + ": " + std::strerror(errno);
  if (const int rc = bpf_object__load(obj.get()); rc != 0) {
    return "load " + file.string() + ": " + std::strerror(-rc);
  }
  bpf_program* p = bpf_object__find_program_by_name(obj.get(), "bench_pass");
  const int prog = p != nullptr ? bpf_program__fd(p) : -1;
  if (prog < 0) return file.string() + ": no program bench_pass";

  std::vector<std::uint8_t> frame(64, 0);
  frame[12] = 0x08;  // EtherType IPv4 (bench_pass does not look at it)
  std::string err;
  auto cal = sample(prog, frame, kCalibrationRepeat, false, err);
  if (!cal) return err;
  const double want = sizes.sample_ms * 1e6 / std::max(cal->ns, 0.1);
  const auto repeat = static_cast<std::uint32_t>(
      std::clamp(want, static_cast<double>(kMinRepeat), static_cast<double>(kMaxRepeat)));

  std::vector<double> off, on, cost, ratio;
  int contaminated = 0;
  for (int round = 0; round < sizes.rounds; ++round) {
    if (interrupted()) return "interrupted";
    std::optional<Sample> a, b;
    // Alternate which comes first, so a drift in machine load does not favour one side.
    for (bool stats_on : round % 2 == 0 ? std::vector{false, true} : std::vector{true, false}) {
      auto s = sample(prog, frame, repeat, stats_on, err);
      if (!s) return err;
      (stats_on ? b : a) = s;
    }
    if (a->elsewhere) ++contaminated;
    off.push_back(a->ns);
    on.push_back(b->ns);
    cost.push_back(b->ns - a->ns);
    ratio.push_back(b->ns / std::max(a->ns, 0.001));
  }
  out.rows.push_back(make_row("bpf_stats_off", "ns/pkt", std::move(off), Better::Lower));
  out.rows.push_back(make_row("bpf_stats_on", "ns/pkt", std::move(on), Better::Lower));
  out.rows.push_back(make_row("bpf_stats_cost", "ns/pkt", std::move(cost), Better::Lower));
  out.rows.push_back(make_row("bpf_stats_ratio", "x", std::move(ratio), Better::Lower));
  out.notes.push_back(
      "bench_pass (return XDP_PASS) under BPF_PROG_TEST_RUN, 64-byte frame, repeat " +
      std::to_string(repeat) + " per sample, " + std::to_string(sizes.rounds) +
      " rounds of one off and one on sample (--chain-rounds, --chain-sample-ms); on = a "
      "bpf_enable_stats(BPF_STATS_RUN_TIME) fd held during the sample");
  out.notes.push_back(
      "cost and ratio are per round (on - off, on / off); every on sample counted exactly its "
      "repeat in run_cnt, every off sample nothing");
  if (contaminated > 0) {
    out.notes.push_back("WARNING: in " + std::to_string(contaminated) +
                        " round(s) statistics were on elsewhere (sysctl kernel.bpf_stats_enabled "
                        "or another process's fd) during the off sample: those are not a "
                        "baseline");
  }
  return {};
}

}  // namespace l3afd::bench
