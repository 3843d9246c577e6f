#include "payloads.h"

#include <algorithm>
#include <cstdio>

namespace l3afd::bench {

namespace {

const char* hook_key(Hook h) {
  switch (h) {
    case Hook::XdpIngress: return "xdp_ingress";
    case Hook::TcIngress: return "tc_ingress";
    case Hook::TcEgress: return "tc_egress";
  }
  return "";
}

const char* package_of(Hook h) {
  return h == Hook::XdpIngress ? "xdp-counter" : "tc-counter";
}

std::string program(Hook h) {
  const bool xdp = h == Hook::XdpIngress;
  const std::string stem = xdp ? "xdp_counter" : "tc_counter";
  return std::string("{\"name\":\"") + package_of(h) + "\",\"seq_id\":1,\"artifact\":\"l3af_" +
         stem + ".tar.gz\",\"map_name\":\"" + stem + "_next_prog\",\"version\":\"latest\"," +
         "\"admin_status\":\"enabled\",\"prog_type\":\"" + (xdp ? "xdp" : "tc") +
         "\",\"object_file\":\"" + stem + ".bpf.o\",\"entry_function_name\":\"" + stem + "\"}";
}

/// The header of one entry up to the opening bracket of its xdp_ingress list (used by the chain
/// and the companion payloads, which both name one interface's xdp_ingress only).
std::string chain_entry_head(const std::string& host, const std::string& iface) {
  return "[{\"host_name\":" + json_string(host) + ",\"iface\":" + json_string(iface) +
         ",\"bpf_programs\":{\"xdp_ingress\":[";
}

template <typename PerHook>
std::string build(const std::string& host, const std::vector<IfaceHooks>& entries, PerHook item) {
  std::string out = "[";
  for (std::size_t i = 0; i < entries.size(); ++i) {
    if (i > 0) out += ",";
    out += "{\"host_name\":" + json_string(host) + ",\"iface\":" + json_string(entries[i].iface) +
           ",\"bpf_programs\":{";
    for (std::size_t j = 0; j < entries[i].hooks.size(); ++j) {
      const Hook h = entries[i].hooks[j];
      if (j > 0) out += ",";
      out += std::string("\"") + hook_key(h) + "\":[" + item(h) + "]";
    }
    out += "}}";
  }
  return out + "]";
}

}  // namespace

std::string json_string(const std::string& s) {
  std::string out = "\"";
  for (const char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(c));
      out += buf;
    } else {
      out += c;
    }
  }
  return out + "\"";
}

std::string add_payload(const std::string& host, const std::vector<IfaceHooks>& entries) {
  return build(host, entries, program);
}

std::string delete_payload(const std::string& host, const std::vector<IfaceHooks>& entries) {
  return build(host, entries, [](Hook h) { return std::string("\"") + package_of(h) + "\""; });
}

std::string chain_payload(const std::string& host, const std::string& iface,
                          const std::vector<ChainLink>& links) {
  std::string out = chain_entry_head(host, iface);
  for (std::size_t i = 0; i < links.size(); ++i) {
    const std::string c(1, links[i].letter);
    if (i > 0) out += ",";
    out += "{\"name\":\"chain-" + c + "\",\"seq_id\":" + std::to_string(links[i].seq_id) +
           ",\"artifact\":\"l3af_chain_" + c +
           ".tar.gz\",\"map_name\":\"chain_next\",\"version\":\"1.0\","
           "\"admin_status\":\"enabled\",\"prog_type\":\"xdp\","
           "\"object_file\":\"xdp_chain_counter.bpf.o\","
           "\"entry_function_name\":\"xdp_chain_counter\"}";
  }
  return out + "]}}]";
}

std::string chain_delete_payload(const std::string& host, const std::string& iface,
                                 const std::string& letters) {
  std::string out = chain_entry_head(host, iface);
  for (std::size_t i = 0; i < letters.size(); ++i) {
    out += std::string(i > 0 ? "," : "") + "\"chain-" + letters[i] + "\"";
  }
  return out + "]}}]";
}

std::string companion_add_payload(const std::string& host, const std::string& iface,
                                  const std::string& pid_file) {
  return chain_entry_head(host, iface) +
         "{\"name\":\"test-companion\",\"seq_id\":1,"
         "\"artifact\":\"l3af_test_companion.tar.gz\",\"map_name\":\"xdp_counter_next_prog\","
         "\"cmd_start\":\"test_companion\",\"version\":\"1.0\",\"user_program_daemon\":true,"
         "\"admin_status\":\"enabled\",\"prog_type\":\"xdp\","
         "\"object_file\":\"xdp_counter.bpf.o\",\"entry_function_name\":\"xdp_counter\","
         "\"start_args\":{\"pid-file\":" +
         json_string(pid_file) + ",\"sleep-ms\":\"-1\"}}]}}]";
}

std::string companion_delete_payload(const std::string& host, const std::string& iface) {
  return chain_entry_head(host, iface) + "\"test-companion\"]}}]";
}

std::string monitor_add_payload(const std::string& host, const std::string& iface, int series) {
  std::string out = chain_entry_head(host, iface) +
                    "{\"name\":\"bench-monitor\",\"seq_id\":1,"
                    "\"artifact\":\"l3af_bench_monitor.tar.gz\","
                    "\"map_name\":\"bench_monitor_next_prog\",\"version\":\"1.0\","
                    "\"admin_status\":\"enabled\",\"prog_type\":\"xdp\","
                    "\"object_file\":\"bench_monitor.bpf.o\","
                    "\"entry_function_name\":\"bench_monitor\"";
  if (series > 0) {
    static constexpr const char* kAggregators[] = {"scalar", "max-rate", "avg"};
    out += ",\"monitor_maps\":[";
    for (int i = 0, first = 0; first < series; ++i, first += kMonitorKeysPerEntry) {
      const int last = std::min(first + kMonitorKeysPerEntry, series) - 1;
      if (i > 0) out += ",";
      out += std::string("{\"name\":\"") +
             (i % 2 == 0 ? "bench_counters" : "bench_percpu_counters") +
             "\",\"key\":" + std::to_string(first) + ",\"key_end\":" + std::to_string(last) +
             ",\"aggregator\":\"" + kAggregators[i % 3] + "\"}";
    }
    out += "]";
  }
  return out + "}]}}]";
}

std::string monitor_delete_payload(const std::string& host, const std::string& iface) {
  return chain_entry_head(host, iface) + "\"bench-monitor\"]}}]";
}

}  // namespace l3afd::bench
