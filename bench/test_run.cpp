#include "test_run.h"

#include <bpf/bpf.h>
#include <linux/bpf.h>
#include <time.h>

#include <cstring>
#include <vector>

namespace l3afd::bench {

std::int64_t thread_cpu_ns() {
  timespec ts{};
  ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

std::optional<TestRun> xdp_test_run(int prog, std::span<const std::uint8_t> frame,
                                    std::uint32_t repeat, std::string& error) {
  std::vector<std::uint8_t> out(frame.size() + 256);
  bpf_test_run_opts opts{};
  opts.sz = sizeof opts;
  opts.data_in = frame.data();
  opts.data_size_in = static_cast<std::uint32_t>(frame.size());
  opts.data_out = out.data();
  opts.data_size_out = static_cast<std::uint32_t>(out.size());
  opts.repeat = static_cast<int>(repeat);
  const std::int64_t before = thread_cpu_ns();
  const int rc = bpf_prog_test_run_opts(prog, &opts);
  const std::int64_t after = thread_cpu_ns();
  if (rc != 0) {
    error = std::string("BPF_PROG_TEST_RUN: ") + std::strerror(-rc);
    return std::nullopt;
  }
  if (opts.retval != XDP_PASS) {
    error = "BPF_PROG_TEST_RUN: verdict " + std::to_string(opts.retval) + ", expected XDP_PASS";
    return std::nullopt;
  }
  return TestRun{static_cast<double>(after - before) / repeat, opts.duration};
}

}  // namespace l3afd::bench
