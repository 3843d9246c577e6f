#include "store/json_file_store.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

namespace fs = std::filesystem;
using namespace l3afd;

namespace {

class StoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("l3afd-store-" + std::to_string(::getpid()));
    fs::remove_all(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string read(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }
  model::L3afBpfPrograms entry() {
    model::L3afBpfPrograms e;
    e.host_name = "h";
    e.iface = "eth0";
    e.ipv4_address = "198.18.0.1";
    model::BpfProgram p;
    p.name = "x";
    p.map_args = std::vector<model::MapArg>{};
    e.bpf_programs = model::BpfPrograms{std::vector<model::BpfProgram>{p}, {}, {}, {}};
    return e;
  }
  fs::path dir_;
};

TEST_F(StoreTest, CreatesDirectoryAndWritesTheOneSpaceIndentFormat) {
  store::JsonFileStore s(dir_ / "sub" / "l3af-config.json");
  ASSERT_TRUE(s.save({entry()}));
  EXPECT_EQ(fs::status(dir_ / "sub").permissions() & fs::perms::all,
            fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec);
  EXPECT_EQ(fs::status(s.path()).permissions() & fs::perms::all,
            fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read |
                fs::perms::others_read);
  const std::string bytes = read(s.path());
  EXPECT_TRUE(bytes.starts_with("[\n {\n  \"host_name\": \"h\",\n")) << bytes;
  EXPECT_NE(bytes.back(), '\n') << "no trailing newline";
  auto back = s.load();
  ASSERT_TRUE(back) << back.error().to_string();
  ASSERT_EQ(back->size(), 1u);
  EXPECT_EQ((*back)[0], entry()) << "[] survives the round trip";
}

TEST_F(StoreTest, EmptyStateIsNullAndMissingFileIsEmpty) {
  store::JsonFileStore s(dir_ / "l3af-config.json");
  auto none = s.load();
  ASSERT_TRUE(none);
  EXPECT_TRUE(none->empty());
  ASSERT_TRUE(s.save({}));
  EXPECT_EQ(read(s.path()), "null");
}

TEST_F(StoreTest, LeavesNoTemporaryFilesAndReplacesAtomically) {
  store::JsonFileStore s(dir_ / "l3af-config.json");
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(s.save({entry()}));
  int files = 0;
  for (const auto& e : fs::directory_iterator(dir_)) {
    (void)e;
    ++files;
  }
  EXPECT_EQ(files, 1);
}

TEST_F(StoreTest, CorruptFileIsReportedAndLeftUntouched) {
  fs::create_directories(dir_);
  const auto p = dir_ / "l3af-config.json";
  std::ofstream(p) << "[{\"iface\": ";
  store::JsonFileStore s(p);
  auto r = s.load();
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().to_string().find(p.string()), std::string::npos) << r.error().to_string();
  EXPECT_EQ(read(p), "[{\"iface\": ");
}

TEST_F(StoreTest, EmptyFilenameDisablesPersistence) {
  store::JsonFileStore s("");
  EXPECT_TRUE(s.save({entry()}));
  auto r = s.load();
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->empty());
}

TEST_F(StoreTest, UnwritableDirectoryIsAnIoError) {
  fs::create_directories(dir_);
  std::ofstream(dir_ / "file") << "x";
  store::JsonFileStore s(dir_ / "file" / "l3af-config.json");  // parent is a regular file
  auto r = s.save({entry()});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::Io);
}

}  // namespace
