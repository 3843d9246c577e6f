// connection_limit: the user binary of the `connection-limit` package (bpf/connection-limit.md),
// a one-shot (`user_program_daemon: false`). The daemon loads connection_limit.bpf.o itself and
// seeds the count with the object's iter/tcp program, so this binary has nothing to load: it
// checks that the package's maps are pinned for the interface
// (<base>/<iface>/connection-limit/<V>/{cl_conn_count,cl_tcp_conns,cl_max_conn}) and have the
// expected definitions, logs the current count, the limit and the protected ports, and exits
// 0; it exits 1 (with the reason) when a map is missing or is not what the package declares,
// and 2 on an unusable command line. It changes nothing. Logs go to stderr.
#include <bpf/bpf.h>
#include <linux/bpf.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "companion_common.h"
#include "core/unique_fd.h"

namespace fs = std::filesystem;
namespace c = l3afd::companion;

namespace {

constexpr const char* kProg = "connection_limit";
constexpr const char* kPackage = "connection-limit";

const std::vector<c::OptionDef> kOptions = {
    {"iface", true, "interface the package is loaded on (required)"},
    {"version", true, "package version directory V (default latest)"},
    {"direction", true, "accepted and ignored"},
    {"log-dir", true, "accepted; logs go to stderr"},
    {"bpf-base", true, "bpffs base path (default /sys/fs/bpf)"},
};

void log(const std::string& m) {
  c::log(kProg, m);
}

struct Expected {
  const char* name;
  uint32_t type;
  uint32_t key_size;
  uint32_t value_size;
};

/// The maps this binary needs, as bpf/connection_limit.bpf.c declares them.
constexpr Expected kMaps[] = {
    {"cl_conn_count", BPF_MAP_TYPE_ARRAY, 4, 8},
    {"cl_tcp_conns", BPF_MAP_TYPE_HASH, 2, 4},
    {"cl_max_conn", BPF_MAP_TYPE_ARRAY, 4, 8},
};

}  // namespace

int main(int argc, char** argv) {
  const auto args = c::parse_args(argc, argv, kOptions);
  if (auto rc = c::handle_command_line(
          args, kProg, "--iface=<name> [--version=<V>] [--bpf-base=<path>]",
          "Checks that the connection-limit maps are pinned in "
          "<base>/<iface>/connection-limit/<V> and logs the\ncurrent connection "
          "count, the limit and the protected ports. Changes nothing; exits 0 "
          "if the\nmaps are there, 1 if not.",
          kOptions)) {
    return *rc;
  }
  auto get = [&](const char* k) -> const std::string* {
    auto it = args.values.find(k);
    return it == args.values.end() ? nullptr : &it->second;
  };
  const std::string* iface = get("iface");
  if (iface == nullptr) {
    log("error: --iface is required (see --help)");
    return 2;
  }
  if (auto e = c::check_iface_name(*iface); !e.empty()) {
    log("error: --iface: " + e);
    return 2;
  }
  std::string version = "latest";
  if (const auto* v = get("version")) version = *v;
  if (auto e = c::check_path_component(version); !e.empty()) {
    log("error: --version: " + e);
    return 2;
  }
  fs::path base = "/sys/fs/bpf";
  if (const auto* v = get("bpf-base")) {
    if (auto e = c::check_absolute_path(*v); !e.empty()) {
      log("error: --bpf-base: " + e);
      return 2;
    }
    base = *v;
  }
  if (get("log-dir") != nullptr) log("note: --log-dir is accepted; logging goes to stderr");

  const fs::path dir = base / *iface / kPackage / version;
  std::vector<l3afd::UniqueFd> owned;  // closed at exit
  std::vector<int> fds;
  for (const auto& m : kMaps) {
    const fs::path pin = dir / m.name;
    l3afd::UniqueFd fd(bpf_obj_get(pin.c_str()));
    if (!fd) {
      log("error: map " + std::string(m.name) + " is not pinned at " + pin.string() + " (" +
          std::strerror(errno) + "): is the connection-limit package (version " + version +
          ") loaded on " + *iface + "?");
      return 1;
    }
    bpf_map_info info{};
    uint32_t len = sizeof(info);
    if (bpf_obj_get_info_by_fd(fd.get(), &info, &len) != 0 || info.type != m.type ||
        info.key_size != m.key_size || info.value_size != m.value_size) {
      log("error: " + pin.string() + " is not the connection-limit map " + m.name +
          " (type or key/value size differ)");
      return 1;
    }
    fds.push_back(fd.get());
    owned.push_back(std::move(fd));
  }
  const uint32_t zero = 0;
  uint64_t count = 0;
  uint64_t limit = 0;
  if (bpf_map_lookup_elem(fds[0], &zero, &count) != 0 ||
      bpf_map_lookup_elem(fds[2], &zero, &limit) != 0) {
    log(std::string("error: read cl_conn_count[0] / cl_max_conn[0]: ") + std::strerror(errno));
    return 1;
  }
  std::vector<uint16_t> ports;
  uint16_t key = 0;
  const void* prev = nullptr;
  for (int i = 0; i < 1000 && bpf_map_get_next_key(fds[1], prev, &key) == 0; ++i) {
    ports.push_back(key);
    prev = &key;
  }
  std::sort(ports.begin(), ports.end());
  std::string list;
  for (uint16_t p : ports) list += (list.empty() ? "" : ",") + std::to_string(p);
  log("maps in " + dir.string() + ": " + std::to_string(count) + " connections counted, limit " +
      std::to_string(limit) + ", ports " + (list.empty() ? std::string("none") : list));
  return 0;
}
