// Every test process of this binary (ctest runs one test per process) enters its own network
// and mount namespace with a fresh bpffs at /sys/fs/bpf before any test starts; the l3afd
// children inherit both, so interfaces, pins and listeners never touch the host's.
#include <gtest/gtest.h>

#include "support/netns.h"

namespace {

class PrivateNamespaces : public ::testing::Environment {
 public:
  void SetUp() override {
    const std::string err = l3afd::testing::enter_private_namespaces();
    ASSERT_EQ(err, "") << "e2e tests need root (unshare, mount)";
  }
};

const auto* const kEnvironment = ::testing::AddGlobalTestEnvironment(new PrivateNamespaces);

}  // namespace
