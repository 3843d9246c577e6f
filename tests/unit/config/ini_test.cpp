// The l3afd.cfg dialect, rule by rule (docs/compatibility.md §8.1).
#include "config/ini.h"

#include <gtest/gtest.h>

#include <map>
#include <string>

namespace l3afd::config {
namespace {

IniFile parse_ok(std::string_view text) {
  auto r = IniFile::parse(text, "t.cfg");
  EXPECT_TRUE(r.has_value()) << (r ? "" : r.error().message);
  return r ? std::move(*r) : IniFile{};
}

std::string get(const IniFile& ini, std::string_view section, std::string_view key,
                const EnvLookup& env = {}) {
  auto v = ini.get_string(section, key, env);
  EXPECT_TRUE(v.has_value()) << section << "/" << key << ": " << (v ? "" : v.error().reason);
  return v ? *v : std::string("<error>");
}

EnvLookup env_of(std::map<std::string, std::string, std::less<>> vars) {
  return [vars = std::move(vars)](std::string_view name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

// Rule 1: comment cutting.

TEST(IniComments, CutsAtSpaceHashAnywhereInTheLine) {
  auto ini = parse_ok("[s]\nurl: http://h/a #x\n");
  EXPECT_EQ(get(ini, "s", "url"), "http://h/a");
}

TEST(IniComments, CutsAtTabSemicolonAndSpaceSemicolon) {
  auto ini = parse_ok("[s]\na: one\t;c\nb: two ;c\nc: three\t#c\n");
  EXPECT_EQ(get(ini, "s", "a"), "one");
  EXPECT_EQ(get(ini, "s", "b"), "two");
  EXPECT_EQ(get(ini, "s", "c"), "three");
}

TEST(IniComments, KeepsHashOrSemicolonNotPrecededByWhitespace) {
  auto ini = parse_ok("[s]\na: a#b\nb: x;y\nc: http://h/#frag\n");
  EXPECT_EQ(get(ini, "s", "a"), "a#b");
  EXPECT_EQ(get(ini, "s", "b"), "x;y");
  EXPECT_EQ(get(ini, "s", "c"), "http://h/#frag");
}

TEST(IniComments, CutsAtTheFirstOfSeveralMarkers) {
  auto ini = parse_ok("[s]\na: v #one ;two\nb: v ;one #two\n");
  EXPECT_EQ(get(ini, "s", "a"), "v");
  EXPECT_EQ(get(ini, "s", "b"), "v");
}

TEST(IniComments, CutsInsideSectionHeaderLines) {
  auto ini = parse_ok("[s] # the s section\na: 1\n");
  EXPECT_EQ(get(ini, "s", "a"), "1");
}

TEST(IniComments, CutInsideKeyLeavesAnUnparsableLine) {
  auto r = IniFile::parse("[s]\nkey #: value\n", "t.cfg");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().message, "t.cfg:2: cannot parse line: key");
}

TEST(IniComments, TrimsTrailingWhitespaceAndCarriageReturn) {
  auto ini = parse_ok("[s]\r\na: v  \t\r\nb: w\r\n");
  EXPECT_EQ(get(ini, "s", "a"), "v");
  EXPECT_EQ(get(ini, "s", "b"), "w");
}

// Rule 2: empty lines and full-line comments.

TEST(IniComments, IgnoresEmptyAndCommentLines) {
  auto ini = parse_ok("\n# comment: with colon\n; another = one\n   \n\t\n[s]\n#x\na: 1\n \t# c\n");
  EXPECT_EQ(get(ini, "s", "a"), "1");
  EXPECT_FALSE(ini.has_own_key("s", "#x"));
  EXPECT_FALSE(ini.raw("DEFAULT", "# comment").has_value());
}

TEST(IniComments, EmptyInputIsAnEmptyFile) {
  auto ini = parse_ok("");
  EXPECT_FALSE(ini.raw("s", "a").has_value());
  EXPECT_FALSE(ini.has_section("s"));
}

// Rule 3: sections.

TEST(IniSections, NameIsTrimmedAndCaseSensitive) {
  auto ini = parse_ok("[  my section \t]\na: 1\n[mTLS]\nb: 2\n");
  EXPECT_TRUE(ini.has_section("my section"));
  EXPECT_EQ(get(ini, "my section", "a"), "1");
  EXPECT_TRUE(ini.has_own_key("mTLS", "b"));
  EXPECT_FALSE(ini.has_own_key("mtls", "b"));
  EXPECT_FALSE(ini.raw("mtls", "b").has_value());
}

TEST(IniSections, RepeatedSectionsMerge) {
  auto ini = parse_ok("[a]\nx: 1\n[b]\ny: 2\n[a]\nz: 3\n");
  EXPECT_EQ(get(ini, "a", "x"), "1");
  EXPECT_EQ(get(ini, "a", "z"), "3");
  EXPECT_FALSE(ini.has_own_key("b", "z"));
}

TEST(IniSections, EmptySectionIsAccepted) {
  auto ini = parse_ok("[DEFAULT]\n\n[empty]\n[s]\na: 1\n");
  EXPECT_TRUE(ini.has_section("DEFAULT"));
  EXPECT_TRUE(ini.has_section("empty"));
  EXPECT_EQ(get(ini, "s", "a"), "1");
}

TEST(IniSections, HeaderNeedsBracketFirstAndLast) {
  // "[a] b" does not end in ']' and has no separator: a parse error.
  auto r = IniFile::parse("[a] b\n", "t.cfg");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().message, "t.cfg:1: cannot parse line: [a] b");
  // A lone '[' is not a header either.
  EXPECT_FALSE(IniFile::parse("[\n", "t.cfg").has_value());
  // With a separator, such a line is a key.
  auto ini = parse_ok("[a:b\n");
  EXPECT_EQ(get(ini, "DEFAULT", "[a"), "b");
}

TEST(IniSections, EmptyHeaderNameMeansDefault) {
  auto ini = parse_ok("[s]\na: 1\n[]\nb: 2\n");
  EXPECT_TRUE(ini.has_own_key("DEFAULT", "b"));
  EXPECT_EQ(get(ini, "s", "b"), "2");
}

// Rule 4: key/value lines.

TEST(IniKeys, ColonAndEqualsBothSeparate) {
  auto ini = parse_ok("[s]\na: 1\nb = 2\nc=3\nd:4\n");
  EXPECT_EQ(get(ini, "s", "a"), "1");
  EXPECT_EQ(get(ini, "s", "b"), "2");
  EXPECT_EQ(get(ini, "s", "c"), "3");
  EXPECT_EQ(get(ini, "s", "d"), "4");
}

TEST(IniKeys, SplitsAtTheFirstSeparator) {
  auto ini = parse_ok("[s]\nrestapi-addr: localhost:7080\neq = a=b:c\nmix: x=y\n");
  EXPECT_EQ(get(ini, "s", "restapi-addr"), "localhost:7080");
  EXPECT_EQ(get(ini, "s", "eq"), "a=b:c");
  EXPECT_EQ(get(ini, "s", "mix"), "x=y");
}

TEST(IniKeys, TrimsKeyAndValue) {
  auto ini = parse_ok("[s]\nmy key \t:   spaced value \n");
  EXPECT_EQ(get(ini, "s", "my key"), "spaced value");
}

TEST(IniKeys, EmptyValueIsKept) {
  auto ini = parse_ok("[s]\na:\nb =   \n");
  EXPECT_EQ(get(ini, "s", "a"), "");
  EXPECT_EQ(get(ini, "s", "b"), "");
  EXPECT_TRUE(ini.has_own_key("s", "a"));
}

TEST(IniKeys, KeysAreCaseSensitive) {
  auto ini = parse_ok("[s]\nBpfMapDefaultPath: /sys/fs/bpf\n");
  EXPECT_EQ(get(ini, "s", "BpfMapDefaultPath"), "/sys/fs/bpf");
  EXPECT_FALSE(ini.raw("s", "bpfmapdefaultpath").has_value());
}

TEST(IniKeys, LastRepeatedKeyWins) {
  auto ini = parse_ok("[s]\na: 1\na: 2\n[t]\n[s]\na: 3\n");
  EXPECT_EQ(get(ini, "s", "a"), "3");
}

TEST(IniKeys, LineStartingWithSeparatorIsAnError) {
  auto r = IniFile::parse("[s]\n: value\n", "t.cfg");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().message, "t.cfg:2: cannot parse line: : value");
  EXPECT_EQ(r.error().code, Errc::InvalidPayload);
}

// Rule 5: continuation lines.

TEST(IniContinuation, AppendsTrimmedLineAfterNewline) {
  auto ini = parse_ok("[s]\nrules: a,\n  b,\n\tc  \nnext: 1\n");
  EXPECT_EQ(get(ini, "s", "rules"), "a,\nb,\nc");
  EXPECT_EQ(get(ini, "s", "next"), "1");
}

TEST(IniContinuation, SurvivesBlankAndCommentLines) {
  auto ini = parse_ok("[s]\na: 1\n\n# c\n  2 #tail\n");
  EXPECT_EQ(get(ini, "s", "a"), "1\n2");
}

TEST(IniContinuation, IndentedKeyLineIsAContinuation) {
  auto ini = parse_ok("[s]\na: 1\n  b: 2\n");
  EXPECT_EQ(get(ini, "s", "a"), "1\nb: 2");
  EXPECT_FALSE(ini.has_own_key("s", "b"));
}

TEST(IniContinuation, IndentedLineWithoutOpenKeyIsAnError) {
  auto r = IniFile::parse("[s]\n  b: 2\n", "x.cfg");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().message, "x.cfg:2: cannot parse line:   b: 2");
}

