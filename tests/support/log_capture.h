// A logger with the daemon's own line format (log::make_formatter) writing into a string, made
// the default logger for its lifetime; the previous default is restored when it goes. For tests
// that assert what the daemon logs.
#pragma once

#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "core/log.h"

namespace l3afd::testing {

class CapturedLog {
 public:
  explicit CapturedLog(log::Format format, spdlog::level::level_enum level = spdlog::level::trace)
      : previous_(spdlog::default_logger()),
        logger_(std::make_shared<spdlog::logger>(
            "capture", std::make_shared<spdlog::sinks::ostream_sink_mt>(out_))) {
    logger_->set_formatter(log::make_formatter(format));
    logger_->set_level(level);
    spdlog::set_default_logger(logger_);
  }
  ~CapturedLog() { spdlog::set_default_logger(previous_); }
  CapturedLog(const CapturedLog&) = delete;
  CapturedLog& operator=(const CapturedLog&) = delete;

  /// Everything written so far.
  std::string text() {
    logger_->flush();
    return out_.str();
  }
  /// The lines written so far.
  std::vector<std::string> lines() {
    std::vector<std::string> out;
    std::istringstream in(text());
    for (std::string line; std::getline(in, line);) out.push_back(line);
    return out;
  }

 private:
  std::ostringstream out_;
  std::shared_ptr<spdlog::logger> previous_;
  std::shared_ptr<spdlog::logger> logger_;
};

}  // namespace l3afd::testing
