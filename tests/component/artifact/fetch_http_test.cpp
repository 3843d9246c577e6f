// RepositorySource over http:// against a real socket server on 127.0.0.1.
#include <openssl/sha.h>

#include "component/artifact/fixture.h"
#include "component/artifact/http_server.h"

namespace l3afd::artifact::testing {
namespace {

std::string hex_sha256(const std::string& data) {
  unsigned char md[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), md);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char b : md) {
    out.push_back(kHex[b >> 4]);
    out.push_back(kHex[b & 0xf]);
  }
  return out;
}

class FetchHttp : public ArtifactFixture {
 protected:
  ArtifactRef http_ref(const std::string& name) const {
    return ArtifactRef{server_.base_url() + "/repo", name, "1.0", "l3af_" + name + ".tar.gz"};
  }
  static std::string path_of(const ArtifactRef& r) {
    return "/repo/" + r.name + "/" + r.version + "/" + kPlatform + "/" + r.artifact;
  }
  /// Builds a good package for `r` and returns its bytes.
  std::string package_bytes(const ArtifactRef& r, const std::string& marker) {
    const fs::path tmp = root_ / ("built-" + r.name + ".tar.gz");
    const std::string top = "l3af_" + r.name;
    EXPECT_EQ(write_archive(tmp, TestFormat::TarGz,
                            {dir("./" + top + "/"), file("./" + top + "/prog.bpf.o", marker),
                             file("./" + top + "/run.sh", "#!/bin/sh\n", 0755)}),
              "");
    return read(tmp);
  }

  TestHttpServer server_;
};

TEST_F(FetchHttp, DownloadsAndExtracts) {
  auto r = http_ref("web");
  server_.set(path_of(r), {200, package_bytes(r, "over-http")});
  auto got = RepositorySource(options_).fetch(r);
  ASSERT_TRUE(got.has_value()) << got.error().to_string();
  EXPECT_FALSE(got->from_cache);
  EXPECT_EQ(read(got->package_dir / "prog.bpf.o"), "over-http");
  EXPECT_EQ(server_.hits(path_of(r)), 1);
  EXPECT_EQ(server_.hits(path_of(r) + ".sha256"), 1) << "the optional checksum was looked up";
}

TEST_F(FetchHttp, CacheHitMakesNoRequest) {
  auto r = http_ref("once");
  server_.set(path_of(r), {200, package_bytes(r, "x")});
  RepositorySource src(options_);
  ASSERT_TRUE(src.fetch(r).has_value());
  auto again = src.fetch(r);
  ASSERT_TRUE(again.has_value());
  EXPECT_TRUE(again->from_cache);
  EXPECT_EQ(server_.hits(path_of(r)), 1);
}

TEST_F(FetchHttp, BodyWithoutContentLengthIsAccepted) {
  auto r = http_ref("streamed");
  server_.set(path_of(r), {200, package_bytes(r, "s"), false});
  auto got = RepositorySource(options_).fetch(r);
  ASSERT_TRUE(got.has_value()) << got.error().to_string();
  EXPECT_EQ(read(got->package_dir / "prog.bpf.o"), "s");
}

TEST_F(FetchHttp, Status404IsReportedWithTheUrl) {
  auto r = http_ref("missing");
  auto got = RepositorySource(options_).fetch(r);
  ASSERT_FALSE(got.has_value());
  EXPECT_EQ(got.error().code, Errc::NotFound);
  EXPECT_NE(got.error().message.find("http status 404"), std::string::npos) << got.error().message;
  EXPECT_NE(got.error().message.find(server_.base_url() + path_of(r)), std::string::npos);
  EXPECT_TRUE(list(cache_).empty());
}

TEST_F(FetchHttp, Status500IsReported) {
  auto r = http_ref("broken");
  server_.set(path_of(r), {500, "boom"});
  auto got = RepositorySource(options_).fetch(r);
  ASSERT_FALSE(got.has_value());
  EXPECT_EQ(got.error().code, Errc::Unavailable);
  EXPECT_NE(got.error().message.find("http status 500"), std::string::npos) << got.error().message;
  EXPECT_TRUE(list(cache_).empty());
}

