// mTLS through the real daemon (docs/compatibility.md §8.4, docs/security.md): a production
// config with certificates made by the test starts and serves the right client only, curl as
// the client; renewed files are used without a restart (polled, and at once on SIGHUP); the PROD
// rule forces mTLS on a non-loopback address; metrics behind mTLS; a missing file stops the
// start naming it before anything is touched.
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "e2e/daemon/daemon_fixture.h"
#include "model/l3af_json.h"
#include "support/test_pki.h"

namespace l3afd::e2e {
namespace {

using namespace std::chrono_literals;
using test::TestCa;
using test::Usage;

class Mtls : public DaemonFixture {
 protected:
  void SetUp() override {
    certs_ = dir_.path() / "certs";
    fs::create_directories(certs_);
    issue_server(ca_, "l3afd-e2e-1");
    test::write_text(certs_ / "ca.pem", ca_.cert_pem());
    test::write_text(dir_.path() / "server-ca.pem", ca_.cert_pem());
    issue_client(ca_, "ops", "ops.example.com");
    issue_client(ca_, "intruder", "evil.example.com");
  }

  void issue_server(const TestCa& ca, const std::string& cn) {
    const auto s = ca.issue({.common_name = cn,
                             .dns = {"localhost"},
                             .ips = {"127.0.0.1"},
                             .usage = Usage::ServerAuth});
    // Key first, then the certificate: a renewal tool's order; the daemon retries on the second
    // change if it saw the first alone.
    test::write_text(certs_ / "server.key", s.key_pem);
    test::write_text(certs_ / "server.crt", s.cert_pem);
  }
  void issue_client(const TestCa& ca, const std::string& name, const std::string& dns) {
    const auto c = ca.issue({.common_name = name, .dns = {dns}});
    test::write_text(dir_.path() / (name + ".crt"), c.cert_pem);
    test::write_text(dir_.path() / (name + ".key"), c.key_pem);
  }
  test::TlsClientOptions client(const std::string& name) const {
    return {.ca_file = (dir_.path() / "server-ca.pem").string(),
            .cert_file = (dir_.path() / (name + ".crt")).string(),
            .key_file = (dir_.path() / (name + ".key")).string()};
  }

  std::string mtls_section(const std::string& more = {}) const {
    return "[mtls]\nenabled: true\ncert-dir: " + certs_.string() +
           "\nsan-match-rules: ops.example.com, fleet-[0-9]+\\.example\\.net\n" + more;
  }

  /// curl with the given client certificate (empty: none) against the API.
  testing::CommandResult curl(const std::string& who, const std::string& method,
                              const std::string& target, const std::string& body = {}) const {
    std::vector<std::string> argv = {"curl",       "-sS",
                                     "--max-time", "20",
                                     "-w",         "\nstatus=%{http_code}",
                                     "--cacert",   (dir_.path() / "server-ca.pem").string(),
                                     "-X",         method};
    if (!who.empty()) {
      argv.insert(argv.end(), {"--cert", (dir_.path() / (who + ".crt")).string(), "--key",
                               (dir_.path() / (who + ".key")).string()});
    }
    if (!body.empty())
      argv.insert(argv.end(), {"-H", "Content-Type: application/json", "-d", body});
    argv.push_back("https://localhost:" + std::to_string(api_port_) + target);
    return testing::run_command(argv);
  }

  fs::path certs_;
  TestCa ca_{"e2e ops CA"};
};

TEST_F(Mtls, AProductionConfigServesOnlyTheRightClient) {
  testing::VethPair v;
  ASSERT_EQ(v.error(), "");
  api_tls_ = client("ops");
  ASSERT_TRUE(start_daemon({.extra_config = mtls_section()}));
  const std::string ifc = v.root_name();
  const std::string payload =
      model::encode(std::vector<model::L3afBpfPrograms>{entry(ifc, xdp_counter())});

  // The right client adds a program (curl).
  auto r = curl("ops", "POST", "/l3af/configs/v1/add", payload);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("status=200"), std::string::npos) << r.output;
  const auto before = get(ifc);
  ASSERT_EQ(before.status, 200);
  ASSERT_NE(before.body.find("xdp-counter"), std::string::npos) << before.body;
  const auto kernel_before = kernel_snapshot({ifc});

  // A client of the CA whose name matches no rule: 403 naming the reason, nothing changed.
  const std::string del = R"([{"hostname":")" + host() + R"(","iface":")" + ifc +
                          R"(","bpf_programs":{"xdp_ingress":["xdp-counter"]}}])";
  r = curl("intruder", "POST", "/l3af/configs/v1/delete", del);
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("status=403"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("matches no san-match-rules entry"), std::string::npos) << r.output;

  // No client certificate: refused in the handshake (curl reports a TLS error, no status).
  r = curl("", "POST", "/l3af/configs/v1/delete", del);
  EXPECT_NE(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("status=000"), std::string::npos) << r.output;

  // A certificate of another CA with the right name: refused in the handshake.
  TestCa other("other CA");
  issue_client(other, "stranger", "ops.example.com");
  r = curl("stranger", "POST", "/l3af/configs/v1/delete", del);
  EXPECT_NE(r.exit_code, 0) << r.output;

  // Plain HTTP on the API port: a plain answer saying TLS is required.
  const auto plain = test::request("127.0.0.1", api_port_, "POST", "/l3af/configs/v1/delete", del);
  EXPECT_EQ(plain.status, 400);
  EXPECT_NE(plain.body.find("tls_required"), std::string::npos) << plain.body;

  EXPECT_EQ(get(ifc).body, before.body);
  EXPECT_EQ(kernel_snapshot({ifc}), kernel_before);
  // Metrics stay plain HTTP unless configured otherwise.
  EXPECT_EQ(test::request("127.0.0.1", metrics_port_, "GET", "/metrics").status, 200);
  // Who did what is in the log.
  EXPECT_NE(daemon_log().find("client=ops.example.com"), std::string::npos);
  EXPECT_NE(daemon_log().find("tls handshake refused"), std::string::npos);
}

