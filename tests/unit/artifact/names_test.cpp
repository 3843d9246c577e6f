// Stem, format and path-component rules; archive member name normalisation; checksum files.
#include <gtest/gtest.h>

#include "artifact/artifact.h"
#include "artifact/extract.h"
#include "artifact/sha256.h"

namespace l3afd::artifact {
namespace {

TEST(ArtifactStem, IsTheNameBeforeTheFirstDot) {
  EXPECT_EQ(*artifact_stem("l3af_ratelimiting.tar.gz"), "l3af_ratelimiting");
  EXPECT_EQ(*artifact_stem("l3af_tc_root.zip"), "l3af_tc_root");
  EXPECT_EQ(*artifact_stem("pkg.v1.2.tar.gz"), "pkg");
  EXPECT_EQ(*artifact_stem("noext"), "noext");
}

TEST(ArtifactStem, RejectsEmptyStemAndUnsafeNames) {
  EXPECT_EQ(artifact_stem(".tar.gz").error().code, Errc::InvalidPayload);
  EXPECT_FALSE(artifact_stem("").has_value());
  EXPECT_FALSE(artifact_stem("a/b.tar.gz").has_value());
  EXPECT_FALSE(artifact_stem("a..tar.gz").has_value());
}

TEST(ArtifactFormat, BySuffix) {
  EXPECT_EQ(*artifact_format("x.tar.gz"), ArchiveFormat::TarGz);
  EXPECT_EQ(*artifact_format("x.zip"), ArchiveFormat::Zip);
  for (const char* bad : {"x.tgz", "x.tar", "x.tar.bz2", "x.gz", ".zip", "x.ZIP", "x"}) {
    auto f = artifact_format(bad);
    ASSERT_FALSE(f.has_value()) << bad;
    EXPECT_EQ(f.error().code, Errc::InvalidPayload);
    EXPECT_NE(f.error().message.find("unknown artifact format"), std::string::npos);
  }
}

TEST(ValidateComponent, AcceptsOrdinaryNames) {
  EXPECT_TRUE(validate_component("name", "ratelimiting").has_value());
  EXPECT_TRUE(validate_component("version", "1.2.0+build-3").has_value());
}

TEST(ValidateComponent, RejectsUnsafeNames) {
  for (std::string_view bad :
       {std::string_view(""), std::string_view("."), std::string_view(".."),
        std::string_view("a/b"), std::string_view("a..b"), std::string_view("a\0b", 3)}) {
    auto st = validate_component("name", bad);
    ASSERT_FALSE(st.has_value());
    EXPECT_EQ(st.error().code, Errc::InvalidPayload);
    EXPECT_NE(st.error().message.find("name"), std::string::npos);
  }
}

TEST(NormalizeEntryName, StripsDotSlashAndRepeatedSlashes) {
  EXPECT_EQ(detail::normalize_entry_name("./l3af_x/prog.o")->value(), "l3af_x/prog.o");
  EXPECT_EQ(detail::normalize_entry_name("l3af_x/")->value(), "l3af_x");
  EXPECT_EQ(detail::normalize_entry_name("././a//b/./c")->value(), "a/b/c");
}

TEST(NormalizeEntryName, RootItselfIsNullopt) {
  EXPECT_FALSE(detail::normalize_entry_name("./")->has_value());
  EXPECT_FALSE(detail::normalize_entry_name(".")->has_value());
  EXPECT_FALSE(detail::normalize_entry_name(".//./")->has_value());
}

TEST(NormalizeEntryName, RejectsAbsoluteAndDotDot) {
  EXPECT_FALSE(detail::normalize_entry_name("/etc/passwd").has_value());
  EXPECT_FALSE(detail::normalize_entry_name("../x").has_value());
  EXPECT_FALSE(detail::normalize_entry_name("a/../../x").has_value());
  EXPECT_FALSE(detail::normalize_entry_name("a/b..c").has_value());
  EXPECT_FALSE(detail::normalize_entry_name("").has_value());
}

TEST(ChecksumFile, ParsesBareDigestAndSha256sumOutput) {
  const std::string hex(64, 'a');
  EXPECT_EQ(*detail::parse_sha256_file(hex), hex);
  EXPECT_EQ(*detail::parse_sha256_file(std::string(64, 'A') + "  x.tar.gz\n"), hex);
  EXPECT_EQ(*detail::parse_sha256_file("\n " + hex + "\n"), hex);
}

TEST(ChecksumFile, RejectsMalformedContent) {
  EXPECT_FALSE(detail::parse_sha256_file("").has_value());
  EXPECT_FALSE(detail::parse_sha256_file(std::string(63, 'a')).has_value());
  EXPECT_FALSE(detail::parse_sha256_file(std::string(63, 'a') + "g").has_value());
}

}  // namespace
}  // namespace l3afd::artifact
