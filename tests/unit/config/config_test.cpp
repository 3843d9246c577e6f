// DaemonConfig loading: keys, defaults, reading rules and validation (l3af-compat.md §8.2).
#include "config/config.h"
#include "config/host_port.h"

#include <gtest/gtest.h>

#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>

namespace l3afd::config {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

// The required keys only.
constexpr std::string_view kMinimal = R"([l3afd]
pid-file: /run/l3afd.pid
bpf-dir: /dev/shm
bpf-chaining-enabled: true
BpfMapDefaultPath: /sys/fs/bpf
[ebpf-repo]
url: file:///srv/repo
[l3af-config-store]
filename: /var/l3afd/store.json
)";

EnvLookup no_env() {
  return [](std::string_view) -> std::optional<std::string> { return std::nullopt; };
}

Result<DaemonConfig> parse(std::string_view extra, const EnvLookup& env = no_env()) {
  return parse_config(std::string(kMinimal) + std::string(extra), "t.cfg", env);
}

DaemonConfig parse_ok(std::string_view extra, const EnvLookup& env = no_env()) {
  auto r = parse(extra, env);
  EXPECT_TRUE(r.has_value()) << (r ? "" : r.error().message);
  return r ? std::move(*r) : DaemonConfig{};
}

std::string parse_error(std::string_view text) {
  auto r = parse_config(text, "t.cfg", no_env());
  EXPECT_FALSE(r.has_value());
  if (r) return "<no error>";
  EXPECT_EQ(r.error().code, Errc::InvalidPayload);
  return r.error().message;
}

// Removes the line of `key` from the minimal config.
std::string without(std::string_view key) {
  std::string text(kMinimal);
  const auto at = text.find(std::string(key) + ":");
  EXPECT_NE(at, std::string::npos) << key;
  text.erase(at, text.find('\n', at) - at + 1);
  return text;
}

TEST(ConfigRequired, MinimalConfigLoads) {
  auto c = parse_ok("");
  EXPECT_EQ(c.l3afd.pid_file, "/run/l3afd.pid");
  EXPECT_EQ(c.l3afd.bpf_dir, "/dev/shm");
  EXPECT_TRUE(c.l3afd.bpf_chaining_enabled);
  EXPECT_EQ(c.l3afd.bpf_map_default_path, "/sys/fs/bpf");
  EXPECT_EQ(c.ebpf_repo.url, "file:///srv/repo");
  EXPECT_EQ(c.l3af_config_store.filename, "/var/l3afd/store.json");
  EXPECT_TRUE(c.warnings.empty());
}

TEST(ConfigRequired, EachMissingRequiredKeyIsOneLineNamingIt) {
  const std::map<std::string, std::string> keys = {
      {"pid-file", "[l3afd] pid-file"},
      {"bpf-dir", "[l3afd] bpf-dir"},
      {"bpf-chaining-enabled", "[l3afd] bpf-chaining-enabled"},
      {"BpfMapDefaultPath", "[l3afd] BpfMapDefaultPath"},
      {"url", "[ebpf-repo] url"},
      {"filename", "[l3af-config-store] filename"},
  };
  for (const auto& [key, where] : keys) {
    EXPECT_EQ(parse_error(without(key)), "t.cfg: " + where + ": required key is missing");
  }
}

TEST(ConfigRequired, DatacenterIsOptionalForUs) {
  EXPECT_EQ(parse_ok("").l3afd.datacenter, "");
  EXPECT_EQ(parse_ok("[l3afd]\ndatacenter: dc1\n").l3afd.datacenter, "dc1");
}

TEST(ConfigRequired, UnparsableRequiredBoolIsFatal) {
  std::string text = without("bpf-chaining-enabled") + "[l3afd]\nbpf-chaining-enabled: maybe\n";
  EXPECT_EQ(parse_error(text), "t.cfg: [l3afd] bpf-chaining-enabled: \"maybe\" is not a boolean");
}

TEST(ConfigRequired, RequiredKeysMayComeFromDefault) {
  std::string text = "[DEFAULT]\nbpf-dir: /from/default\n" + without("bpf-dir");
  auto r = parse_config(text, "t.cfg", no_env());
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(r->l3afd.bpf_dir, "/from/default");
}

