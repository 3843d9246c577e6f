// DaemonConfig: validation, mTLS, legacy sections, sample quirks, loading files.
#include <gtest/gtest.h>

#include <unistd.h>
#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>

#include "config/config.h"
#include "config/host_port.h"
#include "unit/config/config_fixture.h"

namespace l3afd::config {
namespace {

using namespace fixture;
using std::chrono::milliseconds;
using std::chrono::seconds;

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

TEST(ConfigValidation, BpfStatsAreOffByDefaultAndTakeAnyGoBool) {
  EXPECT_FALSE(parse_ok("").l3afd.bpf_stats_enabled);
  EXPECT_TRUE(parse_ok("[l3afd]\nbpf-stats-enabled: true\n").l3afd.bpf_stats_enabled);
  EXPECT_TRUE(parse_ok("[l3afd]\nbpf-stats-enabled: on\n").l3afd.bpf_stats_enabled);
  EXPECT_FALSE(parse_ok("[l3afd]\nbpf-stats-enabled: 0\n").l3afd.bpf_stats_enabled);
  EXPECT_TRUE(parse_ok("[l3afd]\nbpf-stats-enabled: true\n").warnings.empty());
}

// Unlike the Original's optional bools (a bad value falls back with a warning), a bad value of
// this extension is fatal: stats on by mistake cost every packet, off by mistake lose the data.
TEST(ConfigValidation, BpfStatsEnabledMustBeABool) {
  const std::string msg =
      parse_error(std::string(kMinimal) + "[l3afd]\nbpf-stats-enabled: maybe\n");
  EXPECT_EQ(msg, "t.cfg: [l3afd] bpf-stats-enabled: \"maybe\" is not a boolean");
  EXPECT_EQ(parse_error(std::string(kMinimal) + "[l3afd]\nbpf-stats-enabled: %(nope)s\n")
                .rfind("t.cfg: [l3afd] bpf-stats-enabled: ", 0),
            0u);
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
  // Rules continued over several lines.
  EXPECT_EQ(parse_ok("[mtls]\nsan-match-rules: a.example,\n  b.example\n").mtls.san_match_rules,
            (std::vector<std::string>{"a.example", "b.example"}));
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
    unsetenv("L3AFD_TRUSTED_KEYS_DIR");
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
  ASSERT_EQ(setenv("L3AFD_TRUSTED_KEYS_DIR", "/tmp/l3afd-trusted-keys", 1), 0);
  auto r = load_config(std::filesystem::path(L3AFD_SOURCE_DIR) / "config" / "l3afd.cfg");
  ASSERT_TRUE(r.has_value()) << r.error().message;
  const DaemonConfig& c = *r;
  EXPECT_TRUE(c.warnings.empty());
  EXPECT_EQ(c.ebpf_repo.url, "file:///tmp/l3afd-repo");
  // `make run` deploys only what the build signed (bpf/CMakeLists.txt, scripts/run-local.sh).
  EXPECT_EQ(c.ebpf_repo.trusted_keys_dir, "/tmp/l3afd-trusted-keys");
  EXPECT_EQ(c.ebpf_repo.signature_policy, SignaturePolicy::Require);
  EXPECT_EQ(c.l3afd.pid_file, "build/run/l3afd.pid");
  EXPECT_EQ(c.l3afd.bpf_dir, "build/run/bpf");
  EXPECT_EQ(c.l3af_config_store.filename, "build/run/l3af-config.json");
  EXPECT_EQ(c.l3afd.bpf_map_default_path, "/sys/fs/bpf");
  EXPECT_EQ(c.l3afd.environment, "DEV");
  EXPECT_TRUE(c.l3afd.bpf_chaining_enabled) << "the project's own config composes programs";
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
