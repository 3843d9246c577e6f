// Test support: writes real .tar.gz, plain .tar and .zip archives with libarchive's writer,
// including entry types a package must never contain (links, devices, fifos).
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <string>
#include <vector>

namespace l3afd::artifact::testing {

struct TestEntry {
  enum class Type { File, Dir, Symlink, Hardlink, CharDevice, BlockDevice, Fifo };
  std::string name;
  Type type = Type::File;
  std::string data;    ///< file contents
  mode_t perm = 0644;  ///< permission bits as stored in the archive (may include 07000)
  std::string link;    ///< target of symlinks and hard links
};

inline TestEntry file(std::string name, std::string data, mode_t perm = 0644) {
  return TestEntry{std::move(name), TestEntry::Type::File, std::move(data), perm, {}};
}
inline TestEntry dir(std::string name, mode_t perm = 0755) {
  return TestEntry{std::move(name), TestEntry::Type::Dir, {}, perm, {}};
}
inline TestEntry special(std::string name, TestEntry::Type type, std::string link = {}) {
  return TestEntry{std::move(name), type, {}, 0644, std::move(link)};
}

enum class TestFormat { TarGz, PlainTar, Zip };

/// Writes `entries` to `path`. Returns "" on success, else libarchive's error text.
std::string write_archive(const std::filesystem::path& path, TestFormat format,
                          const std::vector<TestEntry>& entries);

}  // namespace l3afd::artifact::testing
