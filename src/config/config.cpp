#include "config/config.h"

#include <cctype>
#include <cerrno>
#include <cstdio>
#include <optional>
#include <utility>

#include "config/host_port.h"

namespace l3afd::config {
namespace {

using Duration = DaemonConfig::Duration;

// Reads keys with the §8.1 item 10 rules. After the first fatal problem every further call is
// a no-op, so load code stays a flat list of reads; error() then holds that one problem.
class Reader {
 public:
  Reader(const IniFile& ini, std::string_view file, const EnvLookup& env,
         std::vector<std::string>& warnings)
      : ini_(ini), file_(file), env_(env), warnings_(warnings) {}

  const std::optional<Error>& error() const { return error_; }

  void fatal(std::string_view section, std::string_view key, std::string_view reason) {
    if (!error_) error_ = Error{Errc::InvalidPayload, 0, line(section, key, reason), {}, {}, {}};
  }
  void warn(std::string_view section, std::string_view key, std::string_view reason) {
    warnings_.push_back(line(section, key, reason));
  }

  /// Required string: missing or unreadable is fatal; present and empty is "" unless
  /// `non_empty` is set.
  void req_string(std::string_view section, std::string_view key, std::string& out,
                  bool non_empty = false) {
    if (error_) return;
    auto v = ini_.get_string(section, key, env_);
    if (!v) return fatal(section, key, v.error().reason);
    if (non_empty && v->empty()) return fatal(section, key, "must not be empty");
    out = std::move(*v);
  }

  /// Optional string: present (also empty) wins; missing or unreadable keeps `out`.
  /// Returns true if a value was read.
  bool opt_string(std::string_view section, std::string_view key, std::string& out) {
    if (error_) return false;
    auto v = ini_.get_string(section, key, env_);
    if (!v) {
      fallback(section, key, v.error());
      return false;
    }
    out = std::move(*v);
    return true;
  }

  void req_bool(std::string_view section, std::string_view key, bool& out) {
    if (error_) return;
    auto v = ini_.get_bool(section, key, env_);
    if (!v) return fatal(section, key, v.error().reason);
    out = *v;
  }

  void opt_bool(std::string_view section, std::string_view key, bool& out) {
    if (error_) return;
    auto v = ini_.get_bool(section, key, env_);
    if (!v) return fallback(section, key, v.error());
    out = *v;
  }

  /// Optional bool of our extensions where a wrong guess is costly: missing keeps `out`; a value
  /// that is not a bool (or cannot be read) is fatal instead of falling back with a warning.
  void strict_bool(std::string_view section, std::string_view key, bool& out) {
    if (error_) return;
    auto v = ini_.get_bool(section, key, env_);
    if (!v) {
      if (v.error().kind == ReadErrc::Missing) return;
      return fatal(section, key, v.error().reason);
    }
    out = *v;
  }

  /// Optional integer; a parsed value below `min` is fatal.
  template <class Int>
  void opt_int(std::string_view section, std::string_view key, Int& out, std::int64_t min) {
    if (error_) return;
    auto v = ini_.get_int(section, key, env_);
    if (!v) return fallback(section, key, v.error());
    if (*v < min) return fatal(section, key, "must be at least " + std::to_string(min));
    out = static_cast<Int>(*v);
  }

  /// Optional byte count; a parsed value <= 0 is fatal.
  void opt_size(std::string_view section, std::string_view key, std::uint64_t& out) {
    if (error_) return;
    auto v = ini_.get_int(section, key, env_);
    if (!v) return fallback(section, key, v.error());
    if (*v <= 0) return fatal(section, key, "must be a positive number of bytes");
    out = static_cast<std::uint64_t>(*v);
  }

  /// Optional duration, truncated to milliseconds; negative is fatal, and so is zero when
  /// `positive` is set.
  void opt_duration(std::string_view section, std::string_view key, Duration& out, bool positive) {
    if (error_) return;
    auto v = ini_.get_duration(section, key, env_);
    if (!v) return fallback(section, key, v.error());
    const auto ms = std::chrono::duration_cast<Duration>(*v);
    if (v->count() < 0) return fatal(section, key, "must not be negative");
    if (positive && ms.count() == 0) return fatal(section, key, "must be at least 1ms");
    out = ms;
  }