TEST_F(FetchHttp, SizeCapWithContentLength) {
  options_.max_download_bytes = 1024;
  auto r = http_ref("huge");
  server_.set(path_of(r), {200, std::string(256 * 1024, 'h')});
  auto got = RepositorySource(options_).fetch(r);
  ASSERT_FALSE(got.has_value());
  EXPECT_EQ(got.error().code, Errc::Unavailable);
  EXPECT_NE(got.error().message.find("size limit of 1024 bytes"), std::string::npos)
      << got.error().message;
  EXPECT_TRUE(list(cache_).empty());
}

TEST_F(FetchHttp, SizeCapWhileStreaming) {
  options_.max_download_bytes = 1024;
  auto r = http_ref("hugestream");
  server_.set(path_of(r), {200, std::string(256 * 1024, 'h'), false});
  auto got = RepositorySource(options_).fetch(r);
  ASSERT_FALSE(got.has_value());
  EXPECT_NE(got.error().message.find("size limit of 1024 bytes"), std::string::npos)
      << got.error().message;
  EXPECT_TRUE(list(cache_).empty());
}

TEST_F(FetchHttp, ChecksumMatch) {
  auto r = http_ref("signed");
  const std::string bytes = package_bytes(r, "ok");
  server_.set(path_of(r), {200, bytes});
  server_.set(path_of(r) + ".sha256", {200, hex_sha256(bytes) + "  " + r.artifact + "\n"});
  options_.require_checksum = true;
  auto got = RepositorySource(options_).fetch(r);
  ASSERT_TRUE(got.has_value()) << got.error().to_string();
  EXPECT_EQ(read(got->package_dir / "prog.bpf.o"), "ok");
}

TEST_F(FetchHttp, ChecksumMismatch) {
  auto r = http_ref("tampered");
  const std::string bytes = package_bytes(r, "evil");
  server_.set(path_of(r), {200, bytes});
  server_.set(path_of(r) + ".sha256", {200, hex_sha256(bytes + "x") + "\n"});
  auto got = RepositorySource(options_).fetch(r);
  ASSERT_FALSE(got.has_value());
  EXPECT_NE(got.error().message.find("checksum mismatch"), std::string::npos)
      << got.error().message;
  EXPECT_NE(got.error().message.find(hex_sha256(bytes)), std::string::npos);
  EXPECT_TRUE(list(cache_).empty());
}

TEST_F(FetchHttp, ChecksumServerErrorFailsTheFetch) {
  auto r = http_ref("sumerr");
  server_.set(path_of(r), {200, package_bytes(r, "x")});
  server_.set(path_of(r) + ".sha256", {500, "boom"});
  auto got = RepositorySource(options_).fetch(r);
  ASSERT_FALSE(got.has_value());
  EXPECT_NE(got.error().message.find("checksum"), std::string::npos);
  EXPECT_NE(got.error().message.find("http status 500"), std::string::npos);
}

TEST_F(FetchHttp, StalledServerTimesOut) {
  options_.timeout = std::chrono::milliseconds(300);
  auto r = http_ref("stall");
  server_.set(path_of(r), {200, "", true, true});
  auto got = RepositorySource(options_).fetch(r);
  ASSERT_FALSE(got.has_value());
  EXPECT_EQ(got.error().code, Errc::Timeout) << got.error().to_string();
  EXPECT_NE(got.error().message.find("timed out"), std::string::npos);
  EXPECT_TRUE(list(cache_).empty());
}

TEST_F(FetchHttp, LatestIsDownloadedAgain) {
  ArtifactRef r{server_.base_url() + "/repo", "live", "latest", "l3af_live.tar.gz"};
  const std::string path = "/repo/live/latest/" + std::string(kPlatform) + "/l3af_live.tar.gz";
  server_.set(path, {200, package_bytes(r, "v1")});
  RepositorySource src(options_);
  ASSERT_TRUE(src.fetch(r).has_value());
  server_.set(path, {200, package_bytes(r, "v2")});
  auto got = src.fetch(r);
  ASSERT_TRUE(got.has_value()) << got.error().to_string();
  EXPECT_EQ(read(got->package_dir / "prog.bpf.o"), "v2");
  EXPECT_EQ(server_.hits(path), 2);
}

}  // namespace
}  // namespace l3afd::artifact::testing
