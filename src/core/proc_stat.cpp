#include "core/proc_stat.h"

#include <charconv>

namespace l3afd {

std::optional<std::vector<std::string_view>> proc_stat_fields(std::string_view line) {
  const auto close = line.rfind(')');
  if (close == std::string_view::npos) return std::nullopt;
  std::vector<std::string_view> out;
  std::string_view rest = line.substr(close + 1);
  while (!rest.empty()) {
    const auto start = rest.find_first_not_of(" \n");
    if (start == std::string_view::npos) break;
    rest.remove_prefix(start);
    const auto end = std::min(rest.find_first_of(" \n"), rest.size());
    out.push_back(rest.substr(0, end));
    rest.remove_prefix(end);
  }
  return out;
}

std::optional<std::uint64_t> proc_stat_number(const std::vector<std::string_view>& fields,
                                              std::size_t n) {
  if (n < 3 || n - 3 >= fields.size()) return std::nullopt;
  const auto s = fields[n - 3];
  std::uint64_t v = 0;
  const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return v;
}

}  // namespace l3afd
