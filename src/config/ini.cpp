#include "config/ini.h"

#include <cstdlib>
#include <utility>

#include "config/values.h"

namespace l3afd::config {
namespace {

bool is_space(char c) noexcept {
  return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

std::string_view trim_right(std::string_view s) noexcept {
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

std::string_view trim(std::string_view s) noexcept {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  return trim_right(s);
}

// §8.1 item 1: cut at the first space or tab that is immediately followed by '#' or ';'.
std::string_view strip_comment(std::string_view line) noexcept {
  for (std::size_t i = 1; i < line.size(); ++i) {
    if ((line[i] == '#' || line[i] == ';') && (line[i - 1] == ' ' || line[i - 1] == '\t')) {
      return line.substr(0, i - 1);
    }
  }
  return line;
}

// Renders a line for an error message: printable ASCII kept, other bytes as \xNN, capped.
std::string printable(std::string_view line) {
  constexpr std::size_t kMaxShown = 120;
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (std::size_t i = 0; i < line.size() && i < kMaxShown; ++i) {
    const auto c = static_cast<unsigned char>(line[i]);
    if (c >= 0x20 && c < 0x7f) {
      out += static_cast<char>(c);
    } else {
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 0xf];
    }
  }
  if (line.size() > kMaxShown) out += "...";
  return out;
}

bool is_name_char(char c) noexcept {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '.' || c == '-';
}

// A reference `<head>name<tail>` with name matching [A-Za-z0-9_.-]+, leftmost first.
struct Reference {
  std::size_t begin = 0;  // index of the head
  std::size_t end = 0;    // one past the tail
  std::string_view name;
};

std::optional<Reference> find_reference(std::string_view s, std::string_view head,
                                        std::string_view tail) noexcept {
  for (std::size_t i = s.find(head); i != std::string_view::npos; i = s.find(head, i + 1)) {
    std::size_t j = i + head.size();
    while (j < s.size() && is_name_char(s[j])) ++j;
    const std::size_t name_len = j - (i + head.size());
    if (name_len > 0 && s.substr(j, tail.size()) == tail) {
      return Reference{i, j + tail.size(), s.substr(i + head.size(), name_len)};
    }
  }
  return std::nullopt;
}

ReadError read_error(ReadErrc kind, std::string reason) {
  return ReadError{kind, std::move(reason)};
}

}  // namespace

std::optional<std::string> process_env(std::string_view name) {
  const char* value = std::getenv(std::string(name).c_str());
  if (value == nullptr) return std::nullopt;
  return std::string(value);
}

Result<IniFile> IniFile::parse(std::string_view text, std::string_view file_name) {
  IniFile ini;
  std::string section;  // as written; "" before any header and after "[]"
  std::string option;   // key open for continuation lines; "" when none
  std::size_t line_no = 0;
  std::size_t pos = 0;
  while (pos < text.size()) {
    const std::size_t nl = text.find('\n', pos);
    std::string_view line =
        text.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos);
    pos = nl == std::string_view::npos ? text.size() : nl + 1;
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);

    const std::string_view l = trim_right(strip_comment(line));
    if (l.empty() || l[0] == '#' || l[0] == ';') continue;

    if (l[0] == '[' && l.size() >= 2 && l.back() == ']') {
      option.clear();
      section = std::string(trim(l.substr(1, l.size() - 2)));
      ini.sections_.try_emplace(section.empty() ? std::string(kDefaultSection) : section);
      continue;
    }

    const bool leading_space = l[0] == ' ' || l[0] == '\t';
    if (leading_space && !section.empty() && !option.empty()) {
      const std::string* previous = ini.find(section, option);
      std::string value = previous != nullptr ? *previous : std::string();
      value += '\n';
      value += trim(l);
      ini.set(section, option, std::move(value));
      continue;
    }

    const std::size_t sep = l.find_first_of("=:");
    if (sep == std::string_view::npos || sep == 0 || leading_space) {
      return fail(Errc::InvalidPayload, std::string(file_name) + ":" + std::to_string(line_no) +
                                            ": cannot parse line: " + printable(l));
    }
    option = std::string(trim(l.substr(0, sep)));
    ini.set(section.empty() ? kDefaultSection : std::string_view(section), option,
            std::string(trim(l.substr(sep + 1))));
  }
  return ini;
}

