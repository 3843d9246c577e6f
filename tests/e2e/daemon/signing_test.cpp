// Signed package repositories through the real daemon (docs/security-packages.md): a repository
// of the test's own, with a key pair made by the openssl command line and directories signed by
// scripts/sign-package-dir.sh, exactly as the how-to says. A package that fails verification is
// refused with 502 package_integrity naming the artifact URL and the reason, and nothing
// changes: nothing extracted under bpf-dir, nothing loaded, attached or pinned, GET and the
// store as before. A correctly signed package under `require` is deployed; so is one of the
// build's own repository (build/repo, signed by `make` with the development key).
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "e2e/daemon/daemon_fixture.h"
#include "json/parse.h"
#include "model/l3af_json.h"

namespace l3afd::e2e {
namespace {

const std::string kPlatform = L3AFD_PLATFORM;
const fs::path kSignScript = fs::path(L3AFD_SOURCE_DIR) / "scripts" / "sign-package-dir.sh";
const std::string kArtifactField = "/0/bpf_programs/xdp_ingress/0/artifact";

std::string quoted(const fs::path& p) {
  return "'" + p.string() + "'";
}

/// code, message and the errors[].field pointers of an API error body.
struct ErrorBody {
  std::string code;
  std::string message;
  std::vector<std::string> fields;
};

ErrorBody parse_error(const std::string& body) {
  ErrorBody out;
  auto root = json::parse(body);
  EXPECT_TRUE(root.has_value()) << body;
  if (!root || root->kind != json::Node::Kind::Map) return out;
  for (const auto& m : root->members) {
    if (m.key == "code") out.code = m.value.text;
    if (m.key == "message") out.message = m.value.text;
    if (m.key != "errors") continue;
    for (const auto& e : m.value.elements) {
      for (const auto& f : e.members) {
        if (f.key == "field") out.fields.push_back(f.value.text);
      }
    }
  }
  return out;
}

class Signing : public DaemonFixture {
 protected:
  void SetUp() override {
    ASSERT_EQ(veth_.error(), "");
    repo_ = dir_.path() / "signed-repo";
    keys_ = dir_.path() / "trusted-keys";
    signer_ = dir_.path() / "signer.key.pem";
    fs::create_directories(keys_);
    // The how-to's commands: a key pair, the public half into the trust directory.
    ASSERT_EQ(
        sh("openssl genpkey -algorithm ed25519 -out " + quoted(signer_) + " && openssl pkey -in " +
           quoted(signer_) + " -pubout -out " + quoted(keys_ / "release.pem")),
        0);
  }

  static int sh(const std::string& cmd) { return std::system(cmd.c_str()); }

