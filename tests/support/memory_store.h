// MemoryStore: a StateStore in memory for tests, with failure injection through the same
// Injector as the fake kernel (a store write is one injectable call). Test code, so it lives
// here and not in src/store/ (which would then depend on kernel/fake).
#pragma once

#include "engine/ports.h"
#include "kernel/fake/injector.h"

namespace l3afd::store {

class MemoryStore final : public engine::StateStore {
 public:
  explicit MemoryStore(kernel::fake::Injector* inj = nullptr) : inj_(inj) {}
  Status save(const std::vector<model::L3afBpfPrograms>& state) override {
    if (inj_ != nullptr) {
      if (auto s = inj_->hit("save state"); !s) return s;
    }
    state_ = state;
    ++saves_;
    return ok();
  }
  Result<std::vector<model::L3afBpfPrograms>> load() override { return state_; }
  const std::vector<model::L3afBpfPrograms>& state() const { return state_; }
  int saves() const { return saves_; }

 private:
  kernel::fake::Injector* inj_;
  std::vector<model::L3afBpfPrograms> state_;
  int saves_ = 0;
};

}  // namespace l3afd::store