bool IniFile::has_section(std::string_view section) const {
  return sections_.find(section) != sections_.end();
}

bool IniFile::has_own_key(std::string_view section, std::string_view key) const {
  const auto s = sections_.find(section);
  return s != sections_.end() && s->second.find(key) != s->second.end();
}

const std::string* IniFile::find(std::string_view section, std::string_view key) const {
  const auto s = sections_.find(section);
  if (s == sections_.end()) return nullptr;
  const auto k = s->second.find(key);
  return k == s->second.end() ? nullptr : &k->second;
}

void IniFile::set(std::string_view section, std::string key, std::string value) {
  auto s = sections_.find(section);
  if (s == sections_.end()) s = sections_.emplace(std::string(section), Keys{}).first;
  s->second.insert_or_assign(std::move(key), std::move(value));
}

std::optional<std::string> IniFile::raw(std::string_view section, std::string_view key) const {
  if (const std::string* v = find(section, key)) return *v;
  if (const std::string* v = find(kDefaultSection, key)) return *v;
  return std::nullopt;
}

ReadResult<std::string> IniFile::get_string(std::string_view section, std::string_view key,
                                            const EnvLookup& env) const {
  std::optional<std::string> value = raw(section, key);
  if (!value) return tl::unexpected(read_error(ReadErrc::Missing, "required key is missing"));

  for (int round = 0;; ++round) {
    // Like robfig/config, the 200th substitution already fails, whether or not more follow.
    if (round == kMaxSubstitutions) {
      return tl::unexpected(read_error(ReadErrc::Unreadable,
                                       "200 %(name)s substitutions reached (reference cycle?)"));
    }
    const auto ref = find_reference(*value, "%(", ")s");
    if (!ref) break;
    const std::string* replacement = find(section, ref->name);
    if (replacement == nullptr) replacement = find(kDefaultSection, ref->name);
    if (replacement == nullptr) {
      return tl::unexpected(read_error(ReadErrc::UndefinedReference,
                                       "undefined reference %(" + std::string(ref->name) + ")s"));
    }
    if (replacement->empty()) {
      return tl::unexpected(read_error(ReadErrc::Unreadable,
                                       "reference %(" + std::string(ref->name) + ")s is empty"));
    }
    value = value->substr(0, ref->begin) + *replacement + value->substr(ref->end);
  }

  for (int round = 0;; ++round) {
    if (round == kMaxSubstitutions) {
      return tl::unexpected(
          read_error(ReadErrc::Unreadable, "200 ${NAME} substitutions reached (reference cycle?)"));
    }
    const auto ref = find_reference(*value, "${", "}");
    if (!ref) break;
    std::optional<std::string> replacement = env ? env(ref->name) : std::nullopt;
    if (!replacement || replacement->empty()) {
      return tl::unexpected(
          read_error(ReadErrc::Unreadable,
                     "environment variable " + std::string(ref->name) + " is unset or empty"));
    }
    value = value->substr(0, ref->begin) + *replacement + value->substr(ref->end);
  }
  return std::move(*value);
}

ReadResult<bool> IniFile::get_bool(std::string_view section, std::string_view key,
                                   const EnvLookup& env) const {
  auto text = get_string(section, key, env);
  if (!text) return tl::unexpected(std::move(text.error()));
  if (auto b = parse_go_bool(*text)) return *b;
  return tl::unexpected(
      read_error(ReadErrc::Invalid, "\"" + printable(*text) + "\" is not a boolean"));
}

ReadResult<std::int64_t> IniFile::get_int(std::string_view section, std::string_view key,
                                          const EnvLookup& env) const {
  auto text = get_string(section, key, env);
  if (!text) return tl::unexpected(std::move(text.error()));
  if (auto i = parse_go_int(*text)) return *i;
  return tl::unexpected(
      read_error(ReadErrc::Invalid, "\"" + printable(*text) + "\" is not an integer"));
}

ReadResult<std::chrono::nanoseconds> IniFile::get_duration(std::string_view section,
                                                           std::string_view key,
                                                           const EnvLookup& env) const {
  auto text = get_string(section, key, env);
  if (!text) return tl::unexpected(std::move(text.error()));
  if (auto d = parse_go_duration(*text)) return *d;
  return tl::unexpected(
      read_error(ReadErrc::Invalid, "\"" + printable(*text) + "\" is not a duration"));
}

}  // namespace l3afd::config
