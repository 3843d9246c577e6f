// The `[mtls] san-match-rules` of docs/compatibility.md §8.4 (ours): which client certificates
// may use the API, by their DNS subject alternative names.
#pragma once

#include <regex>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace l3afd::tls {

/// True for a syntactically valid DNS host name: labels of 1-63 characters from [a-z0-9_-]
/// (ASCII, case-insensitive), not starting or ending with '-', separated by single dots,
/// at most 253 characters in all. A trailing dot is not accepted.
bool is_valid_host_name(std::string_view name);

/// Compiled rules. A rule that is a valid host name matches exactly that name (its dots are
/// literal, case-insensitive); any other rule is a regular expression (ECMAScript syntax) that
/// must match the whole lower-cased name (anchored, unlike the Original's unanchored match, D49).
/// No rules = no restriction: every certificate the CA verified is accepted.
class SanRules {
 public:
  /// Compiles `rules` (empty strings are not expected: config drops them). Errors:
  /// InvalidPayload naming the rule that is not a valid regular expression.
  static Result<SanRules> compile(const std::vector<std::string>& rules);

  bool empty() const { return exact_.empty() && patterns_.empty(); }
  /// Whether one of `dns_names` matches a rule. Names that are not valid host names are
  /// ignored; names are compared lower-cased. Always true when there are no rules.
  bool allows(const std::vector<std::string>& dns_names) const;
  /// The rules as configured, for messages.
  const std::vector<std::string>& text() const { return text_; }

 private:
  std::vector<std::string> text_;
  std::vector<std::string> exact_;  ///< lower-cased host names
  std::vector<std::regex> patterns_;
};

}  // namespace l3afd::tls