TEST_F(Mtls, RenewedCertificatesAreUsedWithoutARestart) {
  api_tls_ = client("ops");
  ASSERT_TRUE(start_daemon({.extra_config = mtls_section("cert-reload-interval: 1s\n")}));
  const pid_t pid = daemon_.pid();
  // A new CA for clients and a new server certificate, replaced on disk.
  TestCa next("e2e ops CA 2");
  issue_client(next, "ops2", "ops.example.com");
  issue_server(ca_, "l3afd-e2e-2");
  test::write_text(certs_ / "ca.pem", next.cert_pem());
  testing::CommandResult r;
  for (int i = 0; i < 300; ++i) {  // polled every second by the daemon
    r = curl("ops2", "GET", "/l3af/configs/v1");
    if (r.output.find("status=200") != std::string::npos) break;
    std::this_thread::sleep_for(100ms);
  }
  EXPECT_NE(r.output.find("status=200"), std::string::npos) << r.output;
  EXPECT_NE(curl("ops", "GET", "/l3af/configs/v1").exit_code, 0);  // the old CA is gone
  const auto t = test::tls_request(api_port_, "GET", "/l3af/configs/v1", client("ops2"));
  EXPECT_EQ(t.server_cn, "l3afd-e2e-2");
  EXPECT_EQ(daemon_.pid(), pid);
  EXPECT_TRUE(daemon_.running());
  EXPECT_NE(daemon_log().find("tls: certificates reloaded"), std::string::npos);
}

TEST_F(Mtls, SighupReloadsAtOnce) {
  api_tls_ = client("ops");
  ASSERT_TRUE(start_daemon({.extra_config = mtls_section("cert-reload-interval: 1h\n")}));
  issue_server(ca_, "l3afd-e2e-hup");
  ::kill(daemon_.pid(), SIGHUP);
  std::string cn;
  for (int i = 0; i < 300 && cn != "l3afd-e2e-hup"; ++i) {
    std::this_thread::sleep_for(50ms);
    cn = test::tls_request(api_port_, "GET", "/l3af/configs/v1", client("ops")).server_cn;
  }
  EXPECT_EQ(cn, "l3afd-e2e-hup");
  EXPECT_TRUE(daemon_.running());
}

TEST_F(Mtls, ProdForcesMtlsOnANonLoopbackAddress) {
  // environment PROD, [mtls] enabled false, API on all interfaces: mTLS anyway.
  const uint16_t port = free_port();
  write_config(
      {.extra_config = "[l3afd]\nenvironment: PROD\n[l3af-configs]\nrestapi-addr: 0.0.0.0:" +
                       std::to_string(port) + "\n[mtls]\ncert-dir: " + certs_.string() + "\n"});
  api_port_ = port;
  api_tls_ = client("ops");
  ASSERT_TRUE(restart_daemon());
  const auto plain = test::request("127.0.0.1", api_port_, "GET", "/l3af/configs/v1");
  EXPECT_EQ(plain.status, 400);
  EXPECT_NE(plain.body.find("tls_required"), std::string::npos);
  EXPECT_NE(daemon_log().find("environment: PROD"), std::string::npos) << daemon_log();
  EXPECT_EQ(stop_daemon(), 0);

  // PROD on loopback keeps plain HTTP.
  api_tls_.reset();
  ASSERT_TRUE(start_daemon({.extra_config = "[l3afd]\nenvironment: PROD\n"}));
  EXPECT_EQ(test::request("127.0.0.1", api_port_, "GET", "/l3af/configs/v1").status, 200);
}

TEST_F(Mtls, MetricsCanBeBehindMtls) {
  api_tls_ = client("ops");
  ASSERT_TRUE(start_daemon({.extra_config = mtls_section() + "[web]\nmetrics-tls: mtls\n"}));
  EXPECT_EQ(test::request("127.0.0.1", metrics_port_, "GET", "/metrics").status, 400);
  const auto m = test::tls_request(metrics_port_, "GET", "/metrics", client("ops"));
  EXPECT_EQ(m.status, 200) << m.error;
  EXPECT_NE(m.body.find("l3afd_"), std::string::npos);
  EXPECT_EQ(test::tls_request(metrics_port_, "GET", "/metrics", {.ca_file = client("ops").ca_file})
                .status,
            0);
}

TEST_F(Mtls, AMissingCertificateFileStopsTheStartNamingIt) {
  fs::remove(certs_ / "server.crt");
  write_config({.extra_config = mtls_section()});
  ASSERT_EQ(daemon_.spawn(config_, log_), "");
  EXPECT_EQ(daemon_.wait_exit(30000), 1);
  EXPECT_NE(daemon_log().find("server certificate " + (certs_ / "server.crt").string()),
            std::string::npos)
      << daemon_log();
  EXPECT_FALSE(fs::exists(pid_file_));
}

}  // namespace
}  // namespace l3afd::e2e