TEST(IniContinuation, SectionHeaderClosesTheKey) {
  EXPECT_FALSE(IniFile::parse("[s]\na: 1\n[t]\n  more\n", "t.cfg").has_value());
}

TEST(IniContinuation, NotAvailableBeforeTheFirstSection) {
  // As in robfig/config, keys before any header cannot be continued.
  auto r = IniFile::parse("a: 1\n  more\n", "t.cfg");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().message, "t.cfg:2: cannot parse line:   more");
  // An explicit [DEFAULT] header allows it.
  auto ini = parse_ok("[DEFAULT]\na: 1\n  more\n");
  EXPECT_EQ(get(ini, "x", "a"), "1\nmore");
}

// Rule 6: keys before any section, parse errors.

TEST(IniDefault, KeysBeforeAnySectionBelongToDefault) {
  auto ini = parse_ok("top: 1\n[s]\na: 2\n");
  EXPECT_TRUE(ini.has_own_key("DEFAULT", "top"));
  EXPECT_EQ(get(ini, "s", "top"), "1");
}

TEST(IniErrors, LineWithoutSeparatorNamesFileAndLine) {
  auto r = IniFile::parse("[s]\na: 1\n\njust text\nb: 2\n", "config/l3afd.cfg");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().message, "config/l3afd.cfg:4: cannot parse line: just text");
}

