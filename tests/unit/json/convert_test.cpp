#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "json/convert.h"
#include "json/parse.h"

namespace l3afd::json {
namespace {

TEST(JsonConvert, ParseInt64AcceptsOnlyIntegerSyntaxInRange) {
  EXPECT_EQ(parse_int64("0"), 0);
  EXPECT_EQ(parse_int64("-0"), 0);
  EXPECT_EQ(parse_int64("9223372036854775807"), std::numeric_limits<std::int64_t>::max());
  EXPECT_EQ(parse_int64("-9223372036854775808"), std::numeric_limits<std::int64_t>::min());
  EXPECT_FALSE(parse_int64("9223372036854775808"));
  EXPECT_FALSE(parse_int64("-9223372036854775809"));
  EXPECT_FALSE(parse_int64("1.0"));
  EXPECT_FALSE(parse_int64("1e2"));
  EXPECT_FALSE(parse_int64(""));
  EXPECT_FALSE(parse_int64("+1"));
}

TEST(JsonConvert, ParseDoubleGoSemantics) {
  EXPECT_EQ(parse_double("8080"), 8080.0);
  EXPECT_EQ(parse_double("0.5"), 0.5);
  EXPECT_EQ(parse_double("1e21"), 1e21);
  EXPECT_EQ(parse_double("4e-320"), 4e-320);  // subnormal, no error
  const auto tiny = parse_double("-1e-400");  // underflow: signed zero, no error
  ASSERT_TRUE(tiny);
  EXPECT_EQ(*tiny, 0.0);
  EXPECT_TRUE(std::signbit(*tiny));
  EXPECT_EQ(parse_double("0.0000e999999999999"), 0.0);
  EXPECT_FALSE(parse_double("1e400"));
  EXPECT_FALSE(parse_double("-1.5e309"));
  EXPECT_FALSE(parse_double("1" + std::string(400, '0')));
  EXPECT_TRUE(std::signbit(*parse_double("-0")));
}

TEST(JsonConvert, ToValueLaterDuplicateWinsAndNumbersAreDoubles) {
  const auto n = parse(R"({"a":{"x":1},"b":[1,"s",null,true],"a":{"y":2.5}})");
  ASSERT_TRUE(n);
  const auto v = to_value(*n);
  ASSERT_TRUE(v);
  const Object& o = std::get<Object>(v->v);
  ASSERT_EQ(o.size(), 2u);
  const Object& a = std::get<Object>(o.at("a").v);
  EXPECT_EQ(a.size(), 1u);  // replaced entirely, not merged
  EXPECT_EQ(std::get<double>(a.at("y").v), 2.5);
  const Array& b = std::get<Array>(o.at("b").v);
  ASSERT_EQ(b.size(), 4u);
  EXPECT_EQ(std::get<double>(b[0].v), 1.0);
  EXPECT_EQ(std::get<std::string>(b[1].v), "s");
  EXPECT_TRUE(b[2].is_null());
  EXPECT_TRUE(std::get<bool>(b[3].v));
}

TEST(JsonConvert, ToValueOverflowReportsPointer) {
  const auto n = parse(R"({"a/b":[0,1e999]})");
  ASSERT_TRUE(n);
  const auto v = to_value(*n, "/0/start_args");
  ASSERT_FALSE(v);
  EXPECT_EQ(v.error().code, Errc::InvalidJson);
  ASSERT_EQ(v.error().items.size(), 1u);
  EXPECT_EQ(v.error().items[0].field, "/0/start_args/a~1b/1");
}

TEST(JsonConvert, PointerToken) {
  EXPECT_EQ(pointer_token("a/b~c"), "a~1b~0c");
  EXPECT_EQ(pointer_token("plain"), "plain");
}

}  // namespace
}  // namespace l3afd::json
