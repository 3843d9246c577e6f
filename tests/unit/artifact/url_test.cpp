// artifact_url: Go url.JoinPath semantics, and the URL helpers behind it.
#include <gtest/gtest.h>

#include "artifact/artifact.h"
#include "artifact/url_parts.h"

namespace l3afd::artifact {
namespace {

std::string url_of(const std::string& repo, const std::string& name, const std::string& version,
                   const std::string& platform, const std::string& artifact) {
  auto u = artifact_url(ArtifactRef{repo, name, version, artifact}, platform);
  EXPECT_TRUE(u.has_value()) << (u ? "" : u.error().to_string());
  return u ? *u : std::string{};
}

TEST(ArtifactUrl, JoinsTheFiveParts) {
  EXPECT_EQ(
      url_of("file:///srv/l3afd", "ratelimiting", "latest", "jammy", "l3af_ratelimiting.tar.gz"),
      "file:///srv/l3afd/ratelimiting/latest/jammy/l3af_ratelimiting.tar.gz");
  EXPECT_EQ(url_of("https://repo.example:8443/l3af", "p", "1.2.0", "bookworm", "p.zip"),
            "https://repo.example:8443/l3af/p/1.2.0/bookworm/p.zip");
}

TEST(ArtifactUrl, CollapsesRepeatedAndTrailingSlashes) {
  EXPECT_EQ(url_of("http://h/repo/", "n", "v", "p", "a.tar.gz"), "http://h/repo/n/v/p/a.tar.gz");
  EXPECT_EQ(url_of("http://h//repo///", "n", "v", "p", "a.tar.gz"), "http://h/repo/n/v/p/a.tar.gz");
}

TEST(ArtifactUrl, HostWithoutPathGetsARootedPath) {
  EXPECT_EQ(url_of("http://h", "n", "v", "p", "a.zip"), "http://h/n/v/p/a.zip");
  EXPECT_EQ(url_of("http://h:80", "n", "v", "p", "a.zip"), "http://h:80/n/v/p/a.zip");
}

TEST(ArtifactUrl, CleansDotAndDotDotElements) {
  EXPECT_EQ(url_of("http://h/a/./b", "n", "v", "p", "x.zip"), "http://h/a/b/n/v/p/x.zip");
  EXPECT_EQ(url_of("http://h/a/b", "..", "v", "p", "x.zip"), "http://h/a/v/p/x.zip");
  EXPECT_EQ(url_of("http://h/a", "..", "..", "p", "x.zip"), "http://h/p/x.zip");
  EXPECT_EQ(url_of("http://h/a", ".", "v", ".", "x.zip"), "http://h/a/v/x.zip");
}

TEST(ArtifactUrl, DotDotNeverClimbsAboveTheRoot) {
  EXPECT_EQ(url_of("http://h/", "..", "..", "..", "x.zip"), "http://h/x.zip");
  EXPECT_EQ(url_of("file:///", "../../etc", "v", "p", "x.zip"), "file:///etc/v/p/x.zip");
}

TEST(ArtifactUrl, KeepsQueryAndFragmentOfTheBase) {
  EXPECT_EQ(url_of("http://h/r?token=1", "n", "v", "p", "a.zip"), "http://h/r/n/v/p/a.zip?token=1");
}

TEST(ArtifactUrl, SchemeIsLowerCasedAndAuthorityKept) {
  EXPECT_EQ(url_of("HTTP://User:pw@H/r", "n", "v", "p", "a.zip"), "http://User:pw@H/r/n/v/p/a.zip");
}

TEST(ArtifactUrl, EscapesCharactersOutsideThePathSet) {
  EXPECT_EQ(url_of("http://h", "a b", "1.0+x", "p", "q?.zip"), "http://h/a%20b/1.0+x/p/q%3F.zip");
  EXPECT_EQ(url_of("http://h", "50%", "v", "p", "a.zip"), "http://h/50%25/v/p/a.zip");
}

TEST(ArtifactUrl, EmptyHostFileUrlStaysAbsolute) {
  EXPECT_EQ(url_of("file://", "n", "v", "p", "a.zip"), "file:///n/v/p/a.zip");
}

TEST(ArtifactUrl, RelativeBaseStaysRelative) {
  EXPECT_EQ(url_of("repo/dir", "n", "v", "p", "a.zip"), "repo/dir/n/v/p/a.zip");
}

TEST(ArtifactUrl, RejectsEmptyOrControlCharacters) {
  EXPECT_EQ(artifact_url(ArtifactRef{"", "n", "v", "a.zip"}, "p").error().code,
            Errc::InvalidPayload);
  EXPECT_FALSE(artifact_url(ArtifactRef{"http://h/a b", "n", "v", "a.zip"}, "p").has_value());
  EXPECT_FALSE(artifact_url(ArtifactRef{"http://h/\n", "n", "v", "a.zip"}, "p").has_value());
}

TEST(UrlParts, PercentDecode) {
  EXPECT_EQ(*detail::percent_decode("/a%20b/%41"), "/a b/A");
  EXPECT_FALSE(detail::percent_decode("/a%2").has_value());
  EXPECT_FALSE(detail::percent_decode("/a%zz").has_value());
  EXPECT_FALSE(detail::percent_decode("/a%00b").has_value());
}

TEST(UrlParts, RedactsUserInfo) {
  EXPECT_EQ(detail::redact_url("https://u:secret@h/x"), "https://***@h/x");
  EXPECT_EQ(detail::redact_url("https://h/x"), "https://h/x");
}

}  // namespace
}  // namespace l3afd::artifact
