// LatestLinks: repoint both latest/ links to a release and roll back to exactly the previous
// state (targets byte for byte, absent links removed).
#include "restart/latest_links.h"

#include <limits.h>
#include <unistd.h>

#include <cerrno>

#include "restart/install_layout.h"
#include "unit/restart/fixture.h"

namespace l3afd::restart::testing {
namespace {

class Links : public LayoutFixture {
 protected:
  fs::path bin_link() const { return base_ / "latest" / "l3afd"; }
  fs::path cfg_link() const { return base_ / "latest" / "l3afd.cfg"; }
};

TEST_F(Links, RepointFromNothingAndRollbackRemovesEverything) {
  install(base_, "v2.1.0", "new");
  auto links = LatestLinks::repoint(base_, "v2.1.0");
  ASSERT_TRUE(links.has_value()) << links.error().to_string();
  EXPECT_EQ(readlink_of(bin_link()), (base_ / "v2.1.0" / "l3afd" / "l3afd").string());
  EXPECT_EQ(readlink_of(cfg_link()), (base_ / "v2.1.0" / "l3afd" / "l3afd.cfg").string());
  EXPECT_EQ(read(bin_link()), "installed new") << "the link leads to the release's binary";
  EXPECT_EQ(*running_version(base_), "v2.1.0");
  EXPECT_EQ(links->previous_binary(), std::nullopt);
  EXPECT_EQ(links->previous_config(), std::nullopt);
  EXPECT_EQ(names(base_ / "latest"), (std::vector<std::string>{"l3afd", "l3afd.cfg"}))
      << "no temporary link left";

  ASSERT_TRUE(links->rollback().has_value());
  EXPECT_FALSE(fs::exists(fs::symlink_status(bin_link())));
  EXPECT_FALSE(fs::exists(fs::symlink_status(cfg_link())));
  EXPECT_EQ(names(base_), std::vector<std::string>{"v2.1.0"}) << "latest/ was created: removed";
  EXPECT_EQ(*running_version(base_), std::nullopt);
}

TEST_F(Links, RollbackRestoresThePreviousTargetsByteForByte) {
  install(base_, "v2.0.0", "old");
  install(base_, "v2.1.0", "new");
  // Spelled unlike what repoint writes: relative, redundant separators and "." components.
  const std::string old_bin = "../v2.0.0//l3afd/./l3afd";
  const std::string old_cfg = (base_ / "v2.0.0" / "l3afd" / "l3afd.cfg").string();
  link_latest(base_, old_bin);
  ASSERT_EQ(::symlink(old_cfg.c_str(), cfg_link().c_str()), 0);

  auto links = LatestLinks::repoint(base_, "v2.1.0");
  ASSERT_TRUE(links.has_value()) << links.error().to_string();
  EXPECT_EQ(readlink_of(bin_link()), (base_ / "v2.1.0" / "l3afd" / "l3afd").string());
  EXPECT_EQ(readlink_of(cfg_link()), (base_ / "v2.1.0" / "l3afd" / "l3afd.cfg").string());
  EXPECT_EQ(links->previous_binary(), old_bin);
  EXPECT_EQ(links->previous_config(), old_cfg);

  ASSERT_TRUE(links->rollback().has_value());
  EXPECT_EQ(readlink_of(bin_link()), old_bin);
  EXPECT_EQ(readlink_of(cfg_link()), old_cfg);
  EXPECT_EQ(names(base_ / "latest"), (std::vector<std::string>{"l3afd", "l3afd.cfg"}));
  EXPECT_EQ(*running_version(base_), "v2.0.0");
  // A second rollback restores the same state.
  ASSERT_TRUE(links->rollback().has_value());
  EXPECT_EQ(readlink_of(bin_link()), old_bin);
  EXPECT_EQ(readlink_of(cfg_link()), old_cfg);
}

TEST_F(Links, RollbackRemovesOnlyTheLinkThatWasAbsent) {
  install(base_, "v2.0.0", "old");
  install(base_, "v2.1.0", "new");
  link_latest(base_, (base_ / "v2.0.0" / "l3afd" / "l3afd").string());
  write(base_ / "latest" / "README", "kept");
  auto links = LatestLinks::repoint(base_, "v2.1.0");
  ASSERT_TRUE(links.has_value()) << links.error().to_string();
  ASSERT_TRUE(links->rollback().has_value());
  EXPECT_EQ(readlink_of(bin_link()), (base_ / "v2.0.0" / "l3afd" / "l3afd").string());
  EXPECT_FALSE(fs::exists(fs::symlink_status(cfg_link())));
  EXPECT_EQ(names(base_ / "latest"), (std::vector<std::string>{"README", "l3afd"}))
      << "latest/ existed before: kept";
}

TEST_F(Links, MissingTargetsChangeNothing) {
  install(base_, "v2.0.0", "old");
  link_latest(base_, "../v2.0.0/l3afd/l3afd");
  write(base_ / "v2.1.0" / "l3afd" / "l3afd", "binary only");
  const auto before = snapshot(base_);
  for (const char* v : {"v2.1.0", "v9.9.9"}) {
    auto links = LatestLinks::repoint(base_, v);
    ASSERT_FALSE(links.has_value()) << v;
    EXPECT_EQ(links.error().code, Errc::NotFound) << v;
    EXPECT_NE(links.error().message.find((base_ / v / "l3afd").string()), std::string::npos)
        << links.error().message;
  }
  EXPECT_EQ(snapshot(base_), before);
}

TEST_F(Links, MissingTargetsDoNotCreateLatest) {
  auto links = LatestLinks::repoint(base_, "v2.1.0");
  ASSERT_FALSE(links.has_value());
  EXPECT_EQ(names(base_), std::vector<std::string>{});
}

TEST_F(Links, ExistingNonLinkStopsTheRepointUntouched) {
  install(base_, "v2.0.0", "old");
  install(base_, "v2.1.0", "new");
  link_latest(base_, "../v2.0.0/l3afd/l3afd");
  write(cfg_link(), "a copied config");
  const auto before = snapshot(base_);
  auto links = LatestLinks::repoint(base_, "v2.1.0");
  ASSERT_FALSE(links.has_value());
  EXPECT_EQ(links.error().code, Errc::Io);
  EXPECT_NE(links.error().message.find(cfg_link().string()), std::string::npos);
  EXPECT_EQ(snapshot(base_), before) << "the binary link was not switched either";
}

TEST_F(Links, LatestAsAFileOrBadVersionIsRefused) {
  install(base_, "v2.1.0", "new");
  EXPECT_EQ(LatestLinks::repoint(base_, "../x").error().code, Errc::InvalidPayload);
  EXPECT_EQ(LatestLinks::repoint(base_, "latest").error().code, Errc::InvalidPayload);
  write(base_ / "latest", "not a directory");
  auto links = LatestLinks::repoint(base_, "v2.1.0");
  ASSERT_FALSE(links.has_value());
  EXPECT_EQ(links.error().code, Errc::Io);
  EXPECT_EQ(read(base_ / "latest"), "not a directory");
}

// If the second link cannot be switched, the first is put back before the error is returned.
// The failure is made real with path lengths: the temporary link beside `latest/l3afd.cfg`
// (".l3afd.cfg.new-" + 16 hex digits, symlink.h) is 4 bytes longer than the one beside
// `latest/l3afd`, so a basepath of the right length lets the first symlink(2) succeed and the
// second fail with ENAMETOOLONG (a path of PATH_MAX bytes or more, NUL included).
TEST_F(Links, SecondLinkFailureRestoresTheFirst) {
  const std::size_t bin_tmp_tail = std::string("/latest/.l3afd.new-").size() + 16;
  const std::size_t cfg_tmp_tail = std::string("/latest/.l3afd.cfg.new-").size() + 16;
  ASSERT_EQ(cfg_tmp_tail, bin_tmp_tail + 4);
  // Longest basepath whose binary temporary path still fits (length PATH_MAX - 1).
  const std::size_t want = PATH_MAX - 1 - bin_tmp_tail;
  fs::path base = root_;
  ASSERT_GT(want, base.string().size() + 1);
  // Components of 100 bytes, then one of the remaining length (never empty: > 100 remain).
  while (want - base.string().size() > 201) base /= std::string(100, 'd');
  base /= std::string(want - base.string().size() - 1, 'e');
  ASSERT_EQ(base.string().size(), want);
  install(base, "v2.0.0", "old");
  install(base, "v2.1.0", "new");
  const std::string old_bin = "../v2.0.0/l3afd/l3afd";
  link_latest(base, old_bin);
  const fs::path latest = base / "latest";

  auto links = LatestLinks::repoint(base, "v2.1.0");
  ASSERT_FALSE(links.has_value()) << "the configuration link should not fit";
  EXPECT_EQ(links.error().code, Errc::Io);
  EXPECT_EQ(links.error().sys_errno, ENAMETOOLONG) << links.error().to_string();
  EXPECT_EQ(readlink_of(latest / "l3afd"), old_bin) << "the binary link was restored";
  EXPECT_FALSE(fs::exists(fs::symlink_status(latest / "l3afd.cfg")));
  EXPECT_EQ(names(latest), std::vector<std::string>{"l3afd"}) << "no temporary link left";
  EXPECT_EQ(*running_version(base), "v2.0.0");
}

}  // namespace
}  // namespace l3afd::restart::testing
