// The fields of a /proc/<pid>/stat line (proc(5)), split after the LAST ')' so that a command
// name holding spaces or parentheses cannot shift them. Pure; used by the supervisor (process
// identity: state, start time) and by metrics (process_*).
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

namespace l3afd {

/// Fields 3.. of the line: element 0 is field 3 (state), element 19 is field 22 (starttime).
/// nullopt when the line has no ')'.
std::optional<std::vector<std::string_view>> proc_stat_fields(std::string_view line);

/// Field `n` (numbered as in proc(5), n >= 3) of `fields` as an unsigned integer; nullopt if it
/// is missing or not a number.
std::optional<std::uint64_t> proc_stat_number(const std::vector<std::string_view>& fields,
                                              std::size_t n);

}  // namespace l3afd
