// process_* metrics (Go client's process collector) read from /proc/self.
#include "metrics/process.h"

#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>

namespace l3afd::metrics {
namespace {

TEST(ProcessStats, StatFieldsAreCountedAfterTheLastParenthesis) {
  // comm "a) 1 2 (b" would shift every field if split naively.
  const std::string line =
      "42 (a) 1 2 (b) S 1 42 42 0 -1 4194560 100 0 0 0 250 75 0 0 20 0 3 0 12345 987654 321 "
      "18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0";
  auto f = parse_proc_stat(line);
  ASSERT_TRUE(f) << f.error().to_string();
  EXPECT_EQ(f->utime_ticks, 250u);
  EXPECT_EQ(f->stime_ticks, 75u);
  EXPECT_EQ(f->start_ticks, 12345u);
  EXPECT_EQ(f->vsize, 987654u);
  EXPECT_EQ(f->rss_pages, 321u);
  EXPECT_FALSE(parse_proc_stat("42 (x) S 1 2"));
  EXPECT_FALSE(parse_proc_stat("no parenthesis"));
}

TEST(ProcessStats, ThisProcessOpenFdsFollowWhatItOpens) {
  auto a = read_process_stats();
  ASSERT_TRUE(a) << a.error().to_string();
  const int fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  auto b = read_process_stats();
  ::close(fd);
  ASSERT_TRUE(b);
  EXPECT_EQ(b->open_fds, a->open_fds + 1);
  rlimit lim{};
  ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &lim), 0);
  EXPECT_EQ(b->max_fds, static_cast<double>(lim.rlim_cur));
  EXPECT_GT(b->resident_bytes, 0);
  EXPECT_GE(b->virtual_bytes, b->resident_bytes);
  const double now =
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  EXPECT_LE(b->start_time_seconds, now + 1);
  EXPECT_GT(b->start_time_seconds, now - 24 * 3600) << "a test process started today";
}

TEST(ProcessStats, RenderedWithTheGoClientsNamesHelpAndTypes) {
  ProcessStats s;
  s.cpu_seconds = 0.25;
  s.max_fds = 1024;
  s.open_fds = 12;
  s.resident_bytes = 12345678;
  s.start_time_seconds = 1796267626;
  s.virtual_bytes = 2e9;
  Exposition e;
  add_process(e, s);
  const std::string out = e.serialize();
  EXPECT_NE(out.find("# TYPE process_cpu_seconds_total counter\nprocess_cpu_seconds_total 0.25\n"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("# HELP process_open_fds Number of open file descriptors.\n"
                     "# TYPE process_open_fds gauge\nprocess_open_fds 12\n"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("process_resident_memory_bytes 12345678\n"), std::string::npos);
  EXPECT_NE(out.find("process_start_time_seconds 1796267626\n"), std::string::npos);
  EXPECT_NE(out.find("process_virtual_memory_max_bytes -1\n"), std::string::npos)
      << "unlimited, as Go prints it";
  EXPECT_LT(out.find("process_cpu_seconds_total"), out.find("process_virtual_memory_bytes"))
      << "families in name order";
}

}  // namespace
}  // namespace l3afd::metrics
