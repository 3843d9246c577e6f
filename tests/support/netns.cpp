#include "support/netns.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sched.h>
#include <spawn.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>

extern char** environ;

namespace l3afd::testing {
namespace {

std::atomic<unsigned> g_counter{0};

std::string errno_text(const char* what) {
  return std::string(what) + ": " + std::strerror(errno);
}

}  // namespace

CommandResult run_command(const std::vector<std::string>& argv) {
  CommandResult r;
  int pipefd[2];
  if (::pipe2(pipefd, O_CLOEXEC) != 0) return r;
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, pipefd[1], 1);
  posix_spawn_file_actions_adddup2(&fa, pipefd[1], 2);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = -1;
  const int rc = ::posix_spawnp(&pid, args[0], &fa, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  ::close(pipefd[1]);
  if (rc != 0) {
    ::close(pipefd[0]);
    r.output = "spawn " + argv[0] + ": " + std::strerror(rc);
    return r;
  }
  char buf[4096];
  for (;;) {
    const ssize_t n = ::read(pipefd[0], buf, sizeof(buf));
    if (n > 0) {
      r.output.append(buf, static_cast<size_t>(n));
    } else if (n == 0 || errno != EINTR) {
      break;
    }
  }
  ::close(pipefd[0]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(status)) r.exit_code = WEXITSTATUS(status);
  return r;
}

std::string enter_private_namespaces() {
  if (::unshare(CLONE_NEWNET | CLONE_NEWNS) != 0) return errno_text("unshare");
  if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) {
    return errno_text("make mounts private");
  }
  // Always a fresh bpffs instance (each bpf mount is its own file system), also when the host
  // has one mounted: tests must neither see nor leave pins in the host's bpffs.
  if (::mount("bpffs", "/sys/fs/bpf", "bpf", 0, "mode=0700") != 0) {
    return errno_text("mount bpffs on /sys/fs/bpf");
  }
  // ip netns keeps its namespace files under /run/netns; give it a private tmpfs so that
  // nothing leaks to the host's /run if a test crashes.
  ::mkdir("/run/netns", 0755);
  if (::mount("tmpfs", "/run/netns", "tmpfs", 0, "mode=0755") != 0) {
    return errno_text("mount tmpfs on /run/netns");
  }
  auto lo = run_command({"ip", "link", "set", "lo", "up"});
  if (lo.exit_code != 0) return "ip link set lo up: " + lo.output;
  return {};
}

std::string unique_name(std::string_view prefix) {
  std::string s =
      std::string(prefix) + std::to_string(::getpid() % 100000) + "x" + std::to_string(g_counter++);
  if (s.size() > 15) s = s.substr(s.size() - 15);
  return s;
}

NetNs::NetNs() : name_(unique_name("l3n")) {
  auto r = run_command({"ip", "netns", "add", name_});
  if (r.exit_code != 0) name_.clear();
}

NetNs::~NetNs() {
  if (!name_.empty()) (void)run_command({"ip", "netns", "del", name_});
}

CommandResult NetNs::exec(const std::vector<std::string>& argv) const {
  std::vector<std::string> full{"ip", "netns", "exec", name_};
  full.insert(full.end(), argv.begin(), argv.end());
  return run_command(full);
}

int NetNs::socket_in(int domain, int type, int protocol) const {
  const int self = ::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
  const int target = ::open(("/run/netns/" + name_).c_str(), O_RDONLY | O_CLOEXEC);
  int fd = -1;
  if (self >= 0 && target >= 0 && ::setns(target, CLONE_NEWNET) == 0) {
    fd = ::socket(domain, type, protocol);
    if (::setns(self, CLONE_NEWNET) != 0) std::abort();  // the thread would stay in the wrong ns
  }
  if (self >= 0) ::close(self);
  if (target >= 0) ::close(target);
  return fd;
}

VethPair::VethPair() {
  const unsigned n = g_counter++ % 250 + 1;
  root_ = unique_name("l3v");
  peer_ = unique_name("l3p");
  root_addr_ = "198.18." + std::to_string(n) + ".1";
  peer_addr_ = "198.18." + std::to_string(n) + ".2";
  if (ns_.name().empty()) {
    error_ = "ip netns add failed";
    return;
  }
  const std::vector<std::vector<std::string>> steps = {
      {"ip", "link", "add", root_, "type", "veth", "peer", "name", peer_, "netns", ns_.name()},
      {"ip", "addr", "add", root_addr_ + "/24", "dev", root_},
      {"ip", "link", "set", root_, "up"},
      {"ip", "-n", ns_.name(), "addr", "add", peer_addr_ + "/24", "dev", peer_},
      {"ip", "-n", ns_.name(), "link", "set", peer_, "up"},
      {"ip", "-n", ns_.name(), "link", "set", "lo", "up"},
  };
  for (const auto& s : steps) {
    auto r = run_command(s);
    if (r.exit_code != 0) {
      error_ = s[0] + " " + s[1] + " " + s[2] + ": " + r.output;
      return;
    }
  }
}

VethPair::~VethPair() {
  // Deleting one end deletes the pair; the namespace (and anything left in it) goes with ns_.
  (void)run_command({"ip", "link", "del", root_});
}

int VethPair::send_udp_from_peer(int count, uint16_t port, int wait_ms) const {
  const int rx = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  const int tx = ns_.socket_in(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  int received = 0;
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(port);
  ::inet_pton(AF_INET, root_addr_.c_str(), &to.sin_addr);
  timeval tv{wait_ms / 1000, (wait_ms % 1000) * 1000};
  if (rx >= 0 && tx >= 0 && ::bind(rx, reinterpret_cast<sockaddr*>(&to), sizeof(to)) == 0 &&
      ::setsockopt(rx, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) == 0) {
    const char payload[] = "l3afd-test";
    for (int i = 0; i < count; ++i) {
      (void)::sendto(tx, payload, sizeof(payload), 0, reinterpret_cast<sockaddr*>(&to), sizeof(to));
      char buf[64];
      if (::recv(rx, buf, sizeof(buf), 0) > 0) ++received;
    }
  }
  if (rx >= 0) ::close(rx);
  if (tx >= 0) ::close(tx);
  return received;
}

}  // namespace l3afd::testing