  /// A listener address that must split into host and port.
  void check_addr(std::string_view section, std::string_view key, const std::string& addr) {
    if (error_) return;
    auto split = split_host_port(addr);
    if (!split) fatal(section, key, split.error().message);
  }

 private:
  std::string line(std::string_view section, std::string_view key, std::string_view reason) const {
    std::string out(file_);
    out += ": [";
    append_one_line(out, section);
    out += "] ";
    append_one_line(out, key);
    out += ": ";
    append_one_line(out, reason);
    return out;
  }

  // Reasons quote values, and a value continued over several lines holds newlines: control
  // characters are written as \xNN so that a problem stays one line (found by
  // tests/fuzz/fuzz_config.cpp). Other bytes, UTF-8 included, are kept.
  static void append_one_line(std::string& out, std::string_view text) {
    static constexpr char kHex[] = "0123456789abcdef";
    for (const char ch : text) {
      const auto c = static_cast<unsigned char>(ch);
      if (c < 0x20 || c == 0x7f) {
        out += "\\x";
        out += kHex[c >> 4];
        out += kHex[c & 0xf];
      } else {
        out += ch;
      }
    }
  }

  // An optional key could not be read: keep the default, but an undefined %(name)s is fatal
  // (the Original crashed, D52) and anything but absence is worth a warning.
  void fallback(std::string_view section, std::string_view key, const ReadError& e) {
    switch (e.kind) {
      case ReadErrc::Missing: return;
      case ReadErrc::UndefinedReference: return fatal(section, key, e.reason);
      case ReadErrc::Unreadable:
      case ReadErrc::Invalid: return warn(section, key, e.reason + "; using the default");
    }
  }

