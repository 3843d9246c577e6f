#include <chrono>
#include <cstdio>
#include <thread>

#include "measure.h"
#include "payloads.h"
#include "support/netns.h"

namespace l3afd::bench {

namespace {

using Clock = std::chrono::steady_clock;

/// Time given to the daemon's threads to finish freeing after the last answer, before a read.
constexpr std::chrono::milliseconds kSettle{300};

/// The daemon's default retire-grace-period ([l3afd], left unset in the bench config): with
/// chaining, programs that leave the data path are unloaded only this long after the answer.
/// The chained "_deleted" read waits for it in addition to kSettle.
constexpr std::chrono::milliseconds kRetireGrace{1000};

/// The chained memory scenario: chain-a … chain-e (seq 10 … 50) on each of 20 interfaces.
constexpr int kChainedInterfaces = 20;
constexpr char kChainedLetters[] = "abcde";

struct Scenario {
  int programs;
  int interfaces;
  std::string key;  ///< metric key stem, e.g. "60prog_20if"
};

/// `programs` programs on exactly `interfaces` interfaces, non-chained: three hooks (xdp,
/// tc ingress, tc egress) per interface in order, the last interface taking the remainder.
std::vector<IfaceHooks> spread(const Scenario& s, const std::vector<std::string>& names) {
  std::vector<IfaceHooks> out;
  int left = s.programs;
  const Hook all[] = {Hook::XdpIngress, Hook::TcIngress, Hook::TcEgress};
  for (int i = 0; i < s.interfaces && left > 0; ++i) {
    IfaceHooks e{names[static_cast<std::size_t>(i)], {}};
    for (int h = 0; h < 3 && left > 0; ++h, --left) e.hooks.push_back(all[h]);
    out.push_back(std::move(e));
  }
  return out;
}

std::string read_rss(const Daemon& d, std::vector<double>& into) {
  std::this_thread::sleep_for(kSettle);
  auto v = d.rss_mib();
  if (!v) return "cannot read VmRSS of pid " + std::to_string(d.pid());
  into.push_back(*v);
  return {};
}

}  // namespace

std::string measure_memory(const BenchEnv& env, const BenchSizes& sizes,
                           std::vector<double> idle_samples, Table& out) {
  const std::vector<Scenario> scenarios = {{60, 20, "60prog_20if"}, {100, 34, "100prog_34if"}};
  const auto& names = env.ifaces->names();
  struct Samples {
    std::vector<double> loaded, after_delete, deploy_ms;
  };
  std::vector<Samples> samples(scenarios.size());
  for (int rep = 0; rep < sizes.rss_reps; ++rep) {
    for (std::size_t k = 0; k < scenarios.size(); ++k) {
      const auto& sc = scenarios[k];
      if (static_cast<int>(names.size()) < sc.interfaces) {
        return "need " + std::to_string(sc.interfaces) + " interfaces, have " +
               std::to_string(names.size());
      }
      const auto layout = spread(sc, names);
      if (static_cast<int>(layout.size()) != sc.interfaces) {
        return std::to_string(sc.programs) + " programs do not fill " +
               std::to_string(sc.interfaces) + " interfaces without chaining";
      }
      std::string err;
      auto d = start_daemon(env, err);
      if (!d) return err;
      if (err = read_rss(*d, idle_samples); !err.empty()) return err;
      std::unique_ptr<test::HttpConnection> conn;
      const auto t0 = Clock::now();
      for (const auto& e : layout) {  // one request per interface, as an operator would
        err = post_ok(conn, d->api_port(), "/l3af/configs/v1/add", add_payload(env.host, {e}));
        if (!err.empty()) return err;
      }
      samples[k].deploy_ms.push_back(
          std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
      if (err = read_rss(*d, samples[k].loaded); !err.empty()) return err;
      for (const auto& e : layout) {
        err =
            post_ok(conn, d->api_port(), "/l3af/configs/v1/delete", delete_payload(env.host, {e}));
        if (!err.empty()) return err;
      }
      if (err = read_rss(*d, samples[k].after_delete); !err.empty()) return err;
      conn.reset();
      if (err = d->stop(); !err.empty()) return err;
      std::fprintf(stderr, "bench:   memory %s round %d/%d\n", sc.key.c_str(), rep + 1,
                   sizes.rss_reps);
    }
  }
  out.rows.push_back({"rss_idle", "MiB", summarize(idle_samples), false, Better::Lower});
  for (std::size_t k = 0; k < scenarios.size(); ++k) {
    const auto& key = scenarios[k].key;
    out.rows.push_back({"rss_" + key, "MiB", summarize(samples[k].loaded), false, Better::Lower});
    out.rows.push_back({"rss_" + key + "_deleted", "MiB", summarize(samples[k].after_delete), false,
                        Better::Lower});
    out.rows.push_back(
        {"deploy_" + key, "ms", summarize(samples[k].deploy_ms), false, Better::Lower});
  }
  out.notes.push_back(
      "VmRSS of /proc/<pid>/status, read " + std::to_string(kSettle.count()) +
      " ms after the last answer; every sample is a fresh daemon (idle: read after ready).");
  out.notes.push_back(
      "100 programs on 20 interfaces needs chaining: without it (these rows, "
      "bpf-chaining-enabled: false) there is one program per interface and hook (xdp, tc "
      "ingress, tc egress), so 20 interfaces carry at most 60. Non-chained: 60 programs on 20 "
      "interfaces and 100 programs on 34 interfaces (33 x 3 + 1), veth interfaces; the chained "
      "100 on 20 are the *_chained rows.");
  out.notes.push_back(
      "deploy_*: wall time of one POST add per interface (all hooks of the "
      "interface in one request), sequential, on a fresh daemon.");
  return {};
}

std::string measure_chained_memory(const BenchEnv& env, const BenchSizes& sizes, Table& out) {
  const auto& names = env.ifaces->names();
  if (static_cast<int>(names.size()) < kChainedInterfaces) {
    return "need " + std::to_string(kChainedInterfaces) + " interfaces, have " +
           std::to_string(names.size());
  }
  const std::string letters = kChainedLetters;
  std::vector<ChainLink> chain;
  for (std::size_t i = 0; i < letters.size(); ++i) {
    chain.push_back({letters[i], 10 * static_cast<int>(i + 1)});
  }
  BenchEnv chained = env;
  chained.daemon.chaining = true;
  std::vector<double> loaded, after_delete, deploy_ms;
  for (int rep = 0; rep < sizes.rss_reps; ++rep) {
    std::string err;
    auto d = start_daemon(chained, err);
    if (!d) return err;
    std::unique_ptr<test::HttpConnection> conn;
    const auto t0 = Clock::now();
    for (int i = 0; i < kChainedInterfaces; ++i) {  // one request per interface, as above
      const auto& ifc = names[static_cast<std::size_t>(i)];
      err =
          post_ok(conn, d->api_port(), "/l3af/configs/v1/add", chain_payload(env.host, ifc, chain));
      if (!err.empty()) return err + "\ndaemon log:\n" + d->log_tail(15);
    }
    deploy_ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
    if (err = read_rss(*d, loaded); !err.empty()) return err;
    // The 200s mean attached: XDP (the root) is on the last interface. Checked outside the
    // timed deploy; `ip` is a separate process, so it does not touch the daemon's RSS.
    const auto& last = names[kChainedInterfaces - 1];
    auto link = testing::run_command({"ip", "link", "show", "dev", last});
    if (link.output.find(" xdp") == std::string::npos) {
      return "chained deploy answered 200 but ip link shows no XDP program on " + last + ": " +
             link.output;
    }
    for (int i = 0; i < kChainedInterfaces; ++i) {
      const auto& ifc = names[static_cast<std::size_t>(i)];
      err = post_ok(conn, d->api_port(), "/l3af/configs/v1/delete",
                    chain_delete_payload(env.host, ifc, letters));
      if (!err.empty()) return err + "\ndaemon log:\n" + d->log_tail(15);
    }
    std::this_thread::sleep_for(kRetireGrace);
    if (err = read_rss(*d, after_delete); !err.empty()) return err;
    conn.reset();
    if (err = d->stop(); !err.empty()) return err;
    std::fprintf(stderr, "bench:   memory 100prog_20if_chained round %d/%d\n", rep + 1,
                 sizes.rss_reps);
  }
  const std::string key = "100prog_20if_chained";
  out.rows.push_back({"rss_" + key, "MiB", summarize(loaded), false, Better::Lower});
  out.rows.push_back(
      {"rss_" + key + "_deleted", "MiB", summarize(after_delete), false, Better::Lower});
  out.rows.push_back({"deploy_" + key, "ms", summarize(deploy_ms), false, Better::Lower});
  out.notes.push_back(
      "*_chained: fresh daemons with bpf-chaining-enabled: true; chain-a … chain-e (seq 10 … "
      "50) on xdp_ingress of each of " +
      std::to_string(kChainedInterfaces) +
      " veth interfaces behind one xdp-root each (100 programs + 20 roots), one POST add per "
      "interface; _deleted is read " +
      std::to_string((kRetireGrace + kSettle).count()) +
      " ms after the last delete (retire grace 1 s + settle). Their idle readings are not in "
      "rss_idle.");
  return {};
}

}  // namespace l3afd::bench
