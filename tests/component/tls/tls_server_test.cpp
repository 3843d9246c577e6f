// The API listener with mTLS (docs/compatibility.md §8.4): a real api::http::Server with a real
// tls::ServerTls on 127.0.0.1, certificates made by the test, OpenSSL as the client. Every
// refusal is checked to have reached no handler.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

#include "api/http/server.h"
#include "support/http_client.h"
#include "support/log_capture.h"
#include "support/test_pki.h"
#include "support/tls_client.h"
#include "tls/certificate_watcher.h"
#include "tls/server_tls.h"

namespace l3afd::tls {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using test::CertSpec;
using test::TestCa;
using test::TlsClientOptions;
using test::Usage;

/// Whether the log shows `needle` within a safety limit: the server logs a refused handshake
/// after the client already saw the alert.
bool logged(testing::CapturedLog& log, const std::string& needle) {
  for (int i = 0; i < 500; ++i) {
    if (log.text().find(needle) != std::string::npos) return true;
    std::this_thread::sleep_for(10ms);
  }
  return false;
}

class TlsServer : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("l3afd-tls-" + std::to_string(::getpid()) + "-" + std::to_string(counter_++));
    fs::create_directories(dir_);
    write_server(ca_, "l3afd-server-1");
    test::write_text(dir_ / "ca.pem", ca_.cert_pem());
    // What clients verify the server with: stays when the client CA file is replaced.
    test::write_text(dir_ / "server-ca.pem", ca_.cert_pem());
    client_ = issue_client(ca_, {.common_name = "ops", .dns = {"ops.example.com"}}, "client");
  }
  void TearDown() override {
    server_.reset();
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  void write_server(const TestCa& ca, const std::string& cn) {
    const auto s = ca.issue({.common_name = cn,
                             .dns = {"localhost"},
                             .ips = {"127.0.0.1"},
                             .usage = Usage::ServerAuth});
    test::write_text(dir_ / "server.crt", s.cert_pem);
    test::write_text(dir_ / "server.key", s.key_pem);
  }

  /// Issues a client certificate into <dir>/<name>.crt/.key and returns options using it.
  TlsClientOptions issue_client(const TestCa& ca, const CertSpec& spec, const std::string& name) {
    const auto c = ca.issue(spec);
    test::write_text(dir_ / (name + ".crt"), c.cert_pem);
    test::write_text(dir_ / (name + ".key"), c.key_pem);
    return {.ca_file = (dir_ / "server-ca.pem").string(),
            .cert_file = (dir_ / (name + ".crt")).string(),
            .key_file = (dir_ / (name + ".key")).string()};
  }

  ServerTlsSettings settings() const {
    ServerTlsSettings s;
    s.ca_file = dir_ / "ca.pem";
    s.cert_file = dir_ / "server.crt";
    s.key_file = dir_ / "server.key";
    s.san_rules = {"ops.example.com", "fleet-[0-9]+\\.example\\.net"};
    return s;
  }

  void start(ServerTlsSettings s) {
    auto t = ServerTls::load(std::move(s));
    ASSERT_TRUE(t) << t.error().to_string();
    tls_ = *t;
    api::http::Router router;
    router.add("GET", "/l3af/configs/v1", [](const api::http::Request&) {
      return api::http::Response{200, "application/json", "[]"};
    });
    router.add("POST", "/l3af/configs/v1/add", [this](const api::http::Request&) {
      ++writes_;
      return api::http::Response{200, "application/json", ""};
    });
    api::http::ServerOptions o;
    o.address = "127.0.0.1:0";
    o.tls = tls_;
    auto srv = api::http::Server::start(std::move(o), std::move(router));
    ASSERT_TRUE(srv) << srv.error().to_string();
    server_ = std::move(*srv);
  }

  test::TlsResult get(const TlsClientOptions& o) {
    return test::tls_request(server_->port(), "GET", "/l3af/configs/v1", o);
  }
  test::TlsResult post(const TlsClientOptions& o) {
    return test::tls_request(server_->port(), "POST", "/l3af/configs/v1/add", o, "[]");
  }

  /// A refused client: no answer at all, and no handler ran.
  void expect_refused(const TlsClientOptions& o) {
    const auto r = post(o);
    EXPECT_EQ(r.status, 0) << r.body;
    EXPECT_FALSE(r.error.empty());
    EXPECT_EQ(writes_.load(), 0);
  }

  static inline int counter_ = 0;
  fs::path dir_;
  TestCa ca_{"ops CA"};
  TlsClientOptions client_;
  std::shared_ptr<ServerTls> tls_;
  std::unique_ptr<api::http::Server> server_;
  std::atomic<int> writes_{0};
};

