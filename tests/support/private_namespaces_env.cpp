// Linked into every root test binary that needs it (kernel ring): a gtest Environment that
// moves the test process into its own network and mount namespace with a private bpffs
// (netns.h) before any test runs, so veths, qdiscs, sockets and pins cannot leak to the host
// and other runs' objects cannot disturb the tests.
#include <gtest/gtest.h>

#include "support/netns.h"

namespace {

class PrivateNamespaces : public ::testing::Environment {
 public:
  void SetUp() override {
    const std::string err = l3afd::testing::enter_private_namespaces();
    ASSERT_EQ(err, "") << "kernel tests need root (unshare, mount)";
  }
};

const auto* const kEnvironment = ::testing::AddGlobalTestEnvironment(new PrivateNamespaces);

}  // namespace