TEST(ConfigRequired, UnreadableRequiredKeyIsFatal) {
  std::string text = without("url") + "[ebpf-repo]\nurl: ${L3AFD_NOT_SET}\n";
  EXPECT_EQ(parse_error(text),
            "t.cfg: [ebpf-repo] url: environment variable L3AFD_NOT_SET is unset or empty");
}

TEST(ConfigRequired, EmptyPathsThatMustExistAreFatal) {
  for (const char* key : {"pid-file", "bpf-dir", "BpfMapDefaultPath"}) {
    std::string text = without(key) + "[l3afd]\n" + key + ":\n";
    EXPECT_EQ(parse_error(text), std::string("t.cfg: [l3afd] ") + key + ": must not be empty");
  }
}

TEST(ConfigRequired, EmptyStoreFilenameAndRepoUrlAreAccepted) {
  std::string text = without("filename") + "[l3af-config-store]\nfilename:\n";
  auto r = parse_config(text, "t.cfg", no_env());
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(r->l3af_config_store.filename, "");
  text = without("url") + "[ebpf-repo]\nurl:\n";
  r = parse_config(text, "t.cfg", no_env());
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(r->ebpf_repo.url, "");
}

TEST(ConfigDefaults, MatchTheOriginalsConfigGo) {
  const auto c = parse_ok("");
  EXPECT_EQ(c.l3afd.bpf_log_dir, "");
  EXPECT_EQ(c.l3afd.kernel_major_version, 5);
  EXPECT_EQ(c.l3afd.kernel_minor_version, 15);
  EXPECT_EQ(c.l3afd.shutdown_timeout, seconds(25));
  EXPECT_EQ(c.l3afd.http_client_timeout, seconds(30));
  EXPECT_EQ(c.l3afd.max_ebpf_restart_count, 3);
  EXPECT_FALSE(c.l3afd.swagger_api_enabled);
  EXPECT_EQ(c.l3afd.environment, "PROD");
  EXPECT_EQ(c.l3afd.file_log_location, "");
  EXPECT_EQ(c.l3afd.file_log_max_size, 100);
  EXPECT_EQ(c.l3afd.file_log_max_backups, 10);
  EXPECT_EQ(c.l3afd.file_log_max_age, 60);
  EXPECT_FALSE(c.l3afd.json_format_logs);
  EXPECT_EQ(c.web.metrics_addr, "localhost:8898");
  EXPECT_EQ(c.web.ebpf_poll_interval, seconds(30));
  EXPECT_EQ(c.web.n_metric_samples, 20);
  EXPECT_EQ(c.xdp_root.package_name, "xdp-root");
  EXPECT_EQ(c.xdp_root.artifact, "l3af_xdp_root.tar.gz");
  EXPECT_EQ(c.xdp_root.ingress_map_name, "xdp_root_array");
  EXPECT_EQ(c.xdp_root.command, "xdp_root");
  EXPECT_EQ(c.xdp_root.version, "latest");
  EXPECT_EQ(c.xdp_root.object_file, "xdp_root.bpf.o");
  EXPECT_EQ(c.xdp_root.entry_function_name, "xdp_root");
  EXPECT_EQ(c.tc_root.package_name, "tc-root");
  EXPECT_EQ(c.tc_root.artifact, "l3af_tc_root.tar.gz");
  EXPECT_EQ(c.tc_root.ingress_map_name, "tc_ingress_root_array");
  EXPECT_EQ(c.tc_root.egress_map_name, "tc_egress_root_array");
  EXPECT_EQ(c.tc_root.command, "tc_root");
  EXPECT_EQ(c.tc_root.version, "latest");
  EXPECT_EQ(c.tc_root.ingress_object_file, "tc_root_ingress.bpf.o");
  EXPECT_EQ(c.tc_root.egress_object_file, "tc_root_egress.bpf.o");
  EXPECT_EQ(c.tc_root.ingress_entry_function_name, "tc_ingress_root");
  EXPECT_EQ(c.tc_root.egress_entry_function_name, "tc_egress_root");
  EXPECT_EQ(c.ebpf_chain_debug.addr, "localhost:8899");
  EXPECT_FALSE(c.ebpf_chain_debug.enabled);
  EXPECT_EQ(c.l3af_configs.restapi_addr, "localhost:53000");
  EXPECT_TRUE(c.mtls.enabled);
  EXPECT_EQ(c.mtls.cert_dir, "");
  EXPECT_EQ(c.mtls.cacert_filename, "ca.pem");
  EXPECT_EQ(c.mtls.server_cert_filename, "server.crt");
  EXPECT_EQ(c.mtls.server_key_filename, "server.key");
  EXPECT_EQ(c.mtls.cert_expiry_warning_days, 30);
  EXPECT_TRUE(c.mtls.san_match_rules.empty());
  EXPECT_EQ(c.mtls.min_tls_version, TlsVersion::Tls13);
  EXPECT_EQ(c.graceful_restart.restart_artifacts_url, "file:///srv/l3afd");
  EXPECT_EQ(c.graceful_restart.time_to_restart, seconds(7));
  EXPECT_EQ(c.graceful_restart.basepath, "/usr/local/l3afd");
  EXPECT_EQ(c.graceful_restart.version_limit, 100);
}

