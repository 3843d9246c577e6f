// FileOwnershipJournal: the engine's ownership record (engine/ownership.h) as a JSON file
// next to the state store, written atomically (write_file_atomically: tmp + fsync + rename +
// fsync(dir)). Format (schema 1; a newer schema is refused, never overwritten blindly):
//   {"schema": 1, "instances": [{"iface": "eth0", "map_dir": "...", "prog_pin": "...",
//                                "link_pin": "..."}, ...]}
// Thread-safety: engine thread only (and start-up before the engine starts).
#pragma once

#include <filesystem>

#include "engine/ports.h"

namespace l3afd::store {

class FileOwnershipJournal final : public engine::OwnershipJournal {
 public:
  /// An empty path disables the journal: record() succeeds and load() returns nullopt.
  explicit FileOwnershipJournal(std::filesystem::path file) : file_(std::move(file)) {}

  Status record(const std::vector<engine::OwnedInstance>& owned) override;
  Result<std::optional<std::vector<engine::OwnedInstance>>> load() override;

  const std::filesystem::path& path() const { return file_; }

  /// The journal's path for a state store file: `<dir>/<store file name>.owned.json`; empty for
  /// an empty store path (persistence off).
  static std::filesystem::path next_to(const std::filesystem::path& store_file);

 private:
  std::filesystem::path file_;
};

}  // namespace l3afd::store
