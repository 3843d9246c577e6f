#include "tls/san_rules.h"

#include <algorithm>
#include <cctype>

namespace l3afd::tls {

namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

bool label_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_';
}

}  // namespace

bool is_valid_host_name(std::string_view name) {
  if (name.empty() || name.size() > 253) return false;
  std::size_t start = 0;
  for (;;) {
    const std::size_t dot = name.find('.', start);
    const std::string_view label =
        name.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') {
      return false;
    }
    if (!std::all_of(label.begin(), label.end(), label_char)) return false;
    if (dot == std::string_view::npos) return true;
    start = dot + 1;
  }
}

Result<SanRules> SanRules::compile(const std::vector<std::string>& rules) {
  SanRules out;
  for (const auto& rule : rules) {
    out.text_.push_back(rule);
    if (is_valid_host_name(rule)) {
      out.exact_.push_back(lower(rule));
      continue;
    }
    try {
      out.patterns_.emplace_back(rule, std::regex::ECMAScript);
    } catch (const std::regex_error& e) {
      return fail(Errc::InvalidPayload,
                  "san-match-rules: \"" + rule +
                      "\" is neither a host name nor a valid regular expression (" + e.what() +
                      ")");
    }
  }
  return out;
}

bool SanRules::allows(const std::vector<std::string>& dns_names) const {
  if (empty()) return true;
  for (const auto& raw : dns_names) {
    if (!is_valid_host_name(raw)) continue;
    const std::string name = lower(raw);
    if (std::find(exact_.begin(), exact_.end(), name) != exact_.end()) return true;
    for (const auto& p : patterns_) {
      if (std::regex_match(name, p)) return true;
    }
  }
  return false;
}

}  // namespace l3afd::tls