TEST(ConfigDefaults, ExtensionDefaults) {
  const auto c = parse_ok("");
  EXPECT_EQ(c.l3af_configs.max_body_size, 16777216u);
  EXPECT_EQ(c.l3af_configs.read_timeout, seconds(30));
  EXPECT_EQ(c.l3af_configs.write_timeout, seconds(30));
  EXPECT_EQ(c.l3af_configs.max_header_size, 16384u);
  EXPECT_EQ(c.l3afd.tc_attach_mode, TcAttachMode::Auto);
  EXPECT_EQ(c.l3afd.user_program_timeout, seconds(60));
  EXPECT_EQ(c.l3afd.download_max_size, 256u * 1024 * 1024);
}

TEST(ConfigKeys, EveryKeyIsRead) {
  const auto c = parse_ok(R"([l3afd]
bpf-log-dir: /var/log/l3af
kernel-major-version: 6
kernel-minor-version: 1
shutdown-timeout: 1m
http-client-timeout: 1500ms
max-ebpf-restart-count: 0
swagger-api-enabled: yes
environment: DEV
file-log-location: /var/log/l3afd.log
file-log-max-size: 5
file-log-max-backups: 6
file-log-max-age: 7
json-format-logs: on
tc-attach-mode: classic
user-program-timeout: 2m
download-max-size: 1024
[web]
metrics-addr: 0.0.0.0:9000
ebpf-poll-interval: 5s
n-metric-samples: 3
[xdp-root]
package-name: xr
artifact: xr.tar.gz
ingress-map-name: xr_map
command: xr_cmd
version: 1.0.0
object-file: xr.o
entry-function-name: xr_fn
[tc-root]
package-name: tr
artifact: tr.tar.gz
ingress-map-name: tr_in
egress-map-name: tr_eg
command: tr_cmd
version: 2.0.0
ingress-object-file: tri.o
egress-object-file: tre.o
ingress-entry-function-name: tri_fn
egress-entry-function-name: tre_fn
[ebpf-chain-debug]
addr: [::1]:9001
enabled: true
[l3af-configs]
restapi-addr: 127.0.0.1:7080
max-body-size: 100
read-timeout: 2s
write-timeout: 3s
max-header-size: 200
[mtls]
enabled: false
cert-dir: /etc/certs
cacert-filename: c.pem
server-cert-filename: s.crt
server-key-filename: s.key
cert-expiry-warning-days: 10
san-match-rules: a.example, .*\.b\.example ,,c
min-tls-version: TLS_1.2
[graceful-restart]
restart-artifacts-url: https://repo/l3afd
time-to-restart: 9
basepath: /opt/l3afd
version-limit: 50
)");
  EXPECT_EQ(c.l3afd.bpf_log_dir, "/var/log/l3af");
  EXPECT_EQ(c.l3afd.kernel_major_version, 6);
  EXPECT_EQ(c.l3afd.kernel_minor_version, 1);
  EXPECT_EQ(c.l3afd.shutdown_timeout, seconds(60));
  EXPECT_EQ(c.l3afd.http_client_timeout, milliseconds(1500));
  EXPECT_EQ(c.l3afd.max_ebpf_restart_count, 0);
  EXPECT_TRUE(c.l3afd.swagger_api_enabled);
  EXPECT_EQ(c.l3afd.environment, "DEV");
  EXPECT_EQ(c.l3afd.file_log_location, "/var/log/l3afd.log");
  EXPECT_EQ(c.l3afd.file_log_max_size, 5);
  EXPECT_EQ(c.l3afd.file_log_max_backups, 6);
  EXPECT_EQ(c.l3afd.file_log_max_age, 7);
  EXPECT_TRUE(c.l3afd.json_format_logs);
  EXPECT_EQ(c.l3afd.tc_attach_mode, TcAttachMode::Classic);
  EXPECT_EQ(c.l3afd.user_program_timeout, seconds(120));
  EXPECT_EQ(c.l3afd.download_max_size, 1024u);
  EXPECT_EQ(c.web.metrics_addr, "0.0.0.0:9000");
  EXPECT_EQ(c.web.ebpf_poll_interval, seconds(5));
  EXPECT_EQ(c.web.n_metric_samples, 3);
  EXPECT_EQ(c.xdp_root.package_name, "xr");
  EXPECT_EQ(c.xdp_root.artifact, "xr.tar.gz");
  EXPECT_EQ(c.xdp_root.ingress_map_name, "xr_map");
  EXPECT_EQ(c.xdp_root.command, "xr_cmd");
  EXPECT_EQ(c.xdp_root.version, "1.0.0");
  EXPECT_EQ(c.xdp_root.object_file, "xr.o");
  EXPECT_EQ(c.xdp_root.entry_function_name, "xr_fn");
  EXPECT_EQ(c.tc_root.package_name, "tr");
  EXPECT_EQ(c.tc_root.artifact, "tr.tar.gz");
  EXPECT_EQ(c.tc_root.ingress_map_name, "tr_in");
  EXPECT_EQ(c.tc_root.egress_map_name, "tr_eg");
  EXPECT_EQ(c.tc_root.command, "tr_cmd");
  EXPECT_EQ(c.tc_root.version, "2.0.0");
  EXPECT_EQ(c.tc_root.ingress_object_file, "tri.o");
  EXPECT_EQ(c.tc_root.egress_object_file, "tre.o");
  EXPECT_EQ(c.tc_root.ingress_entry_function_name, "tri_fn");
  EXPECT_EQ(c.tc_root.egress_entry_function_name, "tre_fn");
  EXPECT_EQ(c.ebpf_chain_debug.addr, "[::1]:9001");
  EXPECT_TRUE(c.ebpf_chain_debug.enabled);
  EXPECT_EQ(c.l3af_configs.restapi_addr, "127.0.0.1:7080");
  EXPECT_EQ(c.l3af_configs.max_body_size, 100u);
  EXPECT_EQ(c.l3af_configs.read_timeout, seconds(2));
  EXPECT_EQ(c.l3af_configs.write_timeout, seconds(3));
  EXPECT_EQ(c.l3af_configs.max_header_size, 200u);
  EXPECT_FALSE(c.mtls.enabled);
  EXPECT_EQ(c.mtls.cert_dir, "/etc/certs");
  EXPECT_EQ(c.mtls.cacert_filename, "c.pem");
  EXPECT_EQ(c.mtls.server_cert_filename, "s.crt");
  EXPECT_EQ(c.mtls.server_key_filename, "s.key");
  EXPECT_EQ(c.mtls.cert_expiry_warning_days, 10);
  EXPECT_EQ(c.mtls.san_match_rules,
            (std::vector<std::string>{"a.example", ".*\\.b\\.example", "c"}));
  EXPECT_EQ(c.mtls.min_tls_version, TlsVersion::Tls12);
  EXPECT_EQ(c.graceful_restart.restart_artifacts_url, "https://repo/l3afd");
  EXPECT_EQ(c.graceful_restart.time_to_restart, seconds(9));
  EXPECT_EQ(c.graceful_restart.basepath, "/opt/l3afd");
  EXPECT_EQ(c.graceful_restart.version_limit, 50);
  EXPECT_TRUE(c.warnings.empty());
}