  fs::path package_dir(const std::string& name, const std::string& version) const {
    return repo_ / name / version / kPlatform;
  }
  /// Copies the build's xdp-counter archive into the test repository as `version`.
  void publish_xdp_counter(const std::string& version) {
    const fs::path d = package_dir("xdp-counter", version);
    fs::create_directories(d);
    fs::copy_file(kRepoDir / "xdp-counter" / "1.0" / kPlatform / "l3af_xdp_counter.tar.gz",
                  d / "l3af_xdp_counter.tar.gz", fs::copy_options::overwrite_existing);
  }
  void sign(const fs::path& d, const fs::path& key) {
    ASSERT_EQ(sh("sh " + quoted(kSignScript) + " " + quoted(key) + " " + quoted(d)), 0);
  }
  bool start_require() {
    DaemonOptions o;
    o.repo_url = "file://" + repo_.string();
    o.trusted_keys_dir = keys_.string();
    o.signature_policy = "require";
    return start_daemon(o);
  }
  std::string artifact_url(const std::string& version) const {
    return "file://" + (package_dir("xdp-counter", version) / "l3af_xdp_counter.tar.gz").string();
  }
  /// Names directly under bpf-dir (the package cache), sorted.
  std::vector<std::string> cache_entries() const {
    std::vector<std::string> out;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(dir_.path() / "bpf", ec)) {
      out.push_back(e.path().filename());
    }
    std::sort(out.begin(), out.end());
    return out;
  }
  /// POSTs `version` of xdp-counter as `op` and expects the documented refusal: 502, code
  /// package_integrity, a message naming the artifact URL and `reason`, the artifact field; and
  /// nothing changed in the kernel, the store, GET and the package cache.
  void expect_refused(const std::string& op, const std::string& version,
                      const std::string& reason) {
    const std::string ifc = veth_.root_name();
    const auto k0 = kernel_snapshot({ifc});
    const auto s0 = state_bytes();
    const auto g0 = get_all().body;
    const auto c0 = cache_entries();
    auto r =
        api("POST", "/l3af/configs/v1/" + op,
            model::encode(std::vector<model::L3afBpfPrograms>{entry(ifc, xdp_counter(version))}));
    EXPECT_EQ(r.status, 502) << r.body;
    EXPECT_EQ(r.header("Content-Type"), "application/json");
    const auto e = parse_error(r.body);
    EXPECT_EQ(e.code, "package_integrity") << r.body;
    EXPECT_NE(e.message.find(artifact_url(version)), std::string::npos) << r.body;
    EXPECT_NE(e.message.find(reason), std::string::npos) << r.body;
    EXPECT_NE(std::find(e.fields.begin(), e.fields.end(), kArtifactField), e.fields.end())
        << r.body;

    const auto k1 = kernel_snapshot({ifc});
    EXPECT_EQ(k1, k0) << "before:\n" << k0.describe() << "after:\n" << k1.describe();
    EXPECT_EQ(state_bytes(), s0);
    EXPECT_EQ(get_all().body, g0);
    EXPECT_EQ(cache_entries(), c0) << "nothing extracted, no staging directory left";
    EXPECT_FALSE(fs::exists(dir_.path() / "bpf" / "xdp-counter" / version));
  }

