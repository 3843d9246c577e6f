// Repository URL construction (Go url.JoinPath semantics) and URL helpers.
#include <cctype>
#include <initializer_list>
#include <string>
#include <vector>

#include "artifact/artifact.h"
#include "artifact/error_context.h"
#include "artifact/release.h"
#include "artifact/url_parts.h"

namespace l3afd::artifact {
namespace detail {
namespace {

bool is_scheme_char(char c, bool first) {
  const auto u = static_cast<unsigned char>(c);
  if (std::isalpha(u) != 0) return true;
  return !first && (std::isdigit(u) != 0 || c == '+' || c == '-' || c == '.');
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

Result<UrlParts> split_url(std::string_view url) {
  if (url.empty()) return fail(Errc::InvalidPayload, "empty url");
  for (char c : url) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u == 0x7f) {
      return fail(Errc::InvalidPayload, "url contains a space or control character");
    }
  }
  UrlParts parts;
  std::string_view rest = url;
  std::size_t colon = rest.find(':');
  if (colon != std::string_view::npos && colon > 0) {
    bool ok_scheme = true;
    for (std::size_t i = 0; i < colon; ++i)
      ok_scheme = ok_scheme && is_scheme_char(rest[i], i == 0);
    if (ok_scheme) {
      for (std::size_t i = 0; i < colon; ++i) {
        parts.scheme.push_back(
            static_cast<char>(std::tolower(static_cast<unsigned char>(rest[i]))));
      }
      rest.remove_prefix(colon + 1);
    }
  }
  if (rest.substr(0, 2) == "//") {
    rest.remove_prefix(2);
    parts.has_authority = true;
    std::size_t end = rest.find_first_of("/?#");
    parts.authority = std::string(rest.substr(0, end));
    rest = end == std::string_view::npos ? std::string_view{} : rest.substr(end);
  }
  std::size_t q = rest.find_first_of("?#");
  parts.path = std::string(rest.substr(0, q));
  if (q != std::string_view::npos) parts.suffix = std::string(rest.substr(q));
  return parts;
}

std::string join_url(const UrlParts& parts) {
  std::string out;
  if (!parts.scheme.empty()) out += parts.scheme + ":";
  if (parts.has_authority) out += "//" + parts.authority;
  out += parts.path;
  out += parts.suffix;
  return out;
}

Result<std::string> percent_decode(std::string_view in) {
  std::string out;
  out.reserve(in.size());
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '%') {
      out.push_back(in[i]);
      continue;
    }
    if (i + 2 >= in.size()) {
      return fail(Errc::InvalidPayload, "malformed percent escape in url");
    }
    const int hi = hex_value(in[i + 1]);
    const int lo = hex_value(in[i + 2]);
    if (hi < 0 || lo < 0) return fail(Errc::InvalidPayload, "malformed percent escape in url");
    const char c = static_cast<char>(hi * 16 + lo);
    if (c == '\0') return fail(Errc::InvalidPayload, "url path contains an encoded nul");
    out.push_back(c);
    i += 2;
  }
  return out;
}

std::string redact_url(std::string_view url) {
  auto parts = split_url(url);
  if (!parts || !parts->has_authority) return std::string(url);
  std::size_t at = parts->authority.rfind('@');
  if (at == std::string::npos) return std::string(url);
  parts->authority = "***" + parts->authority.substr(at);
  return join_url(*parts);
}

}  // namespace detail

namespace {

bool keep_in_path(char c) {
  const auto u = static_cast<unsigned char>(c);
  if (std::isalnum(u) != 0) return true;
  switch (c) {
    case '-':
    case '.':
    case '_':
    case '~':
    case '!':
    case '$':
    case '&':
    case '\'':
    case '(':
    case ')':
    case '*':
    case '+':
    case ',':
    case ';':
    case '=':
    case ':':
    case '@':
    case '/': return true;
    default: return false;
  }
}

std::string escape_element(std::string_view in) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (char c : in) {
    if (keep_in_path(c)) {
      out.push_back(c);
    } else {
      const auto u = static_cast<unsigned char>(c);
      out.push_back('%');
      out.push_back(kHex[u >> 4]);
      out.push_back(kHex[u & 0xf]);
    }
  }
  return out;
}

/// Go path.Join + path.Clean on an already '/'-rooted string.
std::string clean_rooted(std::string_view joined) {
  std::vector<std::string_view> stack;
  std::size_t pos = 0;
  while (pos <= joined.size()) {
    std::size_t next = joined.find('/', pos);
    if (next == std::string_view::npos) next = joined.size();
    std::string_view comp = joined.substr(pos, next - pos);
    if (comp == "..") {
      if (!stack.empty()) stack.pop_back();
    } else if (!comp.empty() && comp != ".") {
      stack.push_back(comp);
    }
    pos = next + 1;
  }
  std::string out;
  for (auto comp : stack) {
    out += '/';
    out += comp;
  }
  return out.empty() ? "/" : out;
}

}  // namespace

namespace {

/// `base` with `elements` appended to its path like Go's url.JoinPath (see artifact_url).
Result<std::string> join_elements(std::string_view base,
                                  std::initializer_list<std::string_view> elements) {
  auto parts = detail::split_url(base);
  if (!parts) return fail(std::move(parts.error()));
  const bool relative = !parts->path.empty() && parts->path.front() != '/' && !parts->has_authority;
  std::string joined = "/" + parts->path;
  for (auto e : elements) joined += "/" + escape_element(e);
  std::string path = clean_rooted(joined);
  const std::string_view last = elements.size() == 0 ? std::string_view{} : *(elements.end() - 1);
  if (!last.empty() && last.back() == '/' && path.back() != '/') path += '/';
  if (relative) path.erase(0, 1);
  parts->path = std::move(path);
  return detail::join_url(*parts);
}

}  // namespace

Result<std::string> artifact_url(const ArtifactRef& ref, std::string_view platform) {
  auto url = join_elements(ref.repo_url, {ref.name, ref.version, platform, ref.artifact});
  if (!url) return fail(detail::add_context(std::move(url.error()), "repository url"));
  return url;
}

Result<std::string> url_join_path(std::string_view base,
                                  std::initializer_list<std::string_view> elements) {
  return join_elements(base, elements);
}

}  // namespace l3afd::artifact
