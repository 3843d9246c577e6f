// The read-only mode of a graceful restart (docs/compatibility.md §16.2 item 2, D47): writes
// pass the gate while it is open; closing it refuses new writes at once and waits until the
// writes already inside have finished, so the state handed to the successor is final.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <mutex>
#include <optional>

namespace l3afd::api {

/// Thread-safe. The check and the entry are one atomic step under a mutex, so no write can slip
/// in after close() returned (the original read its flag and counter unsynchronised, D47).
class WriteGate {
 public:
  /// Held by a write for as long as it runs; leaving lets close() go on.
  class Pass {
   public:
    explicit Pass(WriteGate& g) : gate_(&g) {}
    Pass(Pass&& o) noexcept : gate_(o.gate_) { o.gate_ = nullptr; }
    Pass& operator=(Pass&&) = delete;
    Pass(const Pass&) = delete;
    Pass& operator=(const Pass&) = delete;
    ~Pass() {
      if (gate_ != nullptr) gate_->leave();
    }

   private:
    WriteGate* gate_;
  };

  /// A pass, or nullopt while the gate is closed (the caller answers 503 restart_in_progress).
  std::optional<Pass> enter();
  /// Closes the gate and waits for every pass to end. False (and nothing changed) when it was
  /// closed already: another restart holds it.
  bool close();
  /// Opens it again (a restart that was rolled back).
  void open();
  bool is_closed() const;

 private:
  void leave();

  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool closed_ = false;
  std::size_t inside_ = 0;
};

}  // namespace l3afd::api
