// Every test process of this binary runs in its own network and mount namespace with a private
// bpffs (tests/support/netns.h), so pins cannot leak to the host.
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
