// DaemonConfig: the typed content of l3afd.cfg (docs/compatibility.md §8.2), with the Original's
// defaults as default member initialisers, plus our extension keys (docs/config.md).
//
// load_config/parse_config apply the §8.1 item 10 reading rules: a missing required key, an
// unparsable required bool and every value our validation rejects is fatal (one-line error
// "<file>: [<section>] <key>: <reason>"); an optional key that is missing or unreadable takes
// its default, and an unparsable one also adds a line to DaemonConfig::warnings.
// All functions are pure apart from reading the file and the environment; thread-safe as long
// as nobody calls setenv concurrently.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "config/ini.h"
#include "core/result.h"

namespace l3afd::config {

/// Config file used when `--config` is not given (relative to the working directory).
inline constexpr std::string_view kDefaultConfigPath = "config/l3afd.cfg";

/// What a package repository must prove about its packages ([ebpf-repo] signature-policy,
/// extension; docs/security-packages.md): `off`, `if-present` (the default), `require`.
enum class SignaturePolicy { Off, IfPresent, Require };

/// One entry of [ebpf-repo] signature-policy-by-url: `<url prefix>=<policy>`.
struct SignaturePolicyRule {
  std::string url_prefix;  ///< starts with file://, http:// or https://
  SignaturePolicy policy = SignaturePolicy::IfPresent;
  bool operator==(const SignaturePolicyRule&) const = default;
};

/// How TC programs are attached ([l3afd] tc-attach-mode, our extension).
enum class TcAttachMode {
  Auto,     ///< TCX links when the kernel has them, else classic clsact filters
  Tcx,      ///< TCX links only
  Classic,  ///< clsact qdisc + direct-action filters only
};

/// Minimum TLS version of the API listener ([mtls]/[mTLS] min-tls-version).
enum class TlsVersion { Tls12, Tls13 };

/// TLS on the metrics or debug listener ([web] metrics-tls, [ebpf-chain-debug] tls; ours):
/// plain HTTP, server-side TLS with the [mtls] server certificate, or mTLS like the API.
enum class ListenerTls { Off, Tls, Mtls };

struct DaemonConfig {
  using Duration = std::chrono::milliseconds;  ///< Go durations, truncated to milliseconds

  struct L3afd {
    std::string pid_file;                    ///< pid-file (required, non-empty)
    std::string datacenter;                  ///< datacenter (Original: required; ours: "")
    std::string bpf_dir;                     ///< bpf-dir (required, non-empty)
    std::string bpf_log_dir;                 ///< bpf-log-dir
    std::int64_t kernel_major_version = 5;   ///< kernel-major-version
    std::int64_t kernel_minor_version = 15;  ///< kernel-minor-version
    Duration shutdown_timeout = std::chrono::seconds(25);  ///< shutdown-timeout (>= 0)
    /// http-client-timeout (>= 0, 0 = no limit)
    Duration http_client_timeout = std::chrono::seconds(30);
    std::int64_t max_ebpf_restart_count = 3;           ///< max-ebpf-restart-count (>= 0)
    bool bpf_chaining_enabled = false;                 ///< bpf-chaining-enabled (required)
    bool swagger_api_enabled = false;                  ///< swagger-api-enabled
    std::string environment = "PROD";                  ///< environment
    std::string bpf_map_default_path;                  ///< BpfMapDefaultPath (required, non-empty)
    std::string file_log_location;                     ///< file-log-location ("" = console only)
    std::int64_t file_log_max_size = 100;              ///< file-log-max-size, MB
    std::int64_t file_log_max_backups = 10;            ///< file-log-max-backups
    std::int64_t file_log_max_age = 60;                ///< file-log-max-age, days
    bool json_format_logs = false;                     ///< json-format-logs
    TcAttachMode tc_attach_mode = TcAttachMode::Auto;  ///< tc-attach-mode (extension)
    /// user-program-timeout (extension, > 0)
    Duration user_program_timeout = std::chrono::seconds(60);
    std::uint64_t download_max_size = 256ULL << 20;  ///< download-max-size (ext., bytes, > 0)
    /// retire-grace-period (extension, >= 0): how long programs that left the data path stay
    /// intact before they are unloaded (docs/chain-protocol.md §4.1 I5)
    Duration retire_grace_period = std::chrono::seconds(1);
    /// bpf-stats-enabled (extension, strict bool: a bad value is fatal): hold the kernel's BPF
    /// run-time statistics on for the daemon's lifetime (kernel::StatsSwitch); they cost two
    /// clock reads per program run, so they are off by default
    bool bpf_stats_enabled = false;
    /// chain-write-order (extension): false = make-before-break; true = "original-unsafe",
    /// the order of l3afd v2.1.0, kept only as the control of the chain packet test
    bool chain_write_order_original = false;
  } l3afd;

  struct EbpfRepo {
    std::string url;  ///< url (required; may be empty when every program names its own repo)
    /// trusted-keys-dir (extension): PEM ed25519 public keys (*.pem); "" = none
    std::string trusted_keys_dir = "/etc/l3afd/trusted-keys";
    /// signature-policy (extension): off | if-present | require
    SignaturePolicy signature_policy = SignaturePolicy::IfPresent;
    /// signature-policy-by-url (extension): comma-separated `<url prefix>=<policy>`, in file
    /// order (the longest matching prefix wins; artifact/trust.h)
    std::vector<SignaturePolicyRule> signature_policy_by_url;
  } ebpf_repo;

