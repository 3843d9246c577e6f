#include <gtest/gtest.h>

#include <string>

#include "json/parse.h"

namespace l3afd::json {
namespace {

Node parse_ok(std::string_view text) {
  auto r = parse(text);
  EXPECT_TRUE(r.has_value()) << text << ": " << (r ? "" : r.error().reason);
  return r ? *r : Node{};
}

SyntaxError parse_err(std::string_view text, const ParseOptions& o = {}) {
  auto r = parse(text, o);
  EXPECT_FALSE(r.has_value()) << text;
  return r ? SyntaxError{} : r.error();
}

TEST(JsonParse, ScalarsAndSurroundingWhitespace) {
  EXPECT_EQ(parse_ok(" \t\r\n null \n").kind, Node::Kind::Null);
  const Node t = parse_ok("true");
  EXPECT_EQ(t.kind, Node::Kind::Bool);
  EXPECT_TRUE(t.boolean);
  EXPECT_FALSE(parse_ok("false").boolean);
  const Node s = parse_ok(R"("a\"b")");
  EXPECT_EQ(s.kind, Node::Kind::String);
  EXPECT_EQ(s.text, "a\"b");
}

TEST(JsonParse, NumbersKeepRawText) {
  for (const char* n :
       {"0", "-0", "1.0", "1e2", "1E+2", "-12.5e-3", "123456789012345678901234567890"}) {
    const Node v = parse_ok(n);
    EXPECT_EQ(v.kind, Node::Kind::Number);
    EXPECT_EQ(v.text, n);
  }
}

TEST(JsonParse, RejectsInvalidNumbers) {
  for (const char* n :
       {"01", "-", "1.", ".5", "+1", "1e", "1e+", "-a", "0x10", "1.e2", "Infinity", "NaN"}) {
    parse_err(n);
  }
}

TEST(JsonParse, ObjectKeepsOrderAndDuplicates) {
  const Node o = parse_ok(R"({"b":1,"a":2,"b":3})");
  ASSERT_EQ(o.kind, Node::Kind::Map);
  ASSERT_EQ(o.members.size(), 3u);
  EXPECT_EQ(o.members[0].key, "b");
  EXPECT_EQ(o.members[1].key, "a");
  EXPECT_EQ(o.members[2].key, "b");
  EXPECT_EQ(o.members[2].value.text, "3");
}

TEST(JsonParse, ArraysAndOffsets) {
  const Node a = parse_ok(R"([1, [], {}, "x"])");
  ASSERT_EQ(a.elements.size(), 4u);
  EXPECT_EQ(a.elements[1].kind, Node::Kind::List);
  EXPECT_TRUE(a.elements[1].elements.empty());
  EXPECT_EQ(a.elements[2].kind, Node::Kind::Map);
  EXPECT_EQ(a.elements[3].offset, 12u);
}

TEST(JsonParse, EscapesDecoded) {
  EXPECT_EQ(parse_ok(R"("\"\\\/\b\f\n\r\t")").text, "\"\\/\b\f\n\r\t");
  EXPECT_EQ(parse_ok(R"("\u0041\u00e9\u20AC")").text, "A\xC3\xA9\xE2\x82\xAC");
  EXPECT_EQ(parse_ok(R"("\ud83d\ude00")").text, "\xF0\x9F\x98\x80");
  EXPECT_EQ(parse_ok(R"("\u0000")").text, std::string("\0", 1));
}

TEST(JsonParse, UnpairedSurrogatesBecomeReplacementChar) {
  const std::string fffd = "\xEF\xBF\xBD";
  EXPECT_EQ(parse_ok(R"("\ud800")").text, fffd);
  EXPECT_EQ(parse_ok(R"("\udc00x")").text, fffd + "x");
  EXPECT_EQ(parse_ok(R"("\ud800\u0041")").text, fffd + "A");
  EXPECT_EQ(parse_ok(R"("\ud800\ud800\udc00")").text, fffd + "\xF0\x90\x80\x80");
  EXPECT_EQ(parse_ok(R"("\ude00\ud83d")").text, fffd + fffd);
}

TEST(JsonParse, InvalidUtf8BecomesOneReplacementCharPerByte) {
  const std::string fffd = "\xEF\xBF\xBD";
  EXPECT_EQ(parse_ok("\"a\xFF"
                     "b\"")
                .text,
            "a" + fffd + "b");
  EXPECT_EQ(parse_ok("\"\xE2\x82\"").text, fffd + fffd);             // truncated sequence
  EXPECT_EQ(parse_ok("\"\xC0\xAF\"").text, fffd + fffd);             // overlong '/'
  EXPECT_EQ(parse_ok("\"\xED\xA0\x80\"").text, fffd + fffd + fffd);  // encoded surrogate
  EXPECT_EQ(parse_ok("\"\xF4\x90\x80\x80\"").text, fffd + fffd + fffd + fffd);  // > U+10FFFF
  EXPECT_EQ(parse_ok("\"\xE2\x82\xAC\x7F\"").text, "\xE2\x82\xAC\x7F");         // valid kept raw
}

TEST(JsonParse, InvalidUtf8InKeysReplaced) {
  const Node o = parse_ok("{\"k\xFE\":1}");
  EXPECT_EQ(o.members.at(0).key, "k\xEF\xBF\xBD");
}

TEST(JsonParse, ErrorsCarryOffsetAndReason) {
  const SyntaxError e1 = parse_err(R"({"a":1 x})");
  EXPECT_EQ(e1.offset, 7u);
  EXPECT_NE(e1.reason.find("'x'"), std::string::npos) << e1.reason;
  EXPECT_NE(e1.reason.find("after object key:value pair"), std::string::npos) << e1.reason;

  const SyntaxError e2 = parse_err("[1,2");
  EXPECT_EQ(e2.offset, 4u);
  EXPECT_NE(e2.reason.find("end of input"), std::string::npos) << e2.reason;

  const SyntaxError e3 = parse_err("");
  EXPECT_EQ(e3.offset, 0u);

  const Error err = to_error(e1);
  EXPECT_EQ(err.code, Errc::InvalidJson);
  EXPECT_EQ(err.message.rfind("invalid json at byte 7: ", 0), 0u) << err.message;
}

TEST(JsonParse, RejectsTrailingDataAndMultipleValues) {
  EXPECT_EQ(parse_err("[] []").offset, 3u);
  parse_err("nullx");
  parse_err("{} ,");
}

TEST(JsonParse, RejectsStructuralMistakes) {
  for (const char* t : {"[1,]", "{\"a\":1,}", "{a:1}", "{\"a\" 1}", "[1 2]", "{'a':1}", "[", "{",
                        "\"abc", "tru", "nul", "[true false]", "\xEF\xBB\xBF[]", "\v[]"}) {
    parse_err(t);
  }
}

TEST(JsonParse, RejectsRawControlCharactersInStrings) {
  const SyntaxError e = parse_err("\"a\nb\"");
  EXPECT_EQ(e.offset, 2u);
  parse_err(std::string("\"a\0b\"", 5));
  parse_err("\"\x1f\"");
  EXPECT_EQ(parse_ok("\"\x7f\"").text, "\x7f");
}

TEST(JsonParse, RejectsBadEscapes) {
  for (const char* t : {R"("\x")", R"("\u12")", R"("\u12g4")", R"("\U1234")", R"("\)", R"("\')"}) {
    parse_err(t);
  }
}

TEST(JsonParse, DepthLimitIsAnErrorNotACrash) {
  const ParseOptions o{.max_depth = 256};
  const std::string ok_text = std::string(256, '[') + std::string(256, ']');
  EXPECT_TRUE(parse(ok_text, o).has_value());
  const std::string deep = std::string(257, '[') + std::string(257, ']');
  const SyntaxError e = parse_err(deep, o);
  EXPECT_EQ(e.offset, 256u);
  EXPECT_NE(e.reason.find("nesting depth"), std::string::npos);
  // Far beyond the limit, mixed containers: still a clean error.
  std::string huge;
  for (int i = 0; i < 100000; ++i) huge += i % 2 ? "[" : "{\"a\":";
  parse_err(huge, o);
}

}  // namespace
}  // namespace l3afd::json