TEST(IniErrors, NonPrintableBytesAreEscapedInTheMessage) {
  auto r = IniFile::parse(std::string("[s]\nab\x01\xff\n", 9), "t.cfg");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().message, "t.cfg:2: cannot parse line: ab\\x01\\xff");
}

TEST(IniErrors, LastLineWithoutNewlineIsParsed) {
  auto ini = parse_ok("[s]\na: 1");
  EXPECT_EQ(get(ini, "s", "a"), "1");
  EXPECT_FALSE(IniFile::parse("[s]\nbad", "t.cfg").has_value());
}

// Rule 7: lookup falls back to DEFAULT.

TEST(IniLookup, FallsBackToDefaultForMissingKeyOrSection) {
  auto ini = parse_ok("[DEFAULT]\nd: dv\na: default-a\n[s]\na: own\n");
  EXPECT_EQ(get(ini, "s", "a"), "own");
  EXPECT_EQ(get(ini, "s", "d"), "dv");
  EXPECT_EQ(get(ini, "nosuch", "d"), "dv");
}

TEST(IniLookup, MissingEverywhereIsMissing) {
  auto ini = parse_ok("[s]\na: 1\n");
  auto v = ini.get_string("s", "b");
  ASSERT_FALSE(v.has_value());
  EXPECT_EQ(v.error().kind, ReadErrc::Missing);
  EXPECT_FALSE(ini.raw("s", "b").has_value());
}