TEST_F(TlsServer, ClientOfTheCaWithAMatchingNameIsServed) {
  start(settings());
  const auto r = get(client_);
  EXPECT_EQ(r.status, 200) << r.error;
  EXPECT_EQ(r.body, "[]");
  EXPECT_EQ(r.server_cn, "l3afd-server-1");
  EXPECT_EQ(post(client_).status, 200);
  EXPECT_EQ(writes_.load(), 1);
}

TEST_F(TlsServer, NoClientCertificateIsRefusedAtTheHandshake) {
  testing::CapturedLog log(log::Format::Console);
  start(settings());
  expect_refused({.ca_file = (dir_ / "server-ca.pem").string()});
  EXPECT_TRUE(logged(log, "tls handshake refused")) << log.text();
  EXPECT_TRUE(logged(log, "did not return a certificate")) << log.text();
}

TEST_F(TlsServer, ACertificateOfAnotherCaIsRefused) {
  testing::CapturedLog log(log::Format::Console);
  start(settings());
  TestCa other("other CA");
  expect_refused(issue_client(other, {.dns = {"ops.example.com"}}, "stranger"));
  EXPECT_TRUE(logged(log, "unable to get local issuer certificate")) << log.text();
}

TEST_F(TlsServer, TheSystemTrustStoreIsNotUsed) {
  // The context trusts exactly the configured file: a CA that is not in it is unknown even when
  // its own certificate is presented as part of the chain.
  start(settings());
  TestCa other("other CA");
  auto o = issue_client(other, {.dns = {"ops.example.com"}}, "chained");
  std::ofstream(o.cert_file, std::ios::app) << other.cert_pem();
  expect_refused(o);
}

TEST_F(TlsServer, AnExpiredCertificateIsRefused) {
  testing::CapturedLog log(log::Format::Console);
  start(settings());
  expect_refused(issue_client(
      ca_, {.dns = {"ops.example.com"}, .not_before = -48h, .not_after = -1h}, "expired"));
  EXPECT_TRUE(logged(log, "certificate has expired")) << log.text();
}

TEST_F(TlsServer, ACertificateNotYetValidIsRefused) {
  testing::CapturedLog log(log::Format::Console);
  start(settings());
  expect_refused(issue_client(ca_, {.dns = {"ops.example.com"}, .not_before = 1h, .not_after = 48h},
                              "future"));
  EXPECT_TRUE(logged(log, "certificate is not yet valid")) << log.text();
}

TEST_F(TlsServer, ALeafWithoutClientAuthUsageIsRefused) {
  testing::CapturedLog log(log::Format::Console);
  start(settings());
  expect_refused(issue_client(ca_, {.dns = {"ops.example.com"}, .usage = Usage::None}, "no-eku"));
  EXPECT_TRUE(logged(log, "has no clientAuth extended key usage")) << log.text();
  expect_refused(
      issue_client(ca_, {.dns = {"ops.example.com"}, .usage = Usage::ServerAuth}, "server-eku"));
}