TEST(ConfigOptional, UnparsableValuesTakeTheDefaultWithAWarning) {
  const auto c = parse_ok(
      "[l3afd]\nkernel-major-version: five\nswagger-api-enabled: sure\nshutdown-timeout: 25\n"
      "[web]\nebpf-poll-interval:\n");
  EXPECT_EQ(c.l3afd.kernel_major_version, 5);
  EXPECT_FALSE(c.l3afd.swagger_api_enabled);
  EXPECT_EQ(c.l3afd.shutdown_timeout, seconds(25));
  EXPECT_EQ(c.web.ebpf_poll_interval, seconds(30));
  EXPECT_EQ(
      c.warnings,
      (std::vector<std::string>{
          "t.cfg: [l3afd] kernel-major-version: \"five\" is not an integer; using the default",
          "t.cfg: [l3afd] shutdown-timeout: \"25\" is not a duration; using the default",
          "t.cfg: [l3afd] swagger-api-enabled: \"sure\" is not a boolean; using the default",
          "t.cfg: [web] ebpf-poll-interval: \"\" is not a duration; using the default",
      }));
}

TEST(ConfigOptional, PresentEmptyStringIsEmptyNotTheDefault) {
  const auto c =
      parse_ok("[l3afd]\nenvironment:\n[xdp-root]\nversion:\n[mtls]\ncacert-filename:\n");
  EXPECT_EQ(c.l3afd.environment, "");
  EXPECT_EQ(c.xdp_root.version, "");
  EXPECT_EQ(c.mtls.cacert_filename, "");
}

