// JsonFileStore: the l3afd config-store file (docs/compatibility.md §17) written atomically.
//
// save(): the bytes of Go's json.MarshalIndent(v, "", " ") (`null` when empty) are written to a
// temporary file in the same directory, fsync'ed, renamed over the store, and the directory is
// fsync'ed, so a crash at any instant leaves either the old or the new file, never a mix. The
// directory is created (0750) if missing; the file is 0644. An empty filename disables
// persistence (save succeeds, load returns nothing).
// Thread-safety: engine thread only.
#pragma once

#include <filesystem>

#include "engine/ports.h"

namespace l3afd::store {

class JsonFileStore final : public engine::StateStore {
 public:
  explicit JsonFileStore(std::filesystem::path file) : file_(std::move(file)) {}

  Status save(const std::vector<model::L3afBpfPrograms>& state) override;
  Result<std::vector<model::L3afBpfPrograms>> load() override;

  const std::filesystem::path& path() const { return file_; }

 private:
  std::filesystem::path file_;
};

/// Writes `bytes` to `file` atomically (tmp + fsync + rename + fsync(dir)), creating the parent
/// directory with `dir_mode` if missing. Errors: Io, naming the path and the failing call.
Status write_file_atomically(const std::filesystem::path& file, std::string_view bytes,
                             mode_t file_mode = 0644, mode_t dir_mode = 0750);

}  // namespace l3afd::store
