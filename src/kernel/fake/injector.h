// Injector: deterministic failure injection shared by the fakes of every port (kernel,
// packages, store). Each mutating call of a fake asks `hit(op)`; the injector fails the
// n-th such call (counted across all fakes), so a test can fail "step k" of any plan.
#pragma once

#include <cerrno>
#include <string>
#include <vector>

#include "core/result.h"

namespace l3afd::kernel::fake {

class Injector {
 public:
  /// Fail the n-th (1-based) mutating call from now on; 0 disables.
  void fail_call(int n, int err = EIO) {
    fail_at_ = n;
    errno_ = err;
    calls_ = 0;
  }
  /// Records a call; returns an error if this is the call to fail.
  Status hit(const std::string& op) {
    ++calls_;
    log_.push_back(op);
    if (fail_at_ > 0 && calls_ == fail_at_) {
      return fail(Errc::Kernel, "injected failure in " + op, errno_);
    }
    return ok();
  }
  int calls() const { return calls_; }
  const std::vector<std::string>& log() const { return log_; }
  void reset_count() {
    calls_ = 0;
    log_.clear();
  }

 private:
  int fail_at_ = 0;
  int errno_ = EIO;
  int calls_ = 0;
  std::vector<std::string> log_;
};

}  // namespace l3afd::kernel::fake
