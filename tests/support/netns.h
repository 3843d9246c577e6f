// Test fixtures for kernel tests: private namespaces, network namespaces and veth pairs that
// remove themselves, and a bounded UDP traffic sender. Test-only; not thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace l3afd::testing {

struct CommandResult {
  int exit_code = -1;  ///< -1 if the command could not run or was killed
  std::string output;  ///< stdout and stderr
};

/// Runs argv[0] (looked up in PATH) without a shell, waits for it, captures its output.
CommandResult run_command(const std::vector<std::string>& argv);

/// Moves this process into a private network and mount namespace (mount propagation private)
/// and mounts a fresh bpffs instance at /sys/fs/bpf (also over a host one). Must be called before any thread
/// is started. Returns an empty string on success, otherwise why it failed. Everything the
/// tests create in these namespaces (veths, qdiscs, pins) vanishes with the process.
std::string enter_private_namespaces();

/// A unique interface/namespace name: prefix + pid + counter, at most 15 characters.
std::string unique_name(std::string_view prefix);

/// A network namespace (`ip netns add`), deleted in the destructor.
class NetNs {
 public:
  NetNs();
  ~NetNs();
  NetNs(const NetNs&) = delete;
  NetNs& operator=(const NetNs&) = delete;

  const std::string& name() const { return name_; }
  /// Runs argv inside the namespace (`ip netns exec`).
  CommandResult exec(const std::vector<std::string>& argv) const;
  /// Opens a socket inside the namespace (setns on this thread, then back). -1 on failure.
  int socket_in(int domain, int type, int protocol) const;

 private:
  std::string name_;
};

/// A veth pair: `root_name()` stays in the caller's namespace with address 198.18.N.1/24, the
/// peer is moved into a new NetNs with 198.18.N.2/24; both up. Removed in the destructor.
class VethPair {
 public:
  VethPair();
  ~VethPair();
  VethPair(const VethPair&) = delete;
  VethPair& operator=(const VethPair&) = delete;

  /// Empty if construction succeeded, otherwise the failing command's output.
  const std::string& error() const { return error_; }
  const std::string& root_name() const { return root_; }
  const std::string& peer_name() const { return peer_; }
  const std::string& root_addr() const { return root_addr_; }
  const std::string& peer_addr() const { return peer_addr_; }
  const NetNs& peer_ns() const { return ns_; }

  /// Sends `count` UDP datagrams from the peer namespace to root_addr():port and receives them
  /// on the root side, waiting at most `wait_ms` for each. Returns how many arrived.
  int send_udp_from_peer(int count, uint16_t port = 9999, int wait_ms = 3000) const;

 private:
  NetNs ns_;
  std::string root_;
  std::string peer_;
  std::string root_addr_;
  std::string peer_addr_;
  std::string error_;
};

}  // namespace l3afd::testing
