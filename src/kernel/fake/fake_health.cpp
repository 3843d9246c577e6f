// The health check's question to the fake kernel, and its failure injection (fake_kernel.h).
#include "kernel/fake/fake_kernel.h"

namespace l3afd::kernel::fake {

bool FakeKernel::program_loaded(const std::string& key) {
  auto it = objects_.find(key);
  return it != objects_.end() && !it->second.lost;
}

bool FakeKernel::lose_program(const std::string& key) {
  auto it = objects_.find(key);
  if (it == objects_.end()) return false;
  it->second.lost = true;
  return true;
}

}  // namespace l3afd::kernel::fake
