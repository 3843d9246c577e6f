#include "core/log.h"

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

namespace l3afd::log {

namespace {

/// The calling thread's request id (RequestScope). Read by the formatter, which runs on the
/// logging thread because the loggers are synchronous.
thread_local std::string t_request_id;

/// Appends `text` as the contents of a JSON string (quotes, backslashes and control
/// characters escaped).
void append_json_escaped(std::string_view text, spdlog::memory_buf_t& dest) {
  static constexpr char kHex[] = "0123456789abcdef";
  for (char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"': dest.append(std::string_view("\\\"")); break;
      case '\\': dest.append(std::string_view("\\\\")); break;
      case '\n': dest.append(std::string_view("\\n")); break;
      case '\r': dest.append(std::string_view("\\r")); break;
      case '\t': dest.append(std::string_view("\\t")); break;
      default:
        if (c < 0x20) {
          const char esc[] = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 15]};
          dest.append(esc, esc + sizeof(esc));
        } else {
          dest.push_back(ch);
        }
    }
  }
}

/// %j: the message as the contents of a JSON string, so every JSON log line is valid JSON
/// whatever the message holds.
class JsonMessageFlag final : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg& msg, const std::tm&,
              spdlog::memory_buf_t& dest) override {
    append_json_escaped(std::string_view(msg.payload.data(), msg.payload.size()), dest);
  }
  std::unique_ptr<custom_flag_formatter> clone() const override {
    return std::make_unique<JsonMessageFlag>();
  }
};

/// %Q: ` req=<id>` while a request is current, nothing otherwise (console lines).
class ConsoleRequestIdFlag final : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg&, const std::tm&,
              spdlog::memory_buf_t& dest) override {
    if (t_request_id.empty()) return;
    dest.append(std::string_view(" req="));
    dest.append(std::string_view(t_request_id));
  }
  std::unique_ptr<custom_flag_formatter> clone() const override {
    return std::make_unique<ConsoleRequestIdFlag>();
  }
};

/// %Q: `"request_id":"<id>",` while a request is current, nothing otherwise (JSON lines).
class JsonRequestIdFlag final : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg&, const std::tm&,
              spdlog::memory_buf_t& dest) override {
    if (t_request_id.empty()) return;
    dest.append(std::string_view("\"request_id\":\""));
    append_json_escaped(t_request_id, dest);
    dest.append(std::string_view("\","));
  }
  std::unique_ptr<custom_flag_formatter> clone() const override {
    return std::make_unique<JsonRequestIdFlag>();
  }
};

}  // namespace

std::string_view current_request_id() noexcept {
  return t_request_id;
}

RequestScope::RequestScope(std::string id)
    : previous_(std::exchange(t_request_id, std::move(id))) {}

RequestScope::~RequestScope() {
  t_request_id = std::move(previous_);
}

bool parse_level(std::string_view name, spdlog::level::level_enum& out) {
  std::string n(name);
  std::transform(n.begin(), n.end(), n.begin(), [](unsigned char c) { return std::tolower(c); });
  if (n == "trace")
    out = spdlog::level::trace;
  else if (n == "debug")
    out = spdlog::level::debug;
  else if (n == "info")
    out = spdlog::level::info;
  else if (n == "warn" || n == "warning")
    out = spdlog::level::warn;
  else if (n == "error")
    out = spdlog::level::err;
  else if (n == "fatal" || n == "panic")
    out = spdlog::level::critical;
  else
    return false;
  return true;
}

std::unique_ptr<spdlog::formatter> make_formatter(Format format) {
  auto f = std::make_unique<spdlog::pattern_formatter>();
  if (format == Format::Json) {
    // One JSON object per line (zerolog-like field names).
    f->add_flag<JsonMessageFlag>('j').add_flag<JsonRequestIdFlag>('Q').set_pattern(
        R"({"time":"%Y-%m-%dT%H:%M:%S.%e%z","level":"%l",%Q"message":"%j"})");
  } else {
    f->add_flag<ConsoleRequestIdFlag>('Q').set_pattern("%Y-%m-%dT%H:%M:%S.%e%z %^%-5l%$ %v%Q");
  }
  return f;
}

void setup(Format format, std::string_view level, const std::string& file_path) {
  std::vector<spdlog::sink_ptr> sinks;
  sinks.push_back(std::make_shared<spdlog::sinks::stderr_color_sink_mt>());
  if (!file_path.empty()) {
    sinks.push_back(std::make_shared<spdlog::sinks::basic_file_sink_mt>(file_path, false));
  }
  auto logger = std::make_shared<spdlog::logger>("l3afd", sinks.begin(), sinks.end());
  logger->set_formatter(make_formatter(format));
  spdlog::level::level_enum lvl = spdlog::level::info;
  if (!level.empty()) parse_level(level, lvl);
  logger->set_level(lvl);
  logger->flush_on(spdlog::level::info);
  spdlog::set_default_logger(logger);
}

}  // namespace l3afd::log
