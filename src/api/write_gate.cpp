#include "api/write_gate.h"

namespace l3afd::api {

std::optional<WriteGate::Pass> WriteGate::enter() {
  std::lock_guard lock(mu_);
  if (closed_) return std::nullopt;
  ++inside_;
  return std::optional<Pass>(std::in_place, *this);
}

bool WriteGate::close() {
  std::unique_lock lock(mu_);
  if (closed_) return false;
  closed_ = true;
  cv_.wait(lock, [this] { return inside_ == 0; });
  return true;
}

void WriteGate::open() {
  std::lock_guard lock(mu_);
  closed_ = false;
}

bool WriteGate::is_closed() const {
  std::lock_guard lock(mu_);
  return closed_;
}

void WriteGate::leave() {
  std::lock_guard lock(mu_);
  --inside_;
  if (inside_ == 0) cv_.notify_all();
}

}  // namespace l3afd::api
