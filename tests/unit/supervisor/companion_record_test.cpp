// The companion record's text form: a round trip keeps every field, odd characters included; a
// file that is not a record, or a malformed line, is refused rather than half-read.
#include "supervisor/companion_record.h"

#include <gtest/gtest.h>

#include "supervisor/cgroup.h"
#include "supervisor/run_command.h"

namespace l3afd::supervisor {
namespace {

TEST(CompanionRecord, RoundTripKeepsEveryField) {
  const std::vector<CompanionRecord> in{
      {"eth0/ingress/ratelimiting", 4242, 123456789, "/var/l3afd/pkg/ratelimiting", false},
      {"probes/odd\tname%\nx", 7, 1, "/pkg with space/bin/x\ty", true},
  };
  const auto text = encode_records(in);
  EXPECT_EQ(text.rfind("# l3afd companions v1\n", 0), 0u);
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 3) << "one line per process";
  auto out = decode_records(text);
  ASSERT_TRUE(out) << out.error().to_string();
  EXPECT_EQ(*out, in);
  auto empty = decode_records(encode_records({}));
  ASSERT_TRUE(empty);
  EXPECT_TRUE(empty->empty());
}

TEST(CompanionRecord, MalformedTextIsRefused) {
  for (const char* bad : {
           "", "something else\n",
           "# l3afd companions v1\n12\t34\trunning\tid\n",         // 4 fields
           "# l3afd companions v1\nx\t34\trunning\tid\t/e\n",      // pid not a number
           "# l3afd companions v1\n0\t34\trunning\tid\t/e\n",      // pid 0
           "# l3afd companions v1\n12\t34\tmaybe\tid\t/e\n",       // state
           "# l3afd companions v1\n12\t34\trunning\tid%4\t/e\n",   // truncated escape
           "# l3afd companions v1\n12\t34\trunning\tid%zz\t/e\n",  // bad escape
       }) {
    auto r = decode_records(bad);
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().code, Errc::InvalidPayload);
  }
}

TEST(CgroupName, StaysOneDirectoryInsideTheRootAndTellsIdsApart) {
  for (const char* id : {"eth0/ingress/x", "..", ".", "../../etc", "a b/c", ""}) {
    const auto name = Cgroups::group_name(id);
    EXPECT_EQ(name.find('/'), std::string::npos) << id;
    EXPECT_NE(name, ".");
    EXPECT_NE(name, "..");
    EXPECT_EQ(name.rfind("c-", 0), 0u);
  }
  EXPECT_NE(Cgroups::group_name("a/b"), Cgroups::group_name("a_b"));
  EXPECT_EQ(Cgroups::group_name("eth0/ingress/x"), Cgroups::group_name("eth0/ingress/x"));
}

TEST(LastLines, KeepsTheEndOfTheOutputOnOneLine) {
  EXPECT_EQ(last_lines("a\nb\nc\nd\n", 2), "c | d");
  EXPECT_EQ(last_lines("only", 3), "only");
  EXPECT_EQ(last_lines("\n\n", 3), "");
  EXPECT_EQ(last_lines("x\r\ny\n\n", 5), "x | y");
}

}  // namespace
}  // namespace l3afd::supervisor