TEST_F(TlsServer, AWrongSanGets403AndReachesNoHandler) {
  start(settings());
  const auto o =
      issue_client(ca_, {.common_name = "ops.example.com", .dns = {"evil.example.com"}}, "evil");
  const auto r = post(o);
  EXPECT_EQ(r.status, 403);
  EXPECT_NE(r.body.find(R"("code":"forbidden")"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("matches no san-match-rules entry"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("evil.example.com"), std::string::npos) << r.body;
  EXPECT_EQ(writes_.load(), 0);
  // The common name is not a DNS name: it never matches a rule.
  EXPECT_EQ(get(o).status, 403);
}

TEST_F(TlsServer, RegularExpressionRulesAreAnchored) {
  start(settings());
  EXPECT_EQ(get(issue_client(ca_, {.dns = {"fleet-12.example.net"}}, "f1")).status, 200);
  EXPECT_EQ(get(issue_client(ca_, {.dns = {"FLEET-7.Example.NET"}}, "f2")).status, 200);
  EXPECT_EQ(get(issue_client(ca_, {.dns = {"fleet-12.example.net.attacker.org"}}, "f3")).status,
            403);
  EXPECT_EQ(get(issue_client(ca_, {.dns = {"xfleet-12.example.net"}}, "f4")).status, 403);
  // A rule that is a host name is exact: its dots are not "any character".
  EXPECT_EQ(get(issue_client(ca_, {.dns = {"opsXexample.com"}}, "f5")).status, 403);
  // One matching name among several is enough.
  EXPECT_EQ(get(issue_client(ca_, {.dns = {"a.example.org", "ops.example.com"}}, "f6")).status,
            200);
}

TEST_F(TlsServer, NoRulesAcceptEveryClientOfTheCa) {
  auto s = settings();
  s.san_rules.clear();
  start(s);
  EXPECT_EQ(get(issue_client(ca_, {.dns = {"anything.example.org"}}, "any")).status, 200);
  EXPECT_EQ(get(issue_client(ca_, {.common_name = "no-san"}, "nosan")).status, 200);
}

TEST_F(TlsServer, TlsBelowTheMinimumIsRefused) {
  start(settings());  // TLS 1.3 minimum (the default)
  auto old = client_;
  old.tls12_only = true;
  expect_refused(old);
}

TEST_F(TlsServer, Tls12IsServedWhenItIsTheMinimum) {
  auto s = settings();
  s.min_version = MinVersion::Tls12;
  start(s);
  auto old = client_;
  old.tls12_only = true;
  EXPECT_EQ(get(old).status, 200);
}

TEST_F(TlsServer, PlainHttpGetsAPlainAnswerSayingTlsIsRequired) {
  start(settings());
  const auto r = test::request("127.0.0.1", server_->port(), "POST", "/l3af/configs/v1/add", "[]");
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find(R"("code":"tls_required")"), std::string::npos) << r.body;
  EXPECT_EQ(writes_.load(), 0);
}

TEST_F(TlsServer, RenewedServerCertificateIsUsedForNewConnections) {
  start(settings());
  ASSERT_EQ(get(client_).server_cn, "l3afd-server-1");
  EXPECT_FALSE(tls_->reload_if_changed());  // nothing changed
  write_server(ca_, "l3afd-server-2");
  EXPECT_TRUE(tls_->reload_if_changed());
  const auto r = get(client_);
  EXPECT_EQ(r.status, 200) << r.error;
  EXPECT_EQ(r.server_cn, "l3afd-server-2");
}

TEST_F(TlsServer, ReplacedClientCaTakesEffect) {
  start(settings());
  TestCa next("ops CA 2");
  const auto next_client = issue_client(next, {.dns = {"ops.example.com"}}, "next");
  EXPECT_EQ(get(next_client).status, 0);
  test::write_text(dir_ / "ca.pem", next.cert_pem());
  EXPECT_TRUE(tls_->reload_if_changed());
  EXPECT_EQ(get(next_client).status, 200);
  EXPECT_EQ(get(client_).status, 0);  // the old CA is no longer trusted
}

TEST_F(TlsServer, AHalfWrittenRenewalKeepsTheCertificatesInUse) {
  start(settings());
  const auto renewed = ca_.issue(
      {.common_name = "l3afd-server-3", .dns = {"localhost"}, .usage = Usage::ServerAuth});
  test::write_text(dir_ / "server.crt", renewed.cert_pem);  // the key follows later
  EXPECT_FALSE(tls_->reload_if_changed());
  auto r = get(client_);
  EXPECT_EQ(r.status, 200) << r.error;
  EXPECT_EQ(r.server_cn, "l3afd-server-1");
  EXPECT_FALSE(tls_->reload_if_changed());  // no new change: not retried
  test::write_text(dir_ / "server.key", renewed.key_pem);
  EXPECT_TRUE(tls_->reload_if_changed());
  r = get(client_);
  EXPECT_EQ(r.server_cn, "l3afd-server-3");
}

TEST_F(TlsServer, LoadNamesTheMissingOrDamagedFile) {
  auto s = settings();
  s.ca_file = dir_ / "missing.pem";
  auto t = ServerTls::load(s);
  ASSERT_FALSE(t);
  EXPECT_EQ(t.error().code, Errc::Io);
  EXPECT_NE(t.error().message.find("missing.pem"), std::string::npos) << t.error().message;

  test::write_text(dir_ / "server.crt",
                   "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n");
  t = ServerTls::load(settings());
  ASSERT_FALSE(t);
  EXPECT_NE(t.error().message.find("server.crt"), std::string::npos) << t.error().message;

  write_server(ca_, "l3afd-server-1");
  const auto other = ca_.issue({.usage = Usage::ServerAuth});
  test::write_text(dir_ / "server.key", other.key_pem);
  t = ServerTls::load(settings());
  ASSERT_FALSE(t);
  EXPECT_NE(t.error().message.find("server key"), std::string::npos) << t.error().message;
  EXPECT_NE(t.error().message.find("mismatch"), std::string::npos) << t.error().message;

  s = settings();
  s.san_rules = {"ops(["};
  t = ServerTls::load(s);
  ASSERT_FALSE(t);
  EXPECT_NE(t.error().message.find("ops(["), std::string::npos) << t.error().message;
}

TEST_F(TlsServer, ExpiryIsReportedForTheCaAndTheServerCertificate) {
  TestCa short_ca("short CA", 10 * 24h);
  test::write_text(dir_ / "ca.pem", short_ca.cert_pem());
  const auto expired = ca_.issue({.common_name = "old-server",
                                  .dns = {"localhost"},
                                  .usage = Usage::ServerAuth,
                                  .not_before = -48h,
                                  .not_after = -1h});
  test::write_text(dir_ / "server.crt", expired.cert_pem);
  test::write_text(dir_ / "server.key", expired.key_pem);
  auto s = settings();
  s.expiry_warning_days = 30;
  auto t = ServerTls::load(s);
  ASSERT_TRUE(t) << t.error().to_string();
  testing::CapturedLog log(log::Format::Console);
  const auto findings = (*t)->check_expiry(std::chrono::system_clock::now());
  ASSERT_EQ(findings.size(), 2u);
  EXPECT_TRUE(findings[0].error);
  EXPECT_NE(findings[0].message.find("server certificate"), std::string::npos);
  EXPECT_NE(findings[0].message.find("expired on"), std::string::npos) << findings[0].message;
  EXPECT_FALSE(findings[1].error);
  EXPECT_NE(findings[1].message.find("client CA"), std::string::npos);
  EXPECT_NE(findings[1].message.find("expires in 9 days"), std::string::npos)
      << findings[1].message;
  EXPECT_TRUE(logged(log, "error"));
  EXPECT_TRUE(logged(log, "warn"));
  // With a 5-day window the CA is not reported.
  s.expiry_warning_days = 5;
  t = ServerTls::load(s);
  ASSERT_TRUE(t);
  EXPECT_EQ((*t)->check_expiry(std::chrono::system_clock::now(), false).size(), 1u);
}

TEST_F(TlsServer, TheWatcherPicksUpRenewedFilesWhileServing) {
  start(settings());
  CertificateWatcher watch({tls_}, 20ms);
  write_server(ca_, "l3afd-server-renewed");
  std::string seen;
  for (int i = 0; i < 500 && seen != "l3afd-server-renewed"; ++i) {
    std::this_thread::sleep_for(10ms);
    seen = get(client_).server_cn;
  }
  EXPECT_EQ(seen, "l3afd-server-renewed");
}

}  // namespace
}  // namespace l3afd::tls
