// Golden tests for the Go encoding/json output rules of docs/compatibility.md §5.1 (one rule each).
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>

#include "json/encode.h"

namespace l3afd::json {
namespace {

std::string str(std::string_view s) {
  std::string out;
  append_string(out, s);
  return out;
}

Value obj(std::initializer_list<std::pair<const std::string, Value>> members) {
  return Value(Object(members));
}

TEST(JsonEncode, Rule1LayoutNestedIndentation) {
  const Value v = obj({{"a", Value(Array{Value(1.0), Value(obj({{"b", Value(true)}}))})}});
  EXPECT_EQ(encode_indent(v), "{\n  \"a\": [\n    1,\n    {\n      \"b\": true\n    }\n  ]\n}");
}

TEST(JsonEncode, Rule1EmptyContainersOnOneLine) {
  const Value v = obj({{"a", Value(Array{})}, {"o", Value(Object{})}});
  EXPECT_EQ(encode_indent(v), "{\n  \"a\": [],\n  \"o\": {}\n}");
  EXPECT_EQ(encode_indent(Value(Array{})), "[]");
  EXPECT_EQ(encode_indent(Value(Object{})), "{}");
  EXPECT_EQ(encode_indent(Value(Array{Value(Array{})})), "[\n  []\n]");
}

TEST(JsonEncode, Rule1CustomIndentString) {
  const Value v = obj({{"k", Value(Array{Value(std::string("x"))})}});
  EXPECT_EQ(encode_indent(v, " "), "{\n \"k\": [\n  \"x\"\n ]\n}");
  EXPECT_EQ(encode_indent(v, "\t"), "{\n\t\"k\": [\n\t\t\"x\"\n\t]\n}");
  // MarshalIndent with an empty indent still breaks lines.
  EXPECT_EQ(encode_indent(v, ""), "{\n\"k\": [\n\"x\"\n]\n}");
}

TEST(JsonEncode, Rule2MemberSeparator) {
  EXPECT_EQ(encode_indent(obj({{"k", Value(nullptr)}})), "{\n  \"k\": null\n}");
}

TEST(JsonEncode, Rule3WriterKeepsCallerFieldOrder) {
  Writer w = Writer::indented("  ");
  w.begin_object();
  w.key("z");
  w.int_value(1);
  w.key("a");
  w.int_value(2);
  w.end_object();
  EXPECT_EQ(w.str(), "{\n  \"z\": 1,\n  \"a\": 2\n}");
}

TEST(JsonEncode, Rule4NullEmptyArrayEmptyObjectDistinct) {
  EXPECT_EQ(encode_compact(Value(Array{Value(nullptr), Value(Array{}), Value(Object{})})),
            "[null,[],{}]");
}

TEST(JsonEncode, Rule5NamedEscapes) {
  EXPECT_EQ(str("\"\\\n\r\t\b\f"), R"("\"\\\n\r\t\b\f")");
}

TEST(JsonEncode, Rule5ControlCharactersLowerCaseHex) {
  EXPECT_EQ(str(std::string("\0\x01\x1a\x1f", 4)), R"("\u0000\u0001\u001a\u001f")");
  EXPECT_EQ(str("\x0b"), R"("\u000b")");
}

TEST(JsonEncode, Rule5HtmlSafeEscaping) {
  EXPECT_EQ(str("<a href=\"x\">&</a>"), R"("\u003ca href=\"x\"\u003e\u0026\u003c/a\u003e")");
}

TEST(JsonEncode, Rule5HtmlEscapingAlsoInKeys) {
  EXPECT_EQ(encode_compact(obj({{"<&>", Value(1.0)}})), R"({"\u003c\u0026\u003e":1})");
}

TEST(JsonEncode, Rule5LineAndParagraphSeparators) {
  EXPECT_EQ(str("a\xE2\x80\xA8"
                "b\xE2\x80\xA9"),
            R"("a\u2028b\u2029")");
}

TEST(JsonEncode, Rule5SlashAndDelAndNonAsciiRaw) {
  EXPECT_EQ(str("/\x7f\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80\xEF\xBF\xBD"),
            "\"/\x7f\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80\xEF\xBF\xBD\"");
}

TEST(JsonEncode, Rule5InvalidUtf8ByteAsEscapedReplacement) {
  EXPECT_EQ(str("a\xFF"
                "b\xE2\x82"),
            R"("a\ufffdb\ufffd\ufffd")");
}

TEST(JsonEncode, Rule6Integers) {
  Writer w = Writer::compact();
  w.begin_array();
  w.int_value(0);
  w.int_value(-42);
  w.int_value(std::numeric_limits<std::int64_t>::min());
  w.int_value(std::numeric_limits<std::int64_t>::max());
  w.end_array();
  EXPECT_EQ(w.str(), "[0,-42,-9223372036854775808,9223372036854775807]");
}

struct DoubleCase {
  double value;
  const char* text;
};

TEST(JsonEncode, Rule7DoublesPlainRange) {
  for (const DoubleCase& c : {DoubleCase{8080, "8080"},
                              {0.5, "0.5"},
                              {123456789012, "123456789012"},
                              {1e-6, "0.000001"},
                              {-1e-6, "-0.000001"},
                              {1e20, "100000000000000000000"},
                              {9.999999999999999e20, "999999999999999900000"},
                              {0.1 + 0.2, "0.30000000000000004"},
                              {-2.5, "-2.5"},
                              {9007199254740993.0, "9007199254740992"}}) {
    EXPECT_EQ(format_double(c.value), c.text) << c.text;
  }
}

TEST(JsonEncode, Rule7DoublesExponentForm) {
  for (const DoubleCase& c : {DoubleCase{1e21, "1e+21"},
                              {1.5e-7, "1.5e-7"},
                              {1e-10, "1e-10"},
                              {-1e21, "-1e+21"},
                              {9.99999e-7, "9.99999e-7"},
                              {1.23e302, "1.23e+302"},
                              {5e-324, "5e-324"},
                              {1.7976931348623157e308, "1.7976931348623157e+308"},
                              {1e100, "1e+100"}}) {
    EXPECT_EQ(format_double(c.value), c.text) << c.text;
  }
}

TEST(JsonEncode, Rule7ZeroAndNegativeZero) {
  EXPECT_EQ(format_double(0.0), "0");
  EXPECT_EQ(format_double(-0.0), "-0");
}

TEST(JsonEncode, Rule8Booleans) {
  EXPECT_EQ(encode_compact(Value(Array{Value(true), Value(false)})), "[true,false]");
}

TEST(JsonEncode, Rule9MapKeysSortedByBytes) {
  const Value v = obj({{"b", Value(1.0)},
                       {"B", Value(2.0)},
                       {"a", Value(3.0)},
                       {"\xC3\xA9", Value(4.0)},
                       {"_", Value(5.0)},
                       {"aa", Value(6.0)},
                       {"1", Value(7.0)}});
  EXPECT_EQ(encode_compact(v), "{\"1\":7,\"B\":2,\"_\":5,\"a\":3,\"aa\":6,\"b\":1,\"\xC3\xA9\":4}");
}

TEST(JsonEncode, Rule9NestedValuesFollowSameRules) {
  const Value v = obj({{"n", Value(obj({{"y", Value(1e21)}, {"x", Value(std::string("<"))}}))}});
  EXPECT_EQ(encode_indent(v), "{\n  \"n\": {\n    \"x\": \"\\u003c\",\n    \"y\": 1e+21\n  }\n}");
}

TEST(JsonEncode, Rule10NoTrailingNewline) {
  const std::string out = encode_indent(obj({{"a", Value(1.0)}}));
  ASSERT_FALSE(out.empty());
  EXPECT_EQ(out.back(), '}');
}

TEST(JsonEncode, CompactHasNoWhitespace) {
  const Value v =
      obj({{"a", Value(Array{Value(1.0), Value(std::string("x y"))})}, {"b", Value(Object{})}});
  EXPECT_EQ(encode_compact(v), R"({"a":[1,"x y"],"b":{}})");
}

TEST(JsonEncode, NonFiniteWrittenAsNull) {
  EXPECT_EQ(format_double(std::numeric_limits<double>::infinity()), "null");
  EXPECT_EQ(format_double(std::nan("")), "null");
}

}  // namespace
}  // namespace l3afd::json