  const IniFile& ini_;
  std::string_view file_;
  const EnvLookup& env_;
  std::vector<std::string>& warnings_;
  std::optional<Error> error_;
};

std::vector<std::string> split_rules(std::string_view text) {
  std::vector<std::string> rules;
  while (true) {
    const std::size_t comma = text.find(',');
    std::string_view rule = text.substr(0, comma);
    // Continuation lines put newlines into the value; they separate nothing but are not kept.
    const auto space = [](char c) { return c == ' ' || c == '\t' || c == '\n'; };
    while (!rule.empty() && space(rule.front())) rule.remove_prefix(1);
    while (!rule.empty() && space(rule.back())) rule.remove_suffix(1);
    if (!rule.empty()) rules.emplace_back(rule);
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  return rules;
}

void read_l3afd(Reader& r, DaemonConfig::L3afd& c) {
  constexpr std::string_view s = "l3afd";
  r.req_string(s, "pid-file", c.pid_file, true);
  r.opt_string(s, "datacenter", c.datacenter);
  r.req_string(s, "bpf-dir", c.bpf_dir, true);
  r.opt_string(s, "bpf-log-dir", c.bpf_log_dir);
  r.opt_int(s, "kernel-major-version", c.kernel_major_version, 0);
  r.opt_int(s, "kernel-minor-version", c.kernel_minor_version, 0);
  r.opt_duration(s, "shutdown-timeout", c.shutdown_timeout, false);
  r.opt_duration(s, "http-client-timeout", c.http_client_timeout, false);
  r.opt_int(s, "max-ebpf-restart-count", c.max_ebpf_restart_count, 0);
  r.req_bool(s, "bpf-chaining-enabled", c.bpf_chaining_enabled);
  r.opt_bool(s, "swagger-api-enabled", c.swagger_api_enabled);
  r.opt_string(s, "environment", c.environment);
  r.req_string(s, "BpfMapDefaultPath", c.bpf_map_default_path, true);
  r.opt_string(s, "file-log-location", c.file_log_location);
  r.opt_int(s, "file-log-max-size", c.file_log_max_size, 0);
  r.opt_int(s, "file-log-max-backups", c.file_log_max_backups, 0);
  r.opt_int(s, "file-log-max-age", c.file_log_max_age, 0);
  r.opt_bool(s, "json-format-logs", c.json_format_logs);

  std::string mode;
  if (r.opt_string(s, "tc-attach-mode", mode)) {
    if (mode == "auto") {
      c.tc_attach_mode = TcAttachMode::Auto;
    } else if (mode == "tcx") {
      c.tc_attach_mode = TcAttachMode::Tcx;
    } else if (mode == "classic") {
      c.tc_attach_mode = TcAttachMode::Classic;
    } else {
      r.fatal(s, "tc-attach-mode", "\"" + mode + "\" is not one of auto, tcx, classic");
    }
  }
  r.opt_duration(s, "user-program-timeout", c.user_program_timeout, true);
  r.opt_size(s, "download-max-size", c.download_max_size);
  r.opt_duration(s, "retire-grace-period", c.retire_grace_period, false);
  r.strict_bool(s, "bpf-stats-enabled", c.bpf_stats_enabled);
  std::string order;
  if (r.opt_string(s, "chain-write-order", order)) {
    if (order == "make-before-break") {
      c.chain_write_order_original = false;
    } else if (order == "original-unsafe") {
      c.chain_write_order_original = true;
    } else {
      r.fatal(s, "chain-write-order",
              "\"" + order + "\" is not one of make-before-break, original-unsafe");
    }
  }
}

std::optional<SignaturePolicy> parse_signature_policy(std::string_view text) {
  if (text == "off") return SignaturePolicy::Off;
  if (text == "if-present") return SignaturePolicy::IfPresent;
  if (text == "require") return SignaturePolicy::Require;
  return std::nullopt;
}

bool has_repo_scheme(std::string_view url) {
  const std::size_t sep = url.find("://");
  if (sep == std::string_view::npos) return false;
  std::string scheme(url.substr(0, sep));
  for (char& c : scheme) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return scheme == "file" || scheme == "http" || scheme == "https";
}

/// `text` in double quotes, for a reason (Reader::line writes its control characters as \xNN).
std::string in_quotes(std::string_view text) {
  return "\"" + std::string(text) + "\"";
}

// [ebpf-repo]: the repository and our signed-repository keys (docs/security-packages.md). The
// policy values are checked here; the keys themselves are read by the daemon at start.
void read_ebpf_repo(Reader& r, DaemonConfig::EbpfRepo& c) {
  constexpr std::string_view s = "ebpf-repo";
  r.req_string(s, "url", c.url);
  r.opt_string(s, "trusted-keys-dir", c.trusted_keys_dir);
  constexpr std::string_view kPolicies = " is not one of require, if-present, off";
  std::string policy;
  if (r.opt_string(s, "signature-policy", policy)) {
    if (auto p = parse_signature_policy(policy)) {
      c.signature_policy = *p;
    } else {
      r.fatal(s, "signature-policy", in_quotes(policy) + std::string(kPolicies));
    }
  }
  constexpr std::string_view by_url = "signature-policy-by-url";
  std::string rules;
  if (!r.opt_string(s, by_url, rules)) return;
  for (const auto& rule : split_rules(rules)) {
    // The policy follows the last '=': a URL prefix may itself hold '=' (a query).
    const std::size_t eq = rule.rfind('=');
    if (eq == std::string::npos) {
      return r.fatal(s, by_url, in_quotes(rule) + " is not <url prefix>=<policy>");
    }
    std::string prefix = rule.substr(0, eq);
    while (!prefix.empty() && (prefix.back() == ' ' || prefix.back() == '\t')) prefix.pop_back();
    std::string_view value = std::string_view(rule).substr(eq + 1);
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t'))
      value.remove_prefix(1);
    if (!has_repo_scheme(prefix)) {
      return r.fatal(
          s, by_url,
          in_quotes(rule) + ": the url prefix must start with file://, http:// or https://");
    }
    auto p = parse_signature_policy(value);
    if (!p)
      return r.fatal(s, by_url, in_quotes(rule) + ": " + in_quotes(value) + std::string(kPolicies));
    for (const auto& seen : c.signature_policy_by_url) {
      if (seen.url_prefix == prefix) {
        return r.fatal(s, by_url, "url prefix " + in_quotes(prefix) + " is given twice");
      }
    }
    c.signature_policy_by_url.push_back(SignaturePolicyRule{std::move(prefix), *p});
  }
}

// Each non-empty value of the legacy section overrides the field (§8.2).
void legacy_override(Reader& r, std::string_view section, std::string_view key,
                     std::string& field) {
  std::string value;
  if (r.opt_string(section, key, value) && !value.empty()) field = std::move(value);
}

void read_roots(Reader& r, DaemonConfig::XdpRoot& x, DaemonConfig::TcRoot& t) {
  constexpr std::string_view xs = "xdp-root";
  r.opt_string(xs, "package-name", x.package_name);
  r.opt_string(xs, "artifact", x.artifact);
  r.opt_string(xs, "ingress-map-name", x.ingress_map_name);
  r.opt_string(xs, "command", x.command);
  r.opt_string(xs, "version", x.version);
  r.opt_string(xs, "object-file", x.object_file);
  r.opt_string(xs, "entry-function-name", x.entry_function_name);
  constexpr std::string_view xl = "xdp-root-program";
  legacy_override(r, xl, "name", x.package_name);
  legacy_override(r, xl, "artifact", x.artifact);
  legacy_override(r, xl, "ingress-map-name", x.ingress_map_name);
  legacy_override(r, xl, "command", x.command);
  legacy_override(r, xl, "version", x.version);

  constexpr std::string_view ts = "tc-root";
  r.opt_string(ts, "package-name", t.package_name);
  r.opt_string(ts, "artifact", t.artifact);
  r.opt_string(ts, "ingress-map-name", t.ingress_map_name);
  r.opt_string(ts, "egress-map-name", t.egress_map_name);
  r.opt_string(ts, "command", t.command);
  r.opt_string(ts, "version", t.version);
  r.opt_string(ts, "ingress-object-file", t.ingress_object_file);
  r.opt_string(ts, "egress-object-file", t.egress_object_file);
  r.opt_string(ts, "ingress-entry-function-name", t.ingress_entry_function_name);
  r.opt_string(ts, "egress-entry-function-name", t.egress_entry_function_name);
  constexpr std::string_view tcl = "tc-root-program";
  legacy_override(r, tcl, "name", t.package_name);
  legacy_override(r, tcl, "artifact", t.artifact);
  legacy_override(r, tcl, "ingress-map-name", t.ingress_map_name);
  legacy_override(r, tcl, "egress-map-name", t.egress_map_name);
  legacy_override(r, tcl, "command", t.command);
  legacy_override(r, tcl, "version", t.version);
}

void read_listener_tls(Reader& r, std::string_view section, std::string_view key,
                       ListenerTls& out) {
  std::string mode;
  if (!r.opt_string(section, key, mode)) return;
  if (mode == "off") {
    out = ListenerTls::Off;
  } else if (mode == "tls") {
    out = ListenerTls::Tls;
  } else if (mode == "mtls") {
    out = ListenerTls::Mtls;
  } else {
    r.fatal(section, key, "\"" + mode + "\" is not one of off, tls, mtls");
  }
}

void read_mtls(Reader& r, const IniFile& ini, DaemonConfig::Mtls& m) {
  constexpr std::string_view s = "mtls";
  r.opt_bool(s, "enabled", m.enabled);
  r.opt_string(s, "cert-dir", m.cert_dir);
  r.opt_string(s, "cacert-filename", m.cacert_filename);
  r.opt_string(s, "server-cert-filename", m.server_cert_filename);
  r.opt_string(s, "server-key-filename", m.server_key_filename);
  r.opt_int(s, "cert-expiry-warning-days", m.cert_expiry_warning_days, 0);
  std::string rules;
  if (r.opt_string(s, "san-match-rules", rules)) m.san_match_rules = split_rules(rules);
  r.opt_duration(s, "cert-reload-interval", m.cert_reload_interval, true);

  // Ours reads [mtls] first and the Original's [mTLS] spelling second (D49).
  constexpr std::string_view key = "min-tls-version";
  const std::string_view from = ini.has_own_key(s, key) ? s : std::string_view("mTLS");
  if (from == s && ini.has_own_key("mTLS", key) && ini.raw(s, key) != ini.raw("mTLS", key)) {
    r.warn(from, key, "[mTLS] sets a different value, which is ignored");
  }
  std::string version;
  if (!r.opt_string(from, key, version)) return;
  if (version == "TLS_1.2") {
    m.min_tls_version = TlsVersion::Tls12;
  } else if (version == "TLS_1.3" || version.empty() || version == "default" ||
             version == "Default") {
    m.min_tls_version = TlsVersion::Tls13;
  } else {
    r.fatal(from, key,
            "\"" + version + "\" is not one of TLS_1.2, TLS_1.3, default, Default or empty");
  }
}

}  // namespace

Result<DaemonConfig> parse_config(std::string_view text, std::string_view file_name,
                                  const EnvLookup& env) {
  auto ini = IniFile::parse(text, file_name);
  if (!ini) return fail(std::move(ini.error()));

  DaemonConfig c;
  Reader r(*ini, file_name, env, c.warnings);
  read_l3afd(r, c.l3afd);

  read_ebpf_repo(r, c.ebpf_repo);

  r.opt_string("web", "metrics-addr", c.web.metrics_addr);
  r.check_addr("web", "metrics-addr", c.web.metrics_addr);
  r.opt_duration("web", "ebpf-poll-interval", c.web.ebpf_poll_interval, true);
  r.opt_int("web", "n-metric-samples", c.web.n_metric_samples, 1);
  read_listener_tls(r, "web", "metrics-tls", c.web.metrics_tls);

  read_roots(r, c.xdp_root, c.tc_root);

  r.opt_string("ebpf-chain-debug", "addr", c.ebpf_chain_debug.addr);
  r.opt_bool("ebpf-chain-debug", "enabled", c.ebpf_chain_debug.enabled);
  read_listener_tls(r, "ebpf-chain-debug", "tls", c.ebpf_chain_debug.tls);
  if (c.ebpf_chain_debug.enabled) {
    r.check_addr("ebpf-chain-debug", "addr", c.ebpf_chain_debug.addr);
  }

  constexpr std::string_view api = "l3af-configs";
  r.opt_string(api, "restapi-addr", c.l3af_configs.restapi_addr);
  r.check_addr(api, "restapi-addr", c.l3af_configs.restapi_addr);
  r.opt_size(api, "max-body-size", c.l3af_configs.max_body_size);
  r.opt_duration(api, "read-timeout", c.l3af_configs.read_timeout, true);
  r.opt_duration(api, "write-timeout", c.l3af_configs.write_timeout, true);
  r.opt_size(api, "max-header-size", c.l3af_configs.max_header_size);

  r.req_string("l3af-config-store", "filename", c.l3af_config_store.filename);

  read_mtls(r, *ini, c.mtls);

  constexpr std::string_view gr = "graceful-restart";
  r.opt_string(gr, "restart-artifacts-url", c.graceful_restart.restart_artifacts_url);
  r.opt_int(gr, "time-to-restart", c.graceful_restart.time_to_restart, 1);
  r.opt_string(gr, "basepath", c.graceful_restart.basepath);
  r.opt_int(gr, "version-limit", c.graceful_restart.version_limit, 1);

  if (r.error()) return fail(*r.error());
  return c;
}

Result<DaemonConfig> parse_config(std::string_view text, std::string_view file_name) {
  return parse_config(text, file_name, process_env);
}

Result<DaemonConfig> load_config(const std::filesystem::path& path) {
  std::FILE* f = std::fopen(path.c_str(), "rbe");
  if (f == nullptr) return fail(Errc::Io, "open config file " + path.string(), errno);
  std::string text;
  char buf[8192];
  std::size_t n = 0;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) text.append(buf, n);
  const bool read_failed = std::ferror(f) != 0;
  const int read_errno = errno != 0 ? errno : EIO;
  std::fclose(f);
  if (read_failed) return fail(Errc::Io, "read config file " + path.string(), read_errno);
  return parse_config(text, path.string());
}

std::string_view listener_tls_name(ListenerTls mode) noexcept {
  switch (mode) {
    case ListenerTls::Tls: return "tls";
    case ListenerTls::Mtls: return "mtls";
    case ListenerTls::Off: break;
  }
  return "off";
}

std::string_view tc_attach_mode_name(TcAttachMode mode) noexcept {
  switch (mode) {
    case TcAttachMode::Auto: return "auto";
    case TcAttachMode::Tcx: return "tcx";
    case TcAttachMode::Classic: return "classic";
  }
  return "auto";
}

std::string_view tls_version_name(TlsVersion version) noexcept {
  switch (version) {
    case TlsVersion::Tls12: return "TLS_1.2";
    case TlsVersion::Tls13: return "TLS_1.3";
  }
  return "TLS_1.3";
}

}  // namespace l3afd::config
