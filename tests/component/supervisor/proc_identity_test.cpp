// Process identity with real processes: the start time read from /proc (after the last ')'),
// the credentials from /proc/<pid>/status, and a pidfd opened only for the process that started
// at the recorded time.
#include "supervisor/proc_identity.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

namespace l3afd::supervisor {
namespace {

TEST(ProcStat, FieldsAreCountedAfterTheLastParenthesis) {
  // A command name may hold spaces and parentheses: ") 7 8" inside it must not shift fields.
  const std::string stat =
      "1234 (we ird) 7 8 (x) S 1 1234 1234 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 987654 "
      "1000 10 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0\n";
  auto p = parse_proc_stat(stat);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->state, 'S');
  EXPECT_EQ(p->start_time, 987654u);
  EXPECT_FALSE(parse_proc_stat("1234 (short) S 1 2 3"));
  EXPECT_FALSE(parse_proc_stat("no parenthesis at all"));
  EXPECT_FALSE(
      parse_proc_stat("1 (x) S 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 12a 0\n"));  // not a number
}

TEST(ProcStat, OwnStartTimeMatchesProc) {
  auto me = proc_stat(::getpid());
  ASSERT_TRUE(me) << me.error().to_string();
  std::ifstream in("/proc/self/stat");
  std::stringstream s;
  s << in.rdbuf();
  auto direct = parse_proc_stat(s.str());
  ASSERT_TRUE(direct);
  EXPECT_EQ(me->start_time, direct->start_time);
  EXPECT_GT(me->start_time, 0u);
  auto exe = proc_executable(::getpid());
  ASSERT_TRUE(exe);
  EXPECT_EQ(*exe, std::filesystem::read_symlink("/proc/self/exe"));
}

TEST(ProcCredentials, UidAndGidLinesAreParsed) {
  const std::string status =
      "Name:\tx\nUmask:\t0022\nState:\tS (sleeping)\nUid:\t65534\t1000\t7\t7\n"
      "Gid:\t100 200\t300\t400\nGroups:\t1 2\n";
  EXPECT_EQ(parse_proc_status(status), (ProcCredentials{65534, 1000, 100, 200}));
  EXPECT_FALSE(parse_proc_status("Uid:\t1\t1\t1\t1\n")) << "no Gid line";
  EXPECT_FALSE(parse_proc_status("Uid:\tx\t1\nGid:\t1\t1\n")) << "not a number";
  EXPECT_FALSE(parse_proc_status("Uids:\t1\t1\nGid:\t1\t1\n")) << "another key";
}

TEST(ProcCredentials, OwnCredentialsMatchTheSystemCalls) {
  auto me = proc_credentials(::getpid());
  ASSERT_TRUE(me) << me.error().to_string();
  EXPECT_EQ(*me, (ProcCredentials{::getuid(), ::geteuid(), ::getgid(), ::getegid()}));
}

TEST(ProcStat, AMissingProcessIsNotFound) {
  const pid_t child = ::fork();
  if (child == 0) ::_exit(0);
  ASSERT_GT(child, 0);
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  auto st = proc_stat(child);  // reaped: gone (unless recycled within microseconds)
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code, Errc::NotFound);
  auto creds = proc_credentials(child);
  ASSERT_FALSE(creds);
  EXPECT_EQ(creds.error().code, Errc::NotFound);
}

TEST(OpenIfSame, OpensOnlyTheProcessThatStartedAtTheRecordedTime) {
  const pid_t child = ::fork();
  if (child == 0) {
    ::pause();
    ::_exit(0);
  }
  ASSERT_GT(child, 0);
  auto st = proc_stat(child);
  ASSERT_TRUE(st);
  auto same = open_if_same(child, st->start_time);
  EXPECT_TRUE(same) << same.error().to_string();
  auto other = open_if_same(child, st->start_time + 1);  // as a recycled pid would look
  ASSERT_FALSE(other);
  EXPECT_EQ(other.error().code, Errc::NotFound);
  ::kill(child, SIGKILL);
  int status = 0;
  ::waitpid(child, &status, 0);
  auto after = open_if_same(child, st->start_time);
  ASSERT_FALSE(after);
  EXPECT_EQ(after.error().code, Errc::NotFound);
}

TEST(OpenIfSame, AZombieIsNotTakenForALiveProcess) {
  const pid_t child = ::fork();
  if (child == 0) ::_exit(0);
  ASSERT_GT(child, 0);
  // Not reaped yet: a zombie keeps its /proc entry and start time.
  std::optional<ProcStat> st;
  for (int i = 0; i < 3000; ++i) {
    auto s = proc_stat(child);
    if (s && s->state == 'Z') {
      st = *s;
      break;
    }
    ::usleep(1000);
  }
  ASSERT_TRUE(st) << "the child became a zombie";
  auto z = open_if_same(child, st->start_time);
  EXPECT_FALSE(z);
  int status = 0;
  ::waitpid(child, &status, 0);
}

}  // namespace
}  // namespace l3afd::supervisor