TEST(ConfigOptional, UnreadableOptionalTakesTheDefaultWithAWarning) {
  const auto c = parse_ok("[l3afd]\nenvironment: ${L3AFD_ENV_UNSET}\n");
  EXPECT_EQ(c.l3afd.environment, "PROD");
  ASSERT_EQ(c.warnings.size(), 1u);
  EXPECT_EQ(c.warnings[0],
            "t.cfg: [l3afd] environment: environment variable L3AFD_ENV_UNSET is unset or empty; "
            "using the default");
}

TEST(ConfigOptional, EnvironmentInterpolationFeedsTypedKeys) {
  auto env = [](std::string_view name) -> std::optional<std::string> {
    if (name == "POLL") return "7s";
    return std::nullopt;
  };
  EXPECT_EQ(parse_ok("[web]\nebpf-poll-interval: ${POLL}\n", env).web.ebpf_poll_interval,
            seconds(7));
}

TEST(ConfigOptional, UndefinedReferenceIsFatalEvenInAnOptionalKey) {
  EXPECT_EQ(parse_error(std::string(kMinimal) + "[web]\nmetrics-addr: %(host)s:8898\n"),
            "t.cfg: [web] metrics-addr: undefined reference %(host)s");
}

TEST(ConfigOptional, InterpolationFromDefaultSection) {
  const auto c = parse_ok("[DEFAULT]\nrun: /tmp/r\n[mtls]\ncert-dir: %(run)s/certs\n");
  EXPECT_EQ(c.mtls.cert_dir, "/tmp/r/certs");
}

TEST(ConfigValidation, DurationsAreTruncatedToMilliseconds) {
  const auto c = parse_ok("[l3afd]\nshutdown-timeout: 1500us\nhttp-client-timeout: 0\n");
  EXPECT_EQ(c.l3afd.shutdown_timeout, milliseconds(1));
  EXPECT_EQ(c.l3afd.http_client_timeout, milliseconds(0));
}

TEST(ConfigValidation, NegativeOrTooShortDurationsAreFatal) {
  EXPECT_EQ(parse_error(std::string(kMinimal) + "[l3afd]\nshutdown-timeout: -1s\n"),
            "t.cfg: [l3afd] shutdown-timeout: must not be negative");
  EXPECT_EQ(parse_error(std::string(kMinimal) + "[web]\nebpf-poll-interval: 0\n"),
            "t.cfg: [web] ebpf-poll-interval: must be at least 1ms");
  EXPECT_EQ(parse_error(std::string(kMinimal) + "[l3af-configs]\nread-timeout: 10us\n"),
            "t.cfg: [l3af-configs] read-timeout: must be at least 1ms");
  EXPECT_EQ(parse_error(std::string(kMinimal) + "[l3afd]\nuser-program-timeout: 0s\n"),
            "t.cfg: [l3afd] user-program-timeout: must be at least 1ms");
}

TEST(ConfigValidation, NonPositiveSizesAreFatal) {
  const std::map<std::string, std::string> keys = {
      {"max-body-size", "l3af-configs"},
      {"max-header-size", "l3af-configs"},
      {"download-max-size", "l3afd"},
  };
  for (const auto& [key, section] : keys) {
    for (const char* value : {"0", "-1"}) {
      EXPECT_EQ(parse_error(std::string(kMinimal) + "[" + section + "]\n" + key + ": " + value),
                "t.cfg: [" + section + "] " + key + ": must be a positive number of bytes");
    }
  }
}

