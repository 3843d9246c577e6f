// Reader for the l3afd.cfg dialect: robfig/config `ReadDefault` as docs/compatibility.md §8.1 pins
// it.
//
// Parsing (IniFile::parse) is separate from reading (get_*): as in the Original, interpolation
// and type conversion happen only when a key is read, so a broken value in a key nobody reads
// is harmless. The parser is total: any byte sequence yields either an IniFile or an Error,
// never a crash (it is fuzzed through tests/unit/config).
//
// Thread-safety: an IniFile is immutable after parse(); concurrent reads are safe as long as
// the EnvLookup passed in is (process_env() is, unless someone calls setenv concurrently).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <tl/expected.hpp>

#include "core/result.h"

namespace l3afd::config {

/// Why a key could not be read.
enum class ReadErrc {
  Missing,             ///< the key is in neither its section nor [DEFAULT]
  Unreadable,          ///< interpolation failed: unset/empty ${ENV}, empty %(name)s, cycle
  UndefinedReference,  ///< a %(name)s names a key defined in neither the section nor DEFAULT
  Invalid,             ///< the text does not parse as the requested type
};

struct ReadError {
  ReadErrc kind = ReadErrc::Missing;
  std::string reason;  ///< lower case, e.g. "environment variable L3AFD_REPO_URL is unset or empty"
};

template <class T>
using ReadResult = tl::expected<T, ReadError>;

/// Looks up an environment variable; nullopt when unset.
using EnvLookup = std::function<std::optional<std::string>(std::string_view)>;

/// The process environment (getenv). Not safe against a concurrent setenv.
std::optional<std::string> process_env(std::string_view name);

class IniFile {
 public:
  /// Name of the fallback section; keys before the first section header land here.
  static constexpr std::string_view kDefaultSection = "DEFAULT";
  /// Substitution limit per interpolation phase, as robfig/config: a value that needs this
  /// many substitutions (a cycle, in practice) is unreadable.
  static constexpr int kMaxSubstitutions = 200;

  /// Parses `text`. Errors: Errc::InvalidPayload "<file_name>:<line>: cannot parse line: <line>"
  /// for the first line that is neither empty, a comment, a section header, a `key: value` /
  /// `key = value` pair nor a continuation. Lines end at "\n"; one trailing "\r" is dropped.
  static Result<IniFile> parse(std::string_view text, std::string_view file_name);

  /// True if a `[section]` header (or, for DEFAULT, a key before any header) was seen.
  bool has_section(std::string_view section) const;
  /// True if `key` is defined in `section` itself (no DEFAULT fallback).
  bool has_own_key(std::string_view section, std::string_view key) const;
  /// Uninterpolated value of `key` in `section`, else in [DEFAULT]; nullopt if in neither.
  std::optional<std::string> raw(std::string_view section, std::string_view key) const;

  /// Value with %(name)s interpolation (same section, then DEFAULT; fewer than 200 rounds), then
  /// ${NAME} interpolation from `env` (fewer than 200 rounds). Errors: Missing, Unreadable,
  /// UndefinedReference (see ReadErrc).
  ReadResult<std::string> get_string(std::string_view section, std::string_view key,
                                     const EnvLookup& env = process_env) const;
  /// get_string then parse_go_bool; Invalid if it does not parse.
  ReadResult<bool> get_bool(std::string_view section, std::string_view key,
                            const EnvLookup& env = process_env) const;
  /// get_string then parse_go_int; Invalid if it does not parse.
  ReadResult<std::int64_t> get_int(std::string_view section, std::string_view key,
                                   const EnvLookup& env = process_env) const;
  /// get_string then parse_go_duration; Invalid if it does not parse (also when empty).
  ReadResult<std::chrono::nanoseconds> get_duration(std::string_view section, std::string_view key,
                                                    const EnvLookup& env = process_env) const;

 private:
  using Keys = std::map<std::string, std::string, std::less<>>;
  const std::string* find(std::string_view section, std::string_view key) const;
  void set(std::string_view section, std::string key, std::string value);

  std::map<std::string, Keys, std::less<>> sections_;
};

}  // namespace l3afd::config