// Rule 8: interpolation.

TEST(IniInterpolation, ReplacesFromSameSectionFirstThenDefault) {
  auto ini = parse_ok(
      "[DEFAULT]\ndir: /default\nbase: /b\n[s]\ndir: /own\npath: %(dir)s/x\nother: %(base)s/y\n");
  EXPECT_EQ(get(ini, "s", "path"), "/own/x");
  EXPECT_EQ(get(ini, "s", "other"), "/b/y");
}

TEST(IniInterpolation, DefaultKeysResolveInTheReadingSection) {
  // A DEFAULT value read through another section interpolates in that section.
  auto ini = parse_ok("[DEFAULT]\npath: %(dir)s/f\ndir: /d\n[s]\ndir: /s\n");
  EXPECT_EQ(get(ini, "s", "path"), "/s/f");
  EXPECT_EQ(get(ini, "t", "path"), "/d/f");
}

TEST(IniInterpolation, ResolvesNestedReferencesAndRepeats) {
  auto ini = parse_ok("[s]\na: %(b)s-%(b)s\nb: %(c)s\nc: leaf\n");
  EXPECT_EQ(get(ini, "s", "a"), "leaf-leaf");
}

TEST(IniInterpolation, LeavesNonMatchingSyntaxAlone) {
  auto ini = parse_ok("[s]\na: 100%(x y)s %()s %(b) $HOME ${} ${a b}\n");
  EXPECT_EQ(get(ini, "s", "a"), "100%(x y)s %()s %(b) $HOME ${} ${a b}");
}

TEST(IniInterpolation, UndefinedReferenceIsAnErrorNamingIt) {
  auto ini = parse_ok("[s]\na: %(nope)s/x\n");
  auto v = ini.get_string("s", "a");
  ASSERT_FALSE(v.has_value());
  EXPECT_EQ(v.error().kind, ReadErrc::UndefinedReference);
  EXPECT_EQ(v.error().reason, "undefined reference %(nope)s");
}

TEST(IniInterpolation, EmptyReferencedValueMakesTheKeyUnreadable) {
  auto ini = parse_ok("[s]\ne:\na: %(e)s/x\n");
  auto v = ini.get_string("s", "a");
  ASSERT_FALSE(v.has_value());
  EXPECT_EQ(v.error().kind, ReadErrc::Unreadable);
}

TEST(IniInterpolation, CycleStopsAfter200RoundsWithAnError) {
  auto ini = parse_ok("[s]\na: %(b)s\nb: %(a)s\nself: x%(self)s\n");
  for (const char* key : {"a", "self"}) {
    auto v = ini.get_string("s", key);
    ASSERT_FALSE(v.has_value()) << key;
    EXPECT_EQ(v.error().kind, ReadErrc::Unreadable);
    EXPECT_NE(v.error().reason.find("200"), std::string::npos);
  }
}

TEST(IniInterpolation, ExactlyTheRoundLimitIsEnforced) {
  // A chain k0 -> k1 -> ... needs one substitution per link.
  auto chain = [](int links) {
    std::string text = "[s]\n";
    for (int i = 0; i < links; ++i) {
      text += "k" + std::to_string(i) + ": %(k" + std::to_string(i + 1) + ")s\n";
    }
    text += "k" + std::to_string(links) + ": end\n";
    return text;
  };
  auto ok = parse_ok(chain(199));
  EXPECT_EQ(get(ok, "s", "k0"), "end");
  auto too_long = parse_ok(chain(200));
  EXPECT_FALSE(too_long.get_string("s", "k0").has_value());
}