TEST(ConfigValidation, CountsBelowTheirMinimumAreFatal) {
  EXPECT_EQ(parse_error(std::string(kMinimal) + "[web]\nn-metric-samples: 0\n"),
            "t.cfg: [web] n-metric-samples: must be at least 1");
  EXPECT_EQ(parse_error(std::string(kMinimal) + "[graceful-restart]\ntime-to-restart: 0\n"),
            "t.cfg: [graceful-restart] time-to-restart: must be at least 1");
  EXPECT_EQ(parse_error(std::string(kMinimal) + "[l3afd]\nmax-ebpf-restart-count: -1\n"),
            "t.cfg: [l3afd] max-ebpf-restart-count: must be at least 0");
}

TEST(ConfigValidation, TcAttachModeMustBeKnown) {
  EXPECT_EQ(parse_ok("[l3afd]\ntc-attach-mode: tcx\n").l3afd.tc_attach_mode, TcAttachMode::Tcx);
  EXPECT_EQ(parse_ok("[l3afd]\ntc-attach-mode: auto\n").l3afd.tc_attach_mode, TcAttachMode::Auto);
  EXPECT_EQ(parse_error(std::string(kMinimal) + "[l3afd]\ntc-attach-mode: TCX\n"),
            "t.cfg: [l3afd] tc-attach-mode: \"TCX\" is not one of auto, tcx, classic");
}

TEST(ConfigValidation, AddressesMustSplitIntoHostAndPort) {
  EXPECT_EQ(parse_error(std::string(kMinimal) + "[l3af-configs]\nrestapi-addr: localhost\n"),
            "t.cfg: [l3af-configs] restapi-addr: address \"localhost\": missing port");
  EXPECT_EQ(parse_error(std::string(kMinimal) + "[web]\nmetrics-addr: ::1:80\n"),
            "t.cfg: [web] metrics-addr: address \"::1:80\": too many colons");
  EXPECT_EQ(parse_error(std::string(kMinimal) +
                        "[ebpf-chain-debug]\nenabled: true\naddr: localhost:99999\n"),
            "t.cfg: [ebpf-chain-debug] addr: address \"localhost:99999\": port is above 65535");
  // A disabled debug listener's address is not used, so it is not checked.
  EXPECT_EQ(parse_ok("[ebpf-chain-debug]\nenabled: false\naddr: nonsense\n").ebpf_chain_debug.addr,
            "nonsense");
}

TEST(ConfigMtls, MinTlsVersionAcceptsTheAllowedSet) {
  EXPECT_EQ(parse_ok("[mtls]\nmin-tls-version: TLS_1.2\n").mtls.min_tls_version, TlsVersion::Tls12);
  for (const char* v : {"TLS_1.3", "", "default", "Default"}) {
    EXPECT_EQ(parse_ok(std::string("[mtls]\nmin-tls-version: ") + v + "\n").mtls.min_tls_version,
              TlsVersion::Tls13)
        << v;
  }
}

TEST(ConfigMtls, MinTlsVersionOutsideTheSetIsFatal) {
  for (const char* v : {"TLS_1_3", "tls_1.2", "TLS_1.1", "1.3", "DEFAULT"}) {
    EXPECT_EQ(parse_error(std::string(kMinimal) + "[mtls]\nmin-tls-version: " + v + "\n"),
              std::string("t.cfg: [mtls] min-tls-version: \"") + v +
                  "\" is not one of TLS_1.2, TLS_1.3, default, Default or empty");
  }
}

TEST(ConfigMtls, MinTlsVersionIsAlsoReadFromTheOriginalsMtlsSpelling) {
  const auto c = parse_ok("[mTLS]\nmin-tls-version: TLS_1.2\n");
  EXPECT_EQ(c.mtls.min_tls_version, TlsVersion::Tls12);
  EXPECT_EQ(parse_error(std::string(kMinimal) + "[mTLS]\nmin-tls-version: TLS_1_2\n"),
            "t.cfg: [mTLS] min-tls-version: \"TLS_1_2\" is not one of TLS_1.2, TLS_1.3, default, "
            "Default or empty");
}

TEST(ConfigMtls, LowerCaseSectionWinsWithAWarningOnConflict) {
  const auto c = parse_ok("[mTLS]\nmin-tls-version: TLS_1.2\n[mtls]\nmin-tls-version: TLS_1.3\n");
  EXPECT_EQ(c.mtls.min_tls_version, TlsVersion::Tls13);
  ASSERT_EQ(c.warnings.size(), 1u);
  EXPECT_EQ(c.warnings[0],
            "t.cfg: [mtls] min-tls-version: [mTLS] sets a different value, which is ignored");
  // Only the key, not other [mTLS] keys, is read from the upper-case spelling.
  EXPECT_TRUE(parse_ok("[mTLS]\nenabled: false\n").mtls.enabled);
}

