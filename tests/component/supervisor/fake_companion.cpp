// A stand-in companion binary for the supervisor's component tests (no shell: the daemon
// executes binaries only). Everything it does is driven by the --key=value flags the daemon
// passes (start_args and friends), in this order:
//   --argv-file=P      writes its argv, one element per line, to P (atomically: tmp + rename)
//   --report-file=P    writes what it runs with to P (atomically), one "key=value" per line:
//                      uid=<real>,<effective>,<saved>  gid=<...>  groups=<sorted, comma-separated>
//                      env=<NAME=value> (one line per variable, in environ order)
//                      NoNewPrivs= CapInh= CapPrm= CapEff= CapAmb= (as /proc/self/status says)
//                      fds=<open fds, sorted, comma-separated>  cwd=<working directory>
//   --pid-file=P       writes its pid to P
//   --rules-copy=P     copies the file its --rules-file names to P (what was there at start)
//   --ignore-term=1    ignores SIGTERM
//   --usr1-marker=P    on SIGUSR1: writes "usr1" to P and exits 0
//   --ready-file=P     created once the signal dispositions above are in place
//   --signal-pid-file=P  sends SIGUSR1 to the pid written in P (a cmd_stop that stops its daemon)
//   --say=TEXT         prints TEXT (no newline) to stdout
//   --print-lines=N    prints "line <i>" N times; --print-bytes=N prints N 'x' characters
//   --alloc=N          allocates and touches N bytes; exit 3 when the allocation fails
//   --say-on-usr2=TEXT while sleeping, prints TEXT and a newline to stdout at each SIGUSR2
//                      (default disposition: a write to a pipe without reader kills it)
//   --sleep-ms=N       sleeps N ms (-1: until a signal ends it)
//   --code=N           exit status (default 0)
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <new>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace {

volatile sig_atomic_t g_usr1 = 0;
void on_usr1(int) {
  g_usr1 = 1;
}
volatile sig_atomic_t g_usr2 = 0;
void on_usr2(int) {
  g_usr2 = 1;
}

void write_file(const std::string& path, const std::string& text) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << text;
  }
  std::rename(tmp.c_str(), path.c_str());
}

template <class T>
std::string joined(std::vector<T> v) {
  std::sort(v.begin(), v.end());
  std::string out;
  for (const auto& x : v) out += (out.empty() ? "" : ",") + std::to_string(x);
  return out;
}

/// The --report-file text (see the header comment). Gathered before anything is opened for
/// writing, so that the open fds are exactly the ones the process started with.
std::string report() {
  std::string out;
  uid_t ru = 0, eu = 0, su = 0;
  gid_t rg = 0, eg = 0, sg = 0;
  ::getresuid(&ru, &eu, &su);
  ::getresgid(&rg, &eg, &sg);
  out += "uid=" + std::to_string(ru) + "," + std::to_string(eu) + "," + std::to_string(su) + "\n";
  out += "gid=" + std::to_string(rg) + "," + std::to_string(eg) + "," + std::to_string(sg) + "\n";
  std::vector<gid_t> groups(static_cast<std::size_t>(std::max(::getgroups(0, nullptr), 0)));
  groups.resize(static_cast<std::size_t>(
      std::max(::getgroups(static_cast<int>(groups.size()), groups.data()), 0)));
  out += "groups=" + joined(groups) + "\n";
  for (char** e = environ; *e != nullptr; ++e) out += std::string("env=") + *e + "\n";
  std::vector<int> fds;
  if (DIR* d = ::opendir("/proc/self/fd")) {
    while (const dirent* ent = ::readdir(d)) {
      if (ent->d_name[0] == '.') continue;
      const int fd = std::atoi(ent->d_name);
      if (fd != ::dirfd(d)) fds.push_back(fd);  // not the listing's own fd
    }
    ::closedir(d);
  }
  std::ifstream status("/proc/self/status");
  for (std::string line; std::getline(status, line);) {
    for (const char* key : {"NoNewPrivs:", "CapInh:", "CapPrm:", "CapEff:", "CapAmb:"}) {
      if (line.rfind(key, 0) != 0) continue;
      std::string value = line.substr(std::strlen(key));
      value.erase(0, value.find_first_not_of(" \t"));
      out += std::string(key, std::strlen(key) - 1) + "=" + value + "\n";
    }
  }
  out += "fds=" + joined(fds) + "\n";
  char cwd[4096] = {};
  out += std::string("cwd=") + (::getcwd(cwd, sizeof cwd) != nullptr ? cwd : "?") + "\n";
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  std::map<std::string, std::string> flags;
  std::string all;
  for (int i = 0; i < argc; ++i) {
    all += argv[i];
    all += '\n';
    const std::string a = argv[i];
    if (a.rfind("--", 0) == 0) {
      const auto eq = a.find('=');
      if (eq != std::string::npos) flags[a.substr(2, eq - 2)] = a.substr(eq + 1);
    }
  }
  auto has = [&](const char* k) { return flags.count(k) != 0; };
  if (has("report-file")) write_file(flags["report-file"], report());
  if (has("argv-file")) write_file(flags["argv-file"], all);
  if (has("pid-file")) write_file(flags["pid-file"], std::to_string(::getpid()));
  if (has("rules-copy")) {
    std::ifstream in(flags["rules-file"]);
    std::stringstream text;
    if (in) text << in.rdbuf();
    write_file(flags["rules-copy"], in ? text.str() : "<missing>");
  }
  if (has("ignore-term")) ::signal(SIGTERM, SIG_IGN);
  const std::string marker = has("usr1-marker") ? flags["usr1-marker"] : "";
  if (!marker.empty()) ::signal(SIGUSR1, on_usr1);
  const std::string say_on_usr2 = has("say-on-usr2") ? flags["say-on-usr2"] : "";
  if (!say_on_usr2.empty()) ::signal(SIGUSR2, on_usr2);
  if (has("ready-file")) write_file(flags["ready-file"], "ready");
  if (has("signal-pid-file")) {
    std::ifstream in(flags["signal-pid-file"]);
    long pid = 0;
    if (in >> pid && pid > 0) ::kill(static_cast<pid_t>(pid), SIGUSR1);
  }
  if (has("say")) std::fputs(flags["say"].c_str(), stdout);
  if (has("print-lines")) {
    const long n = std::atol(flags["print-lines"].c_str());
    for (long i = 0; i < n; ++i) std::printf("line %ld\n", i);
  }
  if (has("print-bytes")) {
    const std::string x(static_cast<std::size_t>(std::atol(flags["print-bytes"].c_str())), 'x');
    std::fputs(x.c_str(), stdout);
  }
  std::fflush(stdout);
  if (has("alloc")) {
    const auto n = static_cast<std::size_t>(std::atoll(flags["alloc"].c_str()));
    char* p = static_cast<char*>(std::malloc(n));
    if (p == nullptr) return 3;
    std::memset(p, 1, n);
    std::free(p);
  }
  if (has("sleep-ms")) {
    const long ms = std::atol(flags["sleep-ms"].c_str());
    for (long waited = 0; ms < 0 || waited < ms; waited += 10) {
      if (g_usr1 != 0) break;
      if (g_usr2 != 0) {
        g_usr2 = 0;
        std::printf("%s\n", say_on_usr2.c_str());
        std::fflush(stdout);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }
  if (g_usr1 != 0) {
    write_file(marker, "usr1");
    return 0;
  }
  return has("code") ? std::atoi(flags["code"].c_str()) : 0;
}
