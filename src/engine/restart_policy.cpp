#include "engine/restart_policy.h"

#include <algorithm>

namespace l3afd::engine {

std::optional<std::chrono::milliseconds> RestartPolicy::on_exit(Clock::time_point at) {
  if (given_up_) return std::nullopt;
  if (started_at_ && at - *started_at_ >= limits_.healthy_after) consecutive_ = 0;
  if (consecutive_ >= limits_.max_restarts) {
    given_up_ = true;
    return std::nullopt;
  }
  auto delay = limits_.first_delay;
  for (std::int64_t i = 0; i < consecutive_ && delay < limits_.max_delay; ++i) delay *= 2;
  ++consecutive_;
  ++restarts_;
  return std::min(delay, limits_.max_delay);
}

bool RestartPolicy::settle(Clock::time_point now) {
  if (given_up_ || consecutive_ == 0 || !started_at_) return false;
  if (now - *started_at_ < limits_.healthy_after) return false;
  consecutive_ = 0;
  return true;
}

std::optional<RestartPolicy::Clock::time_point> RestartPolicy::settles_at() const {
  if (given_up_ || consecutive_ == 0 || !started_at_) return std::nullopt;
  return *started_at_ + limits_.healthy_after;
}

}  // namespace l3afd::engine