  struct Web {
    std::string metrics_addr = "localhost:8898";             ///< metrics-addr (valid host:port)
    Duration ebpf_poll_interval = std::chrono::seconds(30);  ///< ebpf-poll-interval (> 0)
    std::int64_t n_metric_samples = 20;                      ///< n-metric-samples (> 0)
    ListenerTls metrics_tls = ListenerTls::Off;              ///< metrics-tls (extension)
  } web;

  struct XdpRoot {
    std::string package_name = "xdp-root";
    std::string artifact = "l3af_xdp_root.tar.gz";
    std::string ingress_map_name = "xdp_root_array";
    std::string command = "xdp_root";
    std::string version = "latest";
    std::string object_file = "xdp_root.bpf.o";
    std::string entry_function_name = "xdp_root";
  } xdp_root;  ///< [xdp-root], after the [xdp-root-program] legacy overrides

  struct TcRoot {
    std::string package_name = "tc-root";
    std::string artifact = "l3af_tc_root.tar.gz";
    std::string ingress_map_name = "tc_ingress_root_array";
    std::string egress_map_name = "tc_egress_root_array";
    std::string command = "tc_root";
    std::string version = "latest";
    std::string ingress_object_file = "tc_root_ingress.bpf.o";
    std::string egress_object_file = "tc_root_egress.bpf.o";
    std::string ingress_entry_function_name = "tc_ingress_root";
    std::string egress_entry_function_name = "tc_egress_root";
  } tc_root;  ///< [tc-root], after the [tc-root-program] legacy overrides

  struct EbpfChainDebug {
    std::string addr = "localhost:8899";  ///< addr (valid host:port when enabled)
    bool enabled = false;                 ///< enabled
    ListenerTls tls = ListenerTls::Off;   ///< tls (extension)
  } ebpf_chain_debug;

  struct L3afConfigs {
    std::string restapi_addr = "localhost:53000";       ///< restapi-addr (valid host:port)
    std::uint64_t max_body_size = 16777216;             ///< max-body-size (ext., bytes, > 0)
    Duration read_timeout = std::chrono::seconds(30);   ///< read-timeout (ext., > 0)
    Duration write_timeout = std::chrono::seconds(30);  ///< write-timeout (ext., > 0)
    std::uint64_t max_header_size = 16384;              ///< max-header-size (ext., bytes, > 0)
  } l3af_configs;

  struct L3afConfigStore {
    std::string filename;  ///< filename (required; "" = persistence off)
  } l3af_config_store;

  struct Mtls {
    bool enabled = true;                              ///< enabled
    std::string cert_dir;                             ///< cert-dir ("" = working directory)
    std::string cacert_filename = "ca.pem";           ///< cacert-filename
    std::string server_cert_filename = "server.crt";  ///< server-cert-filename
    std::string server_key_filename = "server.key";   ///< server-key-filename
    std::int64_t cert_expiry_warning_days = 30;       ///< cert-expiry-warning-days
    /// san-match-rules split at ',', each trimmed, empty ones dropped; empty = no restriction.
    std::vector<std::string> san_match_rules;
    TlsVersion min_tls_version = TlsVersion::Tls13;  ///< min-tls-version ([mtls], else [mTLS])
    /// cert-reload-interval (extension, > 0): how often the certificate files are checked for
    /// renewal.
    Duration cert_reload_interval = std::chrono::seconds(10);
  } mtls;

  struct GracefulRestart {
    std::string restart_artifacts_url = "file:///srv/l3afd";  ///< restart-artifacts-url
    std::chrono::seconds time_to_restart{7};                  ///< time-to-restart (> 0)
    std::string basepath = "/usr/local/l3afd";                ///< basepath
    std::int64_t version_limit = 100;                         ///< version-limit (> 0)
  } graceful_restart;

  /// Non-fatal findings (unparsable optional values that fell back to their default, ...),
  /// one line each in the same "<file>: [<section>] <key>: <reason>" form; log them at start.
  std::vector<std::string> warnings;
};

/// Parses `text` as l3afd.cfg; `file_name` only labels messages. Environment variables for
/// ${NAME} come from `env`. Errors: Errc::InvalidPayload with a one-line message (parse error
/// "<file>:<line>: cannot parse line: ..." or "<file>: [<section>] <key>: <reason>").
Result<DaemonConfig> parse_config(std::string_view text, std::string_view file_name,
                                  const EnvLookup& env);
/// parse_config with the process environment.
Result<DaemonConfig> parse_config(std::string_view text, std::string_view file_name);

/// Reads `path` and parses it with the process environment. Errors: Errc::Io when the file
/// cannot be read (message names the path, sys_errno set), otherwise as parse_config.
Result<DaemonConfig> load_config(const std::filesystem::path& path);

/// "auto" | "tcx" | "classic".
std::string_view tc_attach_mode_name(TcAttachMode mode) noexcept;
/// "off" | "tls" | "mtls".
std::string_view listener_tls_name(ListenerTls mode) noexcept;
/// "TLS_1.2" | "TLS_1.3".
std::string_view tls_version_name(TlsVersion version) noexcept;

}  // namespace l3afd::config
