// FileOwnershipJournal on real files in a temporary directory.
#include "store/ownership_journal.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

namespace fs = std::filesystem;
using namespace l3afd;

namespace {

class JournalTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("l3afd-journal-" + std::to_string(::getpid()));
    fs::remove_all(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  static engine::OwnedInstance inst(const std::string& iface, const std::string& name) {
    layout::BpffsLayout l("/sys/fs/bpf");
    auto p = l.program(iface, model::Hook::XdpIngress, name, "1.0", "fn", "next");
    EXPECT_TRUE(p);
    return engine::OwnedInstance{iface, *p};
  }
  fs::path dir_;
};

TEST_F(JournalTest, NeverWrittenMeansNothingIsRecorded) {
  store::FileOwnershipJournal j(dir_ / "state.json.owned.json");
  auto got = j.load();
  ASSERT_TRUE(got) << got.error().to_string();
  EXPECT_FALSE(got->has_value()) << "no journal is not the same as an empty one";
}

TEST_F(JournalTest, RecordThenLoadGivesTheSameSortedSet) {
  store::FileOwnershipJournal j(dir_ / "state.json.owned.json");
  auto b = inst("eth1", "b");
  auto a = inst("eth0", "a");
  ASSERT_TRUE(j.record({b, a, b}));
  auto got = j.load();
  ASSERT_TRUE(got && got->has_value());
  const std::vector<engine::OwnedInstance> want{a, b};
  EXPECT_EQ(**got, want);
  struct stat st {};
  ASSERT_EQ(::stat(j.path().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  ASSERT_TRUE(j.record({}));
  got = j.load();
  ASSERT_TRUE(got && got->has_value());
  EXPECT_TRUE((*got)->empty()) << "an empty record stays distinguishable from none";
}

TEST_F(JournalTest, DamagedOrNewerFilesAreRefusedAndLeftAlone) {
  const fs::path file = dir_ / "j.json";
  fs::create_directories(dir_);
  for (const std::string text : {"{", "[]", R"({"schema": 2, "instances": []})", R"({"schema": 1})",
                                 R"({"schema": 1, "instances": [{"iface": "eth0"}]})"}) {
    std::ofstream(file, std::ios::trunc) << text;
    store::FileOwnershipJournal j(file);
    auto got = j.load();
    ASSERT_FALSE(got) << text;
    EXPECT_EQ(got.error().code, Errc::InvalidPayload) << text;
    EXPECT_NE(got.error().message.find(file.string()), std::string::npos) << text;
    std::ifstream in(file);
    std::stringstream back;
    back << in.rdbuf();
    EXPECT_EQ(back.str(), text) << "left untouched";
  }
}

TEST_F(JournalTest, SitsNextToTheStoreAndIsOffWithoutOne) {
  EXPECT_EQ(store::FileOwnershipJournal::next_to("/var/l3afd/l3afd.json"),
            fs::path("/var/l3afd/l3afd.json.owned.json"));
  EXPECT_TRUE(store::FileOwnershipJournal::next_to("").empty());
  store::FileOwnershipJournal off("");
  EXPECT_TRUE(off.record({inst("eth0", "a")}));
  auto got = off.load();
  ASSERT_TRUE(got);
  EXPECT_FALSE(got->has_value());
}

}  // namespace
