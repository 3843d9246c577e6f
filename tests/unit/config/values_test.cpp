// Go-compatible value syntaxes (docs/compatibility.md §8.1 item 9).
#include "config/values.h"

#include <gtest/gtest.h>

#include <string>

namespace l3afd::config {
namespace {

using std::chrono::hours;
using std::chrono::microseconds;
using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::nanoseconds;
using std::chrono::seconds;

TEST(GoBool, AcceptsEveryTrueSpellingCaseInsensitively) {
  for (const char* s :
       {"t", "true", "y", "yes", "on", "1", "T", "TRUE", "True", "Y", "YES", "On", "oN", "tRuE"}) {
    EXPECT_EQ(parse_go_bool(s), true) << s;
  }
}

TEST(GoBool, AcceptsEveryFalseSpellingCaseInsensitively) {
  for (const char* s :
       {"f", "false", "n", "no", "off", "0", "F", "FALSE", "False", "N", "NO", "Off", "oFF"}) {
    EXPECT_EQ(parse_go_bool(s), false) << s;
  }
}

TEST(GoBool, RejectsEverythingElse) {
  for (const char* s : {"", " true", "true ", "2", "-1", "enabled", "ye", "tru", "of", "nope", "10",
                        "00", "yes!"}) {
    EXPECT_EQ(parse_go_bool(s), std::nullopt) << '"' << s << '"';
  }
}

TEST(GoInt, AcceptsOptionalSignAndDigits) {
  EXPECT_EQ(parse_go_int("0"), 0);
  EXPECT_EQ(parse_go_int("42"), 42);
  EXPECT_EQ(parse_go_int("+42"), 42);
  EXPECT_EQ(parse_go_int("-42"), -42);
  EXPECT_EQ(parse_go_int("007"), 7);
  EXPECT_EQ(parse_go_int("9223372036854775807"), INT64_MAX);
  EXPECT_EQ(parse_go_int("-9223372036854775808"), INT64_MIN);
}

TEST(GoInt, RejectsOtherSyntaxAndOverflow) {
  for (const char* s :
       {"", "+", "-", " 1", "1 ", "1_000", "0x10", "1e3", "1.0", "12a", "--1", "+-1",
        "9223372036854775808", "-9223372036854775809", "99999999999999999999999"}) {
    EXPECT_EQ(parse_go_int(s), std::nullopt) << '"' << s << '"';
  }
}

TEST(GoDuration, ParsesSingleUnits) {
  EXPECT_EQ(parse_go_duration("25s"), seconds(25));
  EXPECT_EQ(parse_go_duration("300ms"), milliseconds(300));
  EXPECT_EQ(parse_go_duration("1us"), microseconds(1));
  EXPECT_EQ(parse_go_duration("1\xC2\xB5s"), microseconds(1));  // micro sign
  EXPECT_EQ(parse_go_duration("1\xCE\xBCs"), microseconds(1));  // greek mu
  EXPECT_EQ(parse_go_duration("7ns"), nanoseconds(7));
  EXPECT_EQ(parse_go_duration("2m"), minutes(2));
  EXPECT_EQ(parse_go_duration("3h"), hours(3));
}

TEST(GoDuration, ParsesSequencesAndFractions) {
  EXPECT_EQ(parse_go_duration("1m30s"), seconds(90));
  EXPECT_EQ(parse_go_duration("1h1m1s1ms"), hours(1) + minutes(1) + seconds(1) + milliseconds(1));
  EXPECT_EQ(parse_go_duration("1.5h"), minutes(90));
  EXPECT_EQ(parse_go_duration(".5s"), milliseconds(500));
  EXPECT_EQ(parse_go_duration("1.s"), seconds(1));
  EXPECT_EQ(parse_go_duration("0.001s"), milliseconds(1));
  EXPECT_EQ(parse_go_duration("1.0000000001s"), seconds(1));  // below 1ns is dropped
  EXPECT_EQ(parse_go_duration("1s1s"), seconds(2));           // Go sums repeated units
}

TEST(GoDuration, AcceptsBareZeroAndSigns) {
  EXPECT_EQ(parse_go_duration("0"), nanoseconds(0));
  EXPECT_EQ(parse_go_duration("+0"), nanoseconds(0));
  EXPECT_EQ(parse_go_duration("-0"), nanoseconds(0));
  EXPECT_EQ(parse_go_duration("0s"), nanoseconds(0));
  EXPECT_EQ(parse_go_duration("-1.5s"), milliseconds(-1500));
  EXPECT_EQ(parse_go_duration("+2s"), seconds(2));
}

TEST(GoDuration, HandlesTheInt64Limits) {
  EXPECT_EQ(parse_go_duration("9223372036854775807ns"), nanoseconds(INT64_MAX));
  EXPECT_EQ(parse_go_duration("-9223372036854775808ns"), nanoseconds(INT64_MIN));
  EXPECT_EQ(parse_go_duration("9223372036854775808ns"), std::nullopt);
  EXPECT_EQ(parse_go_duration("2562048h"), std::nullopt);
  EXPECT_EQ(parse_go_duration("9223372036s1s"), std::nullopt);
  EXPECT_EQ(parse_go_duration("99999999999999999999s"), std::nullopt);
}

TEST(GoDuration, RejectsOtherSyntax) {
  for (const char* s : {"",   "+",    "-",     "1",      "10",  "00",    "s",      ".s",
                        ".",  "1.5",  "1 s",   " 1s",    "1s ", "1sec",  "1d",     "1S",
                        "1H", "1m30", "1..5s", "1.5.5s", "x1s", "1s-1s", "1\xC2s", "--1s"}) {
    EXPECT_EQ(parse_go_duration(s), std::nullopt) << '"' << s << '"';
  }
}

}  // namespace
}  // namespace l3afd::config
