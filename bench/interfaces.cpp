#include "interfaces.h"

#include <fstream>

#include "support/netns.h"

namespace l3afd::bench {

std::unique_ptr<Interfaces> Interfaces::create(const std::string& prefix, int count,
                                               const std::filesystem::path& scratch,
                                               std::string& error) {
  std::unique_ptr<Interfaces> ifs(new Interfaces());
  if (count <= 0 || count % 2 != 0) {
    error = "interface count must be even and positive, got " + std::to_string(count);
    return nullptr;
  }
  const auto batch = scratch / "interfaces.ip";
  {
    std::ofstream out(batch, std::ios::trunc);
    for (int i = 0; i < count; i += 2) {
      const std::string a = prefix + std::to_string(i);
      const std::string b = prefix + std::to_string(i + 1);
      out << "link add " << a << " type veth peer name " << b << "\n"
          << "link set " << a << " up\n"
          << "link set " << b << " up\n";
    }
    if (!out) {
      error = "cannot write " + batch.string();
      return nullptr;
    }
  }
  for (int i = 0; i < count; ++i) ifs->names_.push_back(prefix + std::to_string(i));
  auto r = testing::run_command({"ip", "-batch", batch.string()});
  std::error_code ec;
  std::filesystem::remove(batch, ec);
  if (r.exit_code != 0) {
    error = "ip -batch (create " + std::to_string(count) + " veth interfaces): " + r.output;
    return nullptr;  // the destructor deletes whatever was created
  }
  return ifs;
}

Interfaces::~Interfaces() {
  // Deleting one end of a veth pair deletes both; missing names (partial creation) are fine.
  for (std::size_t i = 0; i < names_.size(); i += 2) {
    (void)testing::run_command({"ip", "link", "del", names_[i]});
  }
}

}  // namespace l3afd::bench
