#include "core/log.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

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
