#include "core/log.h"

#include "support/log_capture.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace {

TEST(Log, JsonLinesStayValidJsonWhateverTheMessage) {
  const auto path = std::filesystem::temp_directory_path() /
                    ("l3afd-log-" + std::to_string(::getpid()) + ".json");
  std::filesystem::remove(path);
  l3afd::log::setup(l3afd::log::Format::Json, "debug", path.string());
  const std::string tricky = "say \"hi\"\\ path\nnext\tline \x01 end <&>";
  spdlog::info("{}", tricky);
  spdlog::default_logger()->flush();
  std::ifstream in(path);
  std::string line;
  ASSERT_TRUE(std::getline(in, line));
  auto j = nlohmann::json::parse(line);  // throws (fails the test) if invalid
  EXPECT_EQ(j.at("message").get<std::string>(), tricky);
  EXPECT_EQ(j.at("level").get<std::string>(), "info");
  EXPECT_TRUE(j.contains("time"));
  spdlog::drop_all();
  std::filesystem::remove(path);
}

using l3afd::testing::CapturedLog;

bool ends_with(const std::string& s, const std::string& tail) {
  return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

TEST(Log, ConsoleLinesCarryTheRequestIdOnlyInsideARequestScope) {
  CapturedLog log(l3afd::log::Format::Console);
  spdlog::info("before");
  {
    const l3afd::log::RequestScope scope("abc-123");
    EXPECT_EQ(l3afd::log::current_request_id(), "abc-123");
    spdlog::warn("applying plan: 2 step(s)");
  }
  EXPECT_EQ(l3afd::log::current_request_id(), "");
  spdlog::info("after");
  const auto lines = log.lines();
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_TRUE(ends_with(lines[0], " info  before")) << lines[0];
  EXPECT_TRUE(ends_with(lines[1], " warning applying plan: 2 step(s) req=abc-123")) << lines[1];
  EXPECT_TRUE(ends_with(lines[2], " info  after")) << lines[2];
  EXPECT_EQ(lines[2].find("req="), std::string::npos) << lines[2];
}

TEST(Log, JsonLinesCarryARequestIdFieldOnlyInsideARequestScope) {
  CapturedLog log(l3afd::log::Format::Json);
  spdlog::info("outside");
  {
    // Never produced by the daemon (ids are checked), but the line must stay valid JSON.
    const l3afd::log::RequestScope scope("id \"quoted\"\n");
    spdlog::error("inside");
  }
  const auto lines = log.lines();
  ASSERT_EQ(lines.size(), 2u);
  const auto outside = nlohmann::json::parse(lines[0]);
  EXPECT_FALSE(outside.contains("request_id")) << lines[0];
  EXPECT_EQ(outside.at("message").get<std::string>(), "outside");
  const auto inside = nlohmann::json::parse(lines[1]);
  EXPECT_EQ(inside.at("request_id").get<std::string>(), "id \"quoted\"\n");
  EXPECT_EQ(inside.at("message").get<std::string>(), "inside");
  EXPECT_EQ(inside.at("level").get<std::string>(), "error");
}

TEST(Log, NestedScopesRestoreTheOuterIdAndAnEmptyIdMeansNone) {
  CapturedLog log(l3afd::log::Format::Console);
  {
    const l3afd::log::RequestScope outer("outer");
    {
      const l3afd::log::RequestScope inner("inner");
      spdlog::info("one");
      {
        const l3afd::log::RequestScope none("");
        spdlog::info("two");
      }
      spdlog::info("three");
    }
    spdlog::info("four");
  }
  spdlog::info("five");
  const auto lines = log.lines();
  ASSERT_EQ(lines.size(), 5u);
  EXPECT_TRUE(ends_with(lines[0], "one req=inner")) << lines[0];
  EXPECT_TRUE(ends_with(lines[1], "two")) << lines[1];
  EXPECT_TRUE(ends_with(lines[2], "three req=inner")) << lines[2];
  EXPECT_TRUE(ends_with(lines[3], "four req=outer")) << lines[3];
  EXPECT_TRUE(ends_with(lines[4], "five")) << lines[4];
}

TEST(Log, AnotherThreadsRequestIdDoesNotLeak) {
  CapturedLog log(l3afd::log::Format::Console);
  const l3afd::log::RequestScope mine("main-thread");
  std::thread other([] {
    spdlog::info("other without scope");
    const l3afd::log::RequestScope theirs("other-thread");
    spdlog::info("other with scope");
  });
  other.join();
  spdlog::info("main");
  const auto lines = log.lines();
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_TRUE(ends_with(lines[0], "other without scope")) << lines[0];
  EXPECT_TRUE(ends_with(lines[1], "other with scope req=other-thread")) << lines[1];
  EXPECT_TRUE(ends_with(lines[2], "main req=main-thread")) << lines[2];
}

TEST(Log, SetupInstallsTheRequestIdFormat) {
  const auto path = std::filesystem::temp_directory_path() /
                    ("l3afd-log-req-" + std::to_string(::getpid()) + ".log");
  std::filesystem::remove(path);
  l3afd::log::setup(l3afd::log::Format::Console, "info", path.string());
  {
    const l3afd::log::RequestScope scope("r1");
    spdlog::info("hello");
  }
  spdlog::default_logger()->flush();
  std::ifstream in(path);
  std::string line;
  ASSERT_TRUE(std::getline(in, line));
  EXPECT_TRUE(ends_with(line, " info  hello req=r1")) << line;
  spdlog::drop_all();
  std::filesystem::remove(path);
}

TEST(Log, LevelNamesFollowZerolog) {
  spdlog::level::level_enum l{};
  EXPECT_TRUE(l3afd::log::parse_level("TRACE", l));
  EXPECT_EQ(l, spdlog::level::trace);
  EXPECT_TRUE(l3afd::log::parse_level("warn", l));
  EXPECT_EQ(l, spdlog::level::warn);
  EXPECT_TRUE(l3afd::log::parse_level("panic", l));
  EXPECT_EQ(l, spdlog::level::critical);
  EXPECT_FALSE(l3afd::log::parse_level("verbose", l));
}

}  // namespace