TEST(ConfigMtls, SanRulesEmptyOrUnsetMeanNoRestriction) {
  EXPECT_TRUE(parse_ok("[mtls]\nsan-match-rules:\n").mtls.san_match_rules.empty());
  EXPECT_TRUE(parse_ok("[mtls]\nsan-match-rules: , ,\n").mtls.san_match_rules.empty());
  EXPECT_EQ(parse_ok("[mtls]\nsan-match-rules: ^.*l3af.io$\n").mtls.san_match_rules,
            (std::vector<std::string>{"^.*l3af.io$"}));
}

TEST(ConfigLegacy, NonEmptyLegacyRootValuesOverride) {
  const auto c = parse_ok(R"([xdp-root]
package-name: new-xdp
version: 1.0
[xdp-root-program]
name: old-xdp
artifact: old.tar.gz
ingress-map-name: old_map
command: old_cmd
version:
[tc-root-program]
name: old-tc
artifact: oldtc.tar.gz
ingress-map-name: old_in
egress-map-name: old_eg
command: old_tc_cmd
version: 9.9
)");
  EXPECT_EQ(c.xdp_root.package_name, "old-xdp");
  EXPECT_EQ(c.xdp_root.artifact, "old.tar.gz");
  EXPECT_EQ(c.xdp_root.ingress_map_name, "old_map");
  EXPECT_EQ(c.xdp_root.command, "old_cmd");
  EXPECT_EQ(c.xdp_root.version, "1.0");  // empty legacy value does not override
  EXPECT_EQ(c.xdp_root.object_file, "xdp_root.bpf.o");
  EXPECT_EQ(c.tc_root.package_name, "old-tc");
  EXPECT_EQ(c.tc_root.artifact, "oldtc.tar.gz");
  EXPECT_EQ(c.tc_root.ingress_map_name, "old_in");
  EXPECT_EQ(c.tc_root.egress_map_name, "old_eg");
  EXPECT_EQ(c.tc_root.command, "old_tc_cmd");
  EXPECT_EQ(c.tc_root.version, "9.9");
}

TEST(ConfigQuirks, AcceptsTheSampleFilesShape) {
  // Shape of the Original's sample: empty [DEFAULT], [l3af-config-store] twice, keys it documents
  // but does not read, commented-out keys with values that would be fatal if read.
  constexpr std::string_view kSample = R"([DEFAULT]

[l3afd]
pid-file: ./l3afd.pid
datacenter: dc
bpf-dir: /dev/shm
bpf-log-dir:
kernel-major-version: 5
kernel-minor-version: 15
shutdown-timeout: 25s
http-client-timeout: 10s
max-ebpf-restart-count: 3
bpf-chaining-enabled: true
swagger-api-enabled: false
# PROD | DEV
environment: PROD
BpfMapDefaultPath: /sys/fs/bpf

[ebpf-repo]
url: file:///srv/l3afd/ebpf-programs

[l3af-config-store]
filename: /var/l3afd/first.json

[l3af-configs]
restapi-addr: localhost:7080

[mtls]
enabled: true
# min-tls-version: TLS_1_3
server-crt-filename: other.crt
san-match-rules: .+l3afd.l3af.io,.*l3af.l3af.io,^.*l3af.io$,l3afd.l3af.io

[l3af-config-store]
filename: /var/l3afd/l3af-config.json
unknown-key: ignored

[unknown-section]
whatever: 1
)";
  auto r = parse_config(kSample, "l3afd.cfg", no_env());
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(r->l3af_config_store.filename, "/var/l3afd/l3af-config.json");
  EXPECT_EQ(r->l3af_configs.restapi_addr, "localhost:7080");
  EXPECT_EQ(r->l3afd.bpf_log_dir, "");
  EXPECT_EQ(r->l3afd.http_client_timeout, seconds(10));
  EXPECT_EQ(r->mtls.server_cert_filename, "server.crt");
  EXPECT_EQ(r->mtls.min_tls_version, TlsVersion::Tls13);
  EXPECT_EQ(r->mtls.san_match_rules.size(), 4u);
  EXPECT_TRUE(r->warnings.empty());
}

