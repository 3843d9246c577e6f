// DaemonConfig: required keys, defaults, every key, optional-key rules (docs/compatibility.md
// §8.2).
#include <gtest/gtest.h>

#include <map>
#include <string>

#include "config/config.h"
#include "unit/config/config_fixture.h"

namespace l3afd::config {
namespace {

using namespace fixture;
using std::chrono::milliseconds;
using std::chrono::seconds;

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

TEST(Config, ListenerTlsExtensions) {
  auto c = parse_ok(kMinimal);
  EXPECT_EQ(c.web.metrics_tls, ListenerTls::Off);
  EXPECT_EQ(c.ebpf_chain_debug.tls, ListenerTls::Off);
  EXPECT_EQ(c.mtls.cert_reload_interval, seconds(10));
  c = parse_ok(std::string(kMinimal) +
               "[web]\nmetrics-tls: mtls\n[ebpf-chain-debug]\ntls: tls\n[mtls]\n"
               "cert-reload-interval: 1m\n");
  EXPECT_EQ(c.web.metrics_tls, ListenerTls::Mtls);
  EXPECT_EQ(c.ebpf_chain_debug.tls, ListenerTls::Tls);
  EXPECT_EQ(c.mtls.cert_reload_interval, seconds(60));
  EXPECT_EQ(listener_tls_name(ListenerTls::Mtls), "mtls");
  EXPECT_EQ(parse_error(std::string(kMinimal) + "[web]\nmetrics-tls: yes\n"),
            "t.cfg: [web] metrics-tls: \"yes\" is not one of off, tls, mtls");
  EXPECT_NE(parse_error(std::string(kMinimal) + "[mtls]\ncert-reload-interval: 0s\n")
                .find("[mtls] cert-reload-interval"),
            std::string::npos);
}

}  // namespace
}  // namespace l3afd::config
