// Operations of the kernel port this adapter does not implement yet (issue 9 in progress):
// they fail with Unavailable, naming the operation.
#include "kernel/fake/fake_kernel.h"

namespace l3afd::kernel::fake {

namespace {
Error pending(const char* op) {
  return Error{.code = Errc::Unavailable, .message = std::string(op) + ": not implemented yet"};
}
}  // namespace

Status FakeKernel::create_staging(const std::filesystem::path&) { return fail(pending("create_staging")); }
Status FakeKernel::remove_staging(const std::filesystem::path&) { return fail(pending("remove_staging")); }
Result<LoadedObject> FakeKernel::take_self_loaded(const SelfLoadedSpec&) {
  return fail(pending("take_self_loaded"));
}

}  // namespace l3afd::kernel::fake
