// Logging facade over spdlog. The daemon configures one logger at start-up
// (console or JSON lines, level from L3AF_LOG_LEVEL); libraries only call these functions.
// Thread-safe (spdlog loggers are).
#pragma once

#include <spdlog/spdlog.h>

#include <string_view>

namespace l3afd::log {

enum class Format { Console, Json };

/// Configures the default logger. `level` is a zerolog name (trace, debug, info, warn, error,
/// fatal, panic); unknown names fall back to info. Call once, before other threads start.
void setup(Format format, std::string_view level, const std::string& file_path = {});

/// Parses a zerolog level name; returns false for unknown names.
bool parse_level(std::string_view name, spdlog::level::level_enum& out);

}  // namespace l3afd::log

// Use spdlog's free functions directly: spdlog::info("op={} ...", ...).