  testing::VethPair veth_;
  fs::path repo_;
  fs::path keys_;
  fs::path signer_;
};

TEST_F(Signing, SignedPackageUnderRequireIsDeployed) {
  publish_xdp_counter("1.0");
  sign(package_dir("xdp-counter", "1.0"), signer_);
  ASSERT_TRUE(start_require());
  const std::string ifc = veth_.root_name();
  auto r = add({entry(ifc, xdp_counter())});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(get(ifc).body, model::encode(view(ifc, "198.18.200.1", xdp_counter())));
  EXPECT_NE(kernel_snapshot({ifc}).attached[ifc].xdp, 0u) << "attached to the interface";
  EXPECT_TRUE(fs::is_directory(dir_.path() / "bpf" / "xdp-counter" / "1.0" / "l3af_xdp_counter"));
  EXPECT_NE(daemon_log().find("signature verified"), std::string::npos);
}

TEST_F(Signing, TamperedUpgradeIsRefusedAndTheRunningVersionStays) {
  publish_xdp_counter("1.0");
  sign(package_dir("xdp-counter", "1.0"), signer_);
  // 2.0 is signed, then its archive is replaced: the listing no longer matches it.
  publish_xdp_counter("2.0");
  sign(package_dir("xdp-counter", "2.0"), signer_);
  fs::copy_file(kRepoDir / "tc-counter" / "1.0" / kPlatform / "l3af_tc_counter.tar.gz",
                package_dir("xdp-counter", "2.0") / "l3af_xdp_counter.tar.gz",
                fs::copy_options::overwrite_existing);
  ASSERT_TRUE(start_require());
  auto r = add({entry(veth_.root_name(), xdp_counter("1.0"))});
  ASSERT_EQ(r.status, 200) << r.body;
  ASSERT_NE(kernel_snapshot({veth_.root_name()}).attached[veth_.root_name()].xdp, 0u);
  expect_refused("update", "2.0", "digest mismatch");
}

TEST_F(Signing, UnsignedPackageUnderRequireIsRefused) {
  publish_xdp_counter("1.0");
  ASSERT_TRUE(start_require());
  expect_refused("add", "1.0", "SHA256SUMS does not exist");
}

TEST_F(Signing, SignatureByAnUntrustedKeyIsRefused) {
  const fs::path other = dir_.path() / "other.key.pem";
  ASSERT_EQ(sh("openssl genpkey -algorithm ed25519 -out " + quoted(other)), 0);
  publish_xdp_counter("1.0");
  sign(package_dir("xdp-counter", "1.0"), other);
  ASSERT_TRUE(start_require());
  expect_refused("add", "1.0", "bad signature");
}

TEST_F(Signing, ListingWithoutSignatureIsRefusedEvenUnderTheDefaultPolicy) {
  publish_xdp_counter("1.0");
  sign(package_dir("xdp-counter", "1.0"), signer_);
  fs::remove(package_dir("xdp-counter", "1.0") / "SHA256SUMS.sig");
  DaemonOptions o;  // signature-policy not written: if-present
  o.repo_url = "file://" + repo_.string();
  o.trusted_keys_dir = keys_.string();
  ASSERT_TRUE(start_daemon(o));
  expect_refused("add", "1.0", "SHA256SUMS.sig does not exist");
}

TEST_F(Signing, PerRepositoryRuleRelaxesOneRepository) {
  publish_xdp_counter("1.0");  // unsigned
  DaemonOptions o;
  o.repo_url = "file://" + repo_.string();
  o.trusted_keys_dir = keys_.string();
  o.signature_policy = "require";
  o.signature_policy_by_url = "file://" + repo_.string() + "=off";
  ASSERT_TRUE(start_daemon(o));
  auto r = add({entry(veth_.root_name(), xdp_counter())});
  EXPECT_EQ(r.status, 200) << r.body;
}

TEST_F(Signing, BuildRepositoryIsSignedWithTheDevelopmentKey) {
  const fs::path d = kRepoDir / "xdp-counter" / "1.0" / kPlatform;
  ASSERT_TRUE(fs::is_regular_file(d / "SHA256SUMS")) << d;
  ASSERT_TRUE(fs::is_regular_file(d / "SHA256SUMS.sig")) << d;
  DaemonOptions o;  // build/repo and the build's trust directory
  o.signature_policy = "require";
  ASSERT_TRUE(start_daemon(o));
  auto r = add({entry(veth_.root_name(), xdp_counter())});
  EXPECT_EQ(r.status, 200) << r.body;
}

// Configuration errors stop the start, naming the key and the file.
TEST_F(Signing, BadKeyFileStopsTheStart) {
  { std::ofstream(keys_ / "broken.pem") << "-----BEGIN PUBLIC KEY-----\nnope\n"; }
  DaemonOptions o;
  o.trusted_keys_dir = keys_.string();
  write_config(o);
  ASSERT_EQ(daemon_.spawn(config_, log_), "");
  EXPECT_EQ(daemon_.wait_exit(20000), 1);
  const std::string log = daemon_log();
  EXPECT_NE(log.find("[ebpf-repo] trusted-keys-dir: trusted key " +
                     (keys_ / "broken.pem").string() + " is not a PEM ed25519 public key"),
            std::string::npos)
      << log;
}

TEST_F(Signing, RequireWithoutKeysStopsTheStart) {
  fs::remove(keys_ / "release.pem");
  DaemonOptions o;
  o.trusted_keys_dir = keys_.string();
  o.signature_policy = "require";
  write_config(o);
  ASSERT_EQ(daemon_.spawn(config_, log_), "");
  EXPECT_EQ(daemon_.wait_exit(20000), 1);
  const std::string log = daemon_log();
  EXPECT_NE(log.find(config_.string() + ": [ebpf-repo] signature-policy: require, but " +
                     keys_.string() + " holds no ed25519 public key (*.pem)"),
            std::string::npos)
      << log;
}

}  // namespace
}  // namespace l3afd::e2e
