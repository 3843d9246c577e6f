// Interfaces the bench attaches programs to: veth pairs created in the bench's private network
// namespace (both ends used, no addresses), removed by the destructor and in any case when the
// namespace goes away with the bench process. Not thread-safe.
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace l3afd::bench {

class Interfaces {
 public:
  /// Creates `count` (even) interfaces <prefix>0 … <prefix><count-1> as veth pairs
  /// (<prefix>2k, <prefix>2k+1), all up, with one `ip -batch` file written to `scratch`.
  /// Returns nullptr with `error` set (the output of ip) on failure.
  static std::unique_ptr<Interfaces> create(const std::string& prefix, int count,
                                            const std::filesystem::path& scratch,
                                            std::string& error);
  ~Interfaces();
  Interfaces(const Interfaces&) = delete;
  Interfaces& operator=(const Interfaces&) = delete;

  const std::vector<std::string>& names() const { return names_; }

 private:
  Interfaces() = default;
  std::vector<std::string> names_;
};

}  // namespace l3afd::bench