TEST(IniInterpolation, ReplacesEnvironmentVariablesAfterReferences) {
  auto ini = parse_ok("[s]\nhost: ${HOST_NAME}\nurl: ${SCHEME}://%(host)s/x\n");
  auto env = env_of({{"HOST_NAME", "example"}, {"SCHEME", "https"}});
  EXPECT_EQ(get(ini, "s", "url", env), "https://example/x");
}

TEST(IniInterpolation, EnvironmentValueIsNotReinterpolatedAsReference) {
  auto ini = parse_ok("[s]\na: ${V}\nb: secret\n");
  EXPECT_EQ(get(ini, "s", "a", env_of({{"V", "%(b)s"}})), "%(b)s");
}

TEST(IniInterpolation, UnsetOrEmptyEnvironmentVariableMakesKeyUnreadable) {
  auto ini = parse_ok("[s]\na: ${L3AFD_TEST_UNSET}/x\n");
  for (const auto& env : {env_of({}), env_of({{"L3AFD_TEST_UNSET", ""}})}) {
    auto v = ini.get_string("s", "a", env);
    ASSERT_FALSE(v.has_value());
    EXPECT_EQ(v.error().kind, ReadErrc::Unreadable);
    EXPECT_EQ(v.error().reason, "environment variable L3AFD_TEST_UNSET is unset or empty");
  }
}

TEST(IniInterpolation, ProcessEnvironmentIsTheDefault) {
  ASSERT_EQ(setenv("L3AFD_INI_TEST_VAR", "from-env", 1), 0);
  auto ini = parse_ok("[s]\na: ${L3AFD_INI_TEST_VAR}\n");
  auto v = ini.get_string("s", "a");
  unsetenv("L3AFD_INI_TEST_VAR");
  ASSERT_TRUE(v.has_value());
  EXPECT_EQ(*v, "from-env");
  EXPECT_FALSE(ini.get_string("s", "a").has_value());
}

TEST(IniInterpolation, UnreadKeysAreNotInterpolated) {
  // Problems surface only when a key is read.
  auto ini = parse_ok("[s]\nbroken: %(nope)s ${NOPE}\ngood: 1\n");
  EXPECT_EQ(get(ini, "s", "good"), "1");
  EXPECT_EQ(ini.raw("s", "broken"), "%(nope)s ${NOPE}");
}

// Rule 9: typed getters.

TEST(IniTyped, ParsesBoolIntAndDurationAfterInterpolation) {
  auto ini = parse_ok("[s]\nb: %(t)s\nt: Yes\ni: -12\nd: 1m30s\n");
  EXPECT_EQ(ini.get_bool("s", "b").value(), true);
  EXPECT_EQ(ini.get_int("s", "i").value(), -12);
  EXPECT_EQ(ini.get_duration("s", "d").value(), std::chrono::seconds(90));
}

TEST(IniTyped, BadValuesAreInvalidWithTheTextInTheReason) {
  auto ini = parse_ok("[s]\nb: maybe\ni: 1.5\nd: 10\ne:\n");
  auto b = ini.get_bool("s", "b");
  ASSERT_FALSE(b.has_value());
  EXPECT_EQ(b.error().kind, ReadErrc::Invalid);
  EXPECT_EQ(b.error().reason, "\"maybe\" is not a boolean");
  auto i = ini.get_int("s", "i");
  ASSERT_FALSE(i.has_value());
  EXPECT_EQ(i.error().reason, "\"1.5\" is not an integer");
  auto d = ini.get_duration("s", "d");
  ASSERT_FALSE(d.has_value());
  EXPECT_EQ(d.error().reason, "\"10\" is not a duration");
  EXPECT_EQ(ini.get_duration("s", "e").error().kind, ReadErrc::Invalid);
}

TEST(IniTyped, MissingKeyStaysMissingForTypedGetters) {
  auto ini = parse_ok("[s]\n");
  EXPECT_EQ(ini.get_bool("s", "x").error().kind, ReadErrc::Missing);
  EXPECT_EQ(ini.get_int("s", "x").error().kind, ReadErrc::Missing);
  EXPECT_EQ(ini.get_duration("s", "x").error().kind, ReadErrc::Missing);
}

}  // namespace
}  // namespace l3afd::config
