#include "core/log.h"

#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>

#include <algorithm>
#include <string>
#include <vector>

namespace l3afd::log {

bool parse_level(std::string_view name, spdlog::level::level_enum& out) {
  std::string n(name);
  std::transform(n.begin(), n.end(), n.begin(), [](unsigned char c) { return std::tolower(c); });
  if (n == "trace") out = spdlog::level::trace;
  else if (n == "debug") out = spdlog::level::debug;
  else if (n == "info") out = spdlog::level::info;
  else if (n == "warn" || n == "warning") out = spdlog::level::warn;
  else if (n == "error") out = spdlog::level::err;
  else if (n == "fatal" || n == "panic") out = spdlog::level::critical;
  else return false;
  return true;
}

void setup(Format format, std::string_view level, const std::string& file_path) {
  std::vector<spdlog::sink_ptr> sinks;
  sinks.push_back(std::make_shared<spdlog::sinks::stderr_color_sink_mt>());
  if (!file_path.empty()) {
    sinks.push_back(std::make_shared<spdlog::sinks::basic_file_sink_mt>(file_path, false));
  }
  auto logger = std::make_shared<spdlog::logger>("l3afd", sinks.begin(), sinks.end());
  if (format == Format::Json) {
    // One JSON object per line; the message is emitted as-is (callers avoid raw quotes).
    logger->set_pattern(R"({"time":"%Y-%m-%dT%H:%M:%S.%e%z","level":"%l","message":"%v"})");
  } else {
    logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e%z %^%-5l%$ %v");
  }
  spdlog::level::level_enum lvl = spdlog::level::info;
  if (!level.empty()) parse_level(level, lvl);
  logger->set_level(lvl);
  logger->flush_on(spdlog::level::info);
  spdlog::set_default_logger(logger);
}

}  // namespace l3afd::log
