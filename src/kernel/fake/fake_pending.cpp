// Operations of the kernel port this adapter does not implement yet (issue 9 in progress):
// they fail with Unavailable, naming the operation.
#include "kernel/fake/fake_kernel.h"

namespace l3afd::kernel::fake {

namespace {
Error pending(const char* op) {
  return Error{.code = Errc::Unavailable, .message = std::string(op) + ": not implemented yet"};
}
}  // namespace

Result<std::vector<ProbeSection>> FakeKernel::probe_sections(const std::filesystem::path&) {
  return fail(pending("probe_sections"));
}
Result<LoadedProbes> FakeKernel::load_probes(const ProbeSpec&) { return fail(pending("load_probes")); }
Result<LoadedProbes> FakeKernel::adopt_probes(const ProbeSpec&) { return fail(pending("adopt_probes")); }

}  // namespace l3afd::kernel::fake
