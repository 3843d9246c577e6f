// Test helpers for the connection-limit object: load it with libbpf (pinning disabled, so every
// test gets fresh maps), read and write its 1-entry maps, attach the tracker, run the seeding
// iterator; and RAII TCP sockets. Test-only; not thread-safe.
#pragma once

#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

namespace l3afd::cl_test {

inline const std::string kObjectDir = L3AFD_BPF_OBJECT_DIR;
inline const std::string kObject = kObjectDir + "/connection_limit.bpf.o";

inline std::string errno_text(const std::string& what, int err) {
  return what + ": " + std::strerror(err < 0 ? -err : err);
}

/// A file descriptor closed on destruction.
class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() { reset(); }
  Fd(Fd&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
  Fd& operator=(Fd&& o) noexcept {
    if (this != &o) {
      reset();
      fd_ = std::exchange(o.fd_, -1);
    }
    return *this;
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  explicit operator bool() const { return fd_ >= 0; }
  void reset() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_ = -1;
};

/// Inode number of a network namespace file (what cl_netns[0] holds), 0 on error.
inline uint64_t netns_inode(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 ? static_cast<uint64_t>(st.st_ino) : 0;
}

/// An opened and loaded bpf_object, closed (with its links) on destruction.
class BpfObject {
 public:
  BpfObject() = default;
  ~BpfObject() {
    for (auto* l : links_) bpf_link__destroy(l);
    if (obj_) bpf_object__close(obj_);
  }
  BpfObject(const BpfObject&) = delete;
  BpfObject& operator=(const BpfObject&) = delete;

  /// Opens and loads `path` with pinning disabled. `conn_info_max` > 0 overrides the size of
  /// cl_conn_info (overflow tests). Empty string on success, else the reason.
  std::string load(const std::string& path, uint32_t conn_info_max = 0) {
    obj_ = bpf_object__open_file(path.c_str(), nullptr);
    if (!obj_) return errno_text("open " + path, errno);
    bpf_map* m = nullptr;
    bpf_object__for_each_map(m, obj_) {
      const int err = bpf_map__set_pin_path(m, nullptr);
      if (err) return errno_text("unpin " + std::string(bpf_map__name(m)), err);
    }
    if (conn_info_max > 0) {
      bpf_map* info = bpf_object__find_map_by_name(obj_, "cl_conn_info");
      if (!info) return "no map cl_conn_info";
      const int err = bpf_map__set_max_entries(info, conn_info_max);
      if (err) return errno_text("set_max_entries", err);
    }
    const int err = bpf_object__load(obj_);
    if (err) return errno_text("load " + path, err);
    return {};
  }

  bpf_object* get() const { return obj_; }

  int map_fd(const char* name) const {
    const bpf_map* m = bpf_object__find_map_by_name(obj_, name);
    return m ? bpf_map__fd(m) : -1;
  }
  int prog_fd(const char* name) const {
    const bpf_program* p = bpf_object__find_program_by_name(obj_, name);
    return p ? bpf_program__fd(p) : -1;
  }

  /// Value at key 0 of a u32 -> u64 map; UINT64_MAX if the lookup fails.
  uint64_t get0(const char* map) const {
    uint32_t key = 0;
    uint64_t v = 0;
    return bpf_map_lookup_elem(map_fd(map), &key, &v) == 0 ? v : UINT64_MAX;
  }
  bool set0(const char* map, uint64_t v) const {
    uint32_t key = 0;
    return bpf_map_update_elem(map_fd(map), &key, &v, BPF_ANY) == 0;
  }
  bool list_port(uint16_t port) const {
    const uint32_t one = 1;
    return bpf_map_update_elem(map_fd("cl_tcp_conns"), &port, &one, BPF_ANY) == 0;
  }
  /// Number of entries of cl_conn_info (bounded walk).
  uint64_t conn_info_entries() const {
    const int fd = map_fd("cl_conn_info");
    uint64_t key = 0, next = 0;
    uint64_t n = 0;
    const uint64_t* prev = nullptr;
    for (int i = 0; i < 100000 && bpf_map_get_next_key(fd, prev, &next) == 0; ++i) {
      ++n;
      key = next;
      prev = &key;
    }
    return n;
  }

  /// Attaches a program by its section (tp_btf, tracepoint); empty on success.
  std::string attach(const char* prog) {
    bpf_program* p = bpf_object__find_program_by_name(obj_, prog);
    if (!p) return std::string("no program ") + prog;
    bpf_link* l = bpf_program__attach(p);
    if (!l) return errno_text(std::string("attach ") + prog, errno);
    links_.push_back(l);
    return {};
  }

  /// Runs an iter/* program once: creates an iterator in this thread's network namespace and
  /// reads it to EOF. Empty on success.
  std::string run_iter(const char* prog) {
    bpf_program* p = bpf_object__find_program_by_name(obj_, prog);
    if (!p) return std::string("no program ") + prog;
    bpf_link* l = bpf_program__attach_iter(p, nullptr);
    if (!l) return errno_text(std::string("attach_iter ") + prog, errno);
    links_.push_back(l);
    Fd it(bpf_iter_create(bpf_link__fd(l)));
    if (!it) return errno_text("bpf_iter_create", errno);
    char buf[4096];
    for (int i = 0; i < 100000; ++i) {  // the program writes nothing: EOF at the first read
      const ssize_t n = ::read(it.get(), buf, sizeof(buf));
      if (n == 0) return {};
      if (n < 0 && errno != EINTR) return errno_text("read iterator", errno);
    }
    return "iterator did not reach EOF";
  }

 private:
  bpf_object* obj_ = nullptr;
  std::vector<bpf_link*> links_;
};

// ---------------------------------------------------------------------------------------------
// TCP sockets

/// sockaddr for an IPv4 or IPv6 literal.
struct Addr {
  sockaddr_storage ss{};
  socklen_t len = 0;
  int family = AF_UNSPEC;
};

inline Addr make_addr(const std::string& ip, uint16_t port) {
  Addr a;
  if (ip.find(':') == std::string::npos) {
    auto* s = reinterpret_cast<sockaddr_in*>(&a.ss);
    s->sin_family = AF_INET;
    s->sin_port = htons(port);
    if (::inet_pton(AF_INET, ip.c_str(), &s->sin_addr) == 1) {
      a.len = sizeof(*s);
      a.family = AF_INET;
    }
  } else {
    auto* s = reinterpret_cast<sockaddr_in6*>(&a.ss);
    s->sin6_family = AF_INET6;
    s->sin6_port = htons(port);
    if (::inet_pton(AF_INET6, ip.c_str(), &s->sin6_addr) == 1) {
      a.len = sizeof(*s);
      a.family = AF_INET6;
    }
  }
  return a;
}

/// Binds `fd` (a fresh TCP socket of the address's family) to ip:port and listens. For an
/// IPv6 wildcard the socket is dual-stack (IPV6_V6ONLY off). Returns an invalid Fd on error.
inline Fd listen_on(Fd fd, const std::string& ip, uint16_t port) {
  const Addr a = make_addr(ip, port);
  const int one = 1, zero = 0;
  if (!fd || a.len == 0) return Fd();
  (void)::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  if (a.family == AF_INET6) {
    (void)::setsockopt(fd.get(), IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
  }
  if (::bind(fd.get(), reinterpret_cast<const sockaddr*>(&a.ss), a.len) != 0) return Fd();
  if (::listen(fd.get(), 128) != 0) return Fd();
  return fd;
}

inline Fd tcp_socket(int family) {
  return Fd(::socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0));
}

/// Connections accepted from one listener: both ends kept open until closed here or destroyed.
struct Conn {
  Fd client;
  Fd server;
};

/// Opens one connection: blocking connect of `client` (a fresh socket) to ip:port, then accept
/// on `listener` — accept returns once the server-side socket is ESTABLISHED, i.e. after the
/// tracker saw it. Returns false on any error.
inline bool open_conn(Fd client, int listener, const std::string& ip, uint16_t port, Conn& out) {
  const Addr a = make_addr(ip, port);
  if (!client || a.len == 0) return false;
  if (::connect(client.get(), reinterpret_cast<const sockaddr*>(&a.ss), a.len) != 0) return false;
  Fd server(::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC));
  if (!server) return false;
  out.client = std::move(client);
  out.server = std::move(server);
  return true;
}

}  // namespace l3afd::cl_test