TEST(ConfigErrors, ParseErrorPropagatesWithFileAndLine) {
  EXPECT_EQ(parse_error(std::string(kMinimal) + "oops\n"), "t.cfg:10: cannot parse line: oops");
}

TEST(ConfigNames, EnumNames) {
  EXPECT_EQ(tc_attach_mode_name(TcAttachMode::Auto), "auto");
  EXPECT_EQ(tc_attach_mode_name(TcAttachMode::Tcx), "tcx");
  EXPECT_EQ(tc_attach_mode_name(TcAttachMode::Classic), "classic");
  EXPECT_EQ(tls_version_name(TlsVersion::Tls12), "TLS_1.2");
  EXPECT_EQ(tls_version_name(TlsVersion::Tls13), "TLS_1.3");
}

class LoadConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("l3afd-config-test-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
    unsetenv("L3AFD_REPO_URL");
  }
  std::filesystem::path dir_;
};

TEST_F(LoadConfigTest, ReadsAFile) {
  const auto path = dir_ / "l3afd.cfg";
  std::ofstream(path) << kMinimal;
  auto r = load_config(path);
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(r->l3afd.pid_file, "/run/l3afd.pid");
}

TEST_F(LoadConfigTest, ErrorsNameThePath) {
  const auto path = dir_ / "bad.cfg";
  std::ofstream(path) << without("pid-file");
  auto r = load_config(path);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().message, path.string() + ": [l3afd] pid-file: required key is missing");
}

TEST_F(LoadConfigTest, MissingFileIsAnIoError) {
  auto r = load_config(dir_ / "absent.cfg");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, Errc::Io);
  EXPECT_EQ(r.error().sys_errno, ENOENT);
  EXPECT_NE(r.error().message.find("absent.cfg"), std::string::npos);
}

TEST_F(LoadConfigTest, DirectoryIsAnIoError) {
  auto r = load_config(dir_);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, Errc::Io);
  EXPECT_NE(r.error().sys_errno, 0);
}

TEST_F(LoadConfigTest, ProjectDefaultConfigLoads) {
  ASSERT_EQ(setenv("L3AFD_REPO_URL", "file:///tmp/l3afd-repo", 1), 0);
  auto r = load_config(std::filesystem::path(L3AFD_SOURCE_DIR) / "config" / "l3afd.cfg");
  ASSERT_TRUE(r.has_value()) << r.error().message;
  const DaemonConfig& c = *r;
  EXPECT_TRUE(c.warnings.empty());
  EXPECT_EQ(c.ebpf_repo.url, "file:///tmp/l3afd-repo");
  EXPECT_EQ(c.l3afd.pid_file, "build/run/l3afd.pid");
  EXPECT_EQ(c.l3afd.bpf_dir, "build/run/bpf");
  EXPECT_EQ(c.l3af_config_store.filename, "build/run/l3af-config.json");
  EXPECT_EQ(c.l3afd.bpf_map_default_path, "/sys/fs/bpf");
  EXPECT_EQ(c.l3afd.environment, "DEV");
  EXPECT_FALSE(c.l3afd.bpf_chaining_enabled);
  EXPECT_FALSE(c.mtls.enabled);
  EXPECT_EQ(c.l3af_configs.restapi_addr, "localhost:53000");
  EXPECT_EQ(c.web.metrics_addr, "localhost:8898");
  EXPECT_TRUE(c.ebpf_chain_debug.enabled);
  EXPECT_EQ(c.ebpf_chain_debug.addr, "localhost:8899");
  for (const std::string* addr :
       {&c.l3af_configs.restapi_addr, &c.web.metrics_addr, &c.ebpf_chain_debug.addr}) {
    auto hp = split_host_port(*addr);
    ASSERT_TRUE(hp.has_value());
    EXPECT_EQ(hp->first, "localhost");
  }
}

TEST_F(LoadConfigTest, ProjectDefaultConfigNeedsTheRepoUrl) {
  unsetenv("L3AFD_REPO_URL");
  auto r = load_config(std::filesystem::path(L3AFD_SOURCE_DIR) / "config" / "l3afd.cfg");
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message.find(
                "[ebpf-repo] url: environment variable L3AFD_REPO_URL is unset or empty"),
            std::string::npos)
      << r.error().message;
}

}  // namespace
}  // namespace l3afd::config
