// ratelimiting: the user binary of the `ratelimiting` package (bpf/ratelimiting.md), a daemon
// (`user_program_daemon: true`). It loads ratelimiting.bpf.o from its own directory, with the
// program's map directory <base>/<iface>/ratelimiting/<V> as libbpf's pin root (every map of
// the object is pinned there by name, so the next array lands at MapNamePath), writes the rate
// and the ports, then:
//   * with --map-name=<array pin> (chaining; the daemon passes a staging array, or a Go l3afd
//     the predecessor's array): writes its program into slot 0 of that array;
//   * without it (no chaining): attaches the program to the interface's XDP hook through a
//     bpf_link pinned at <base>/links/<iface>/ratelimiting/<V>/ratelimiting_xdp (a link pinned
//     there by an earlier run is switched to the new program instead).
// It then runs until SIGTERM or SIGINT and exits 0. On exit it never touches the chain or the
// map pins: with chaining the daemon owns the chain from then on. Without chaining it removes
// its link pin (which detaches the program), because no one else manages that attachment.
// Logs go to stderr.
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>
#include <net/if.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "companion_common.h"

namespace fs = std::filesystem;
namespace c = l3afd::companion;

namespace {

constexpr const char* kProg = "ratelimiting";
constexpr const char* kPackage = "ratelimiting";
constexpr const char* kObject = "ratelimiting.bpf.o";
constexpr const char* kEntry = "_xdp_ratelimiting";
constexpr uint64_t kMaxRate = 1000000000000000ULL;  // 10^15: the program's own cap
constexpr std::size_t kMaxPorts = 50;               // rl_ports_map max_entries

const std::vector<c::OptionDef> kOptions = {
    {"iface", true, "interface (required)"},
    {"direction", true, "hook; only xdpingress is possible (default xdpingress)"},
    {"version", true, "package version directory V (default latest)"},
    {"map-name", true, "pin of the program array whose slot 0 receives the program (chaining)"},
    {"log-dir", true, "accepted; logs go to stderr"},
    {"rules-file", true, "accepted; not used"},
    {"ports", true, "comma-separated destination ports to limit, e.g. 80,8080 (at most 50)"},
    {"rate", true, "accepted new connections per second over all listed ports"},
    {"bpf-base", true, "bpffs base path (default /sys/fs/bpf)"},
};

void log(const std::string& m) {
  c::log(kProg, m);
}

int libbpf_print(enum libbpf_print_level level, const char* fmt, va_list args) {
  if (level == LIBBPF_DEBUG) return 0;
  std::fprintf(stderr, "%s: libbpf: ", kProg);
  return std::vfprintf(stderr, fmt, args);
}

struct ObjectClose {
  void operator()(bpf_object* o) const noexcept { bpf_object__close(o); }
};
using Object = std::unique_ptr<bpf_object, ObjectClose>;

std::string errstr(int err) {
  return std::strerror(err < 0 ? -err : err);
}

/// Info of the map pinned at `path`; fd -1 if there is none.
int open_pinned_map(const fs::path& path, bpf_map_info& info) {
  const int fd = bpf_obj_get(path.c_str());
  if (fd < 0) return -1;
  uint32_t len = sizeof(info);
  if (bpf_obj_get_info_by_fd(fd, &info, &len) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

struct Config {
  std::string iface;
  std::string version = "latest";
  fs::path base = "/sys/fs/bpf";
  std::optional<fs::path> map_name;
  std::optional<std::vector<uint16_t>> ports;
  std::optional<uint64_t> rate;
};

/// Validates the command line; exit code 2 with a message on any unusable value.
std::optional<Config> configure(const c::ParsedArgs& a) {
  Config cfg;
  auto bad = [](const std::string& m) -> std::optional<Config> {
    log("error: " + m + " (see --help)");
    return std::nullopt;
  };
  auto get = [&](const char* k) -> const std::string* {
    auto it = a.values.find(k);
    return it == a.values.end() ? nullptr : &it->second;
  };
  if (const auto* v = get("iface")) {
    cfg.iface = *v;
  } else {
    return bad("--iface is required");
  }
  if (auto e = c::check_iface_name(cfg.iface); !e.empty()) return bad("--iface: " + e);
  if (const auto* v = get("direction"); v != nullptr && *v != "xdpingress") {
    return bad("--direction=" + *v + ": this program runs only at xdpingress");
  }
  if (const auto* v = get("version")) cfg.version = *v;
  if (auto e = c::check_path_component(cfg.version); !e.empty()) return bad("--version: " + e);
  if (const auto* v = get("bpf-base")) {
    if (auto e = c::check_absolute_path(*v); !e.empty()) return bad("--bpf-base: " + e);
    cfg.base = *v;
  }
  if (const auto* v = get("map-name")) {
    if (auto e = c::check_absolute_path(*v); !e.empty()) return bad("--map-name: " + e);
    cfg.map_name = fs::path(*v);
  }
  if (const auto* v = get("ports")) {
    cfg.ports = c::parse_ports(*v);
    if (!cfg.ports) return bad("--ports=" + *v + ": expected ports 1-65535 separated by commas");
    if (cfg.ports->size() > kMaxPorts) return bad("--ports: at most 50 ports");
  }
  if (const auto* v = get("rate")) {
    cfg.rate = c::parse_uint(*v, kMaxRate);
    if (!cfg.rate) return bad("--rate=" + *v + ": expected an integer from 0 to 10^15");
  }
  if (get("log-dir") != nullptr) log("note: --log-dir is accepted; logging goes to stderr");
  if (get("rules-file") != nullptr) log("note: --rules-file is accepted and not used");
  return cfg;
}

/// rl_config_map[0] = rate; rl_ports_map := exactly the listed ports (host byte order, value 1).
bool write_config(bpf_object* obj, const Config& cfg) {
  if (cfg.rate) {
    const int fd = bpf_object__find_map_fd_by_name(obj, "rl_config_map");
    const uint32_t key = 0;
    const uint64_t value = *cfg.rate;
    if (fd < 0 || bpf_map_update_elem(fd, &key, &value, BPF_ANY) != 0) {
      log("error: write rl_config_map[0]: " + errstr(errno));
      return false;
    }
    log("rate " + std::to_string(*cfg.rate) + " new connections per second");
  }
  if (cfg.ports) {
    const int fd = bpf_object__find_map_fd_by_name(obj, "rl_ports_map");
    if (fd < 0) {
      log("error: the object has no rl_ports_map");
      return false;
    }
    // The map may be reused from an earlier run: drop the ports no longer listed.
    std::vector<uint16_t> stale;
    uint16_t key = 0;
    const void* prev = nullptr;
    for (std::size_t i = 0; i < 2 * kMaxPorts && bpf_map_get_next_key(fd, prev, &key) == 0; ++i) {
      bool listed = false;
      for (uint16_t p : *cfg.ports) listed = listed || p == key;
      if (!listed) stale.push_back(key);
      prev = &key;
    }
    for (uint16_t p : stale) (void)bpf_map_delete_elem(fd, &p);
    std::string list;
    for (uint16_t p : *cfg.ports) {
      const uint8_t one = 1;
      if (bpf_map_update_elem(fd, &p, &one, BPF_ANY) != 0) {
        log("error: write rl_ports_map[" + std::to_string(p) + "]: " + errstr(errno));
        return false;
      }
      list += (list.empty() ? "" : ",") + std::to_string(p);
    }
    log("limited ports: " + (list.empty() ? std::string("none") : list));
  }
  return true;
}

/// Chaining: the program into slot 0 of the array pinned at `pin`.
bool write_slot(const fs::path& pin, int prog_fd) {
  bpf_map_info info{};
  const int fd = open_pinned_map(pin, info);
  if (fd < 0) {
    log("error: --map-name: no program array pinned at " + pin.string() + ": " + errstr(errno));
    return false;
  }
  if (info.type != BPF_MAP_TYPE_PROG_ARRAY || info.key_size != 4 || info.max_entries < 1) {
    ::close(fd);
    log("error: --map-name: " + pin.string() + " is not a program array");
    return false;
  }
  const uint32_t slot = 0;
  const int rc = bpf_map_update_elem(fd, &slot, &prog_fd, BPF_ANY);
  const int err = errno;
  ::close(fd);
  if (rc != 0) {
    log("error: write the program into slot 0 of " + pin.string() + ": " + errstr(err));
    return false;
  }
  log("program written into slot 0 of " + pin.string());
  return true;
}

/// No chaining: attach to the XDP hook by a pinned link (or switch the link pinned there).
bool attach_link(const Config& cfg, int prog_fd, const fs::path& link_pin) {
  const unsigned ifindex = ::if_nametoindex(cfg.iface.c_str());
  if (ifindex == 0) {
    log("error: interface " + cfg.iface + " does not exist");
    return false;
  }
  if (const int old = bpf_obj_get(link_pin.c_str()); old >= 0) {
    const int rc = bpf_link_update(old, prog_fd, nullptr);
    const int err = errno;
    ::close(old);
    if (rc != 0) {
      log("error: switch the link pinned at " + link_pin.string() + ": " + errstr(err));
      return false;
    }
    log("switched the XDP link pinned at " + link_pin.string() + " to the new program");
    return true;
  }
  if (auto e = c::make_dirs(link_pin.parent_path()); !e.empty()) {
    log("error: " + e);
    return false;
  }
  const int link = bpf_link_create(prog_fd, static_cast<int>(ifindex), BPF_XDP, nullptr);
  if (link < 0) {
    log("error: attach to the XDP hook of " + cfg.iface + ": " + errstr(errno));
    return false;
  }
  const int rc = bpf_obj_pin(link, link_pin.c_str());
  const int err = errno;
  ::close(link);  // the pin (if made) keeps it attached
  if (rc != 0) {
    log("error: pin the XDP link at " + link_pin.string() + ": " + errstr(err));
    return false;
  }
  log("attached to the XDP hook of " + cfg.iface + ", link pinned at " + link_pin.string());
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  const auto args = c::parse_args(argc, argv, kOptions);
  if (auto rc = c::handle_command_line(
          args, kProg, "--iface=<name> [options]",
          "Loads ratelimiting.bpf.o from its own directory and pins its maps in "
          "<base>/<iface>/ratelimiting/<version>;\nwith --map-name writes the "
          "program into slot 0 of that array, otherwise attaches it to the XDP\n"
          "hook by a link pinned under <base>/links. Runs until SIGTERM/SIGINT.",
          kOptions)) {
    return *rc;
  }
  const auto cfg = configure(args);
  if (!cfg) return 2;

  // Block the stop signals before anything is set up: they are taken with sigwait below, so a
  // SIGTERM arriving during the load is not lost and ends the process only through exit 0.
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGTERM);
  sigaddset(&stop, SIGINT);
  sigprocmask(SIG_BLOCK, &stop, nullptr);

  libbpf_set_print(libbpf_print);
  const fs::path dir = c::own_directory();
  const fs::path object_file = dir / kObject;
  const fs::path map_dir = cfg->base / cfg->iface / kPackage / cfg->version;
  if (auto e = c::make_dirs(map_dir); !e.empty()) {
    log("error: " + e);
    return 1;
  }
  LIBBPF_OPTS(bpf_object_open_opts, open_opts, .pin_root_path = map_dir.c_str());
  Object obj(bpf_object__open_file(object_file.c_str(), &open_opts));
  if (!obj) {
    log("error: open " + object_file.string() + ": " + errstr(errno));
    return 1;
  }
  bpf_program* prog = bpf_object__find_program_by_name(obj.get(), kEntry);
  if (prog == nullptr) {
    log(std::string("error: ") + object_file.string() + " has no program " + kEntry);
    return 1;
  }
  if (int err = bpf_object__load(obj.get()); err != 0) {
    log("error: load " + object_file.string() + ": " + errstr(err));
    return 1;
  }
  const int prog_fd = bpf_program__fd(prog);
  log("loaded " + object_file.string() + ", maps pinned in " + map_dir.string());
  if (!write_config(obj.get(), *cfg)) return 1;

  fs::path link_pin;
  if (cfg->map_name) {
    if (!write_slot(*cfg->map_name, prog_fd)) return 1;
  } else {
    link_pin = cfg->base / "links" / cfg->iface / kPackage / cfg->version /
               (std::string(kPackage) + "_xdp");
    if (!attach_link(*cfg, prog_fd, link_pin)) return 1;
  }

  int sig = 0;
  while (sigwait(&stop, &sig) != 0) {
  }
  log(std::string("stopping on ") + (sig == SIGTERM ? "SIGTERM" : "SIGINT"));
  if (!link_pin.empty()) {
    // Without chaining the attachment is ours: removing the pin detaches the program.
    if (::unlink(link_pin.c_str()) != 0 && errno != ENOENT) {
      log("warning: remove link pin " + link_pin.string() + ": " + errstr(errno));
    }
  }
  // With chaining nothing is undone: the slot, the next array and the maps stay pinned and the
  // daemon manages the chain.
  return 0;
}
