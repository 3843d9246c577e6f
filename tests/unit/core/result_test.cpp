#include "core/result.h"

#include <gtest/gtest.h>

#include <cerrno>

namespace {

TEST(Error, ToStringJoinsContextMessageAndErrno) {
  l3afd::Error e = l3afd::fail(l3afd::Errc::Io, "open /x", ENOENT).value();
  e = std::move(e).with_context("load b");
  e = std::move(e).with_context("add a");
  EXPECT_EQ(e.to_string(), "add a: load b: open /x: No such file or directory");
}

TEST(Error, ErrcNamesAreStable) {
  EXPECT_STREQ(l3afd::errc_name(l3afd::Errc::InvalidPayload), "invalid_payload");
  EXPECT_STREQ(l3afd::errc_name(l3afd::Errc::Conflict), "conflict");
}

}  // namespace
