#include "api/http/router.h"

#include <algorithm>
#include <array>
#include <map>
#include <set>
#include <stdexcept>
#include <utility>

namespace l3afd::api::http {

namespace {

constexpr std::array<std::string_view, 9> kStandardMethods = {
    "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "CONNECT", "OPTIONS", "TRACE"};

bool is_standard_method(std::string_view m) {
  return std::find(kStandardMethods.begin(), kStandardMethods.end(), m) != kStandardMethods.end();
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/// Decodes %XX escapes ('+' stays '+', as in a URL path). False on a malformed escape.
bool percent_decode(std::string_view in, std::string& out) {
  out.clear();
  out.reserve(in.size());
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '%') {
      out.push_back(in[i]);
      continue;
    }
    if (i + 2 >= in.size()) return false;
    const int hi = hex_value(in[i + 1]);
    const int lo = hex_value(in[i + 2]);
    if (hi < 0 || lo < 0) return false;
    out.push_back(static_cast<char>(hi * 16 + lo));
    i += 2;
  }
  return true;
}

std::vector<std::string_view> split_raw(std::string_view path) {
  // `path` starts with '/'; every '/' opens one segment.
  std::vector<std::string_view> parts;
  std::size_t start = 1;
  while (true) {
    const std::size_t slash = path.find('/', start);
    if (slash == std::string_view::npos) {
      parts.push_back(path.substr(start));
      break;
    }
    parts.push_back(path.substr(start, slash - start));
    start = slash + 1;
  }
  return parts;
}

}  // namespace

bool split_target(std::string_view target, std::string& path, std::string& query,
                  std::vector<std::string>& segments) {
  std::string_view t = target;
  const std::size_t hash = t.find('#');
  if (hash != std::string_view::npos) t = t.substr(0, hash);
  const std::size_t qmark = t.find('?');
  std::string_view raw_query;
  if (qmark != std::string_view::npos) {
    raw_query = t.substr(qmark + 1);
    t = t.substr(0, qmark);
  }
  // Absolute-form: keep only the path after the authority.
  for (std::string_view scheme : {std::string_view("http://"), std::string_view("https://")}) {
    if (t.size() >= scheme.size() && iequals(t.substr(0, scheme.size()), scheme)) {
      const std::size_t slash = t.find('/', scheme.size());
      t = slash == std::string_view::npos ? std::string_view("/") : t.substr(slash);
      break;
    }
  }
  if (t.empty() || t.front() != '/') return false;

  std::string decoded_path;
  if (!percent_decode(t, decoded_path)) return false;
  std::vector<std::string> segs;
  for (std::string_view raw : split_raw(t)) {
    std::string s;
    if (!percent_decode(raw, s)) return false;
    segs.push_back(std::move(s));
  }
  path = std::move(decoded_path);
  query = std::string(raw_query);
  segments = std::move(segs);
  return true;
}

struct Router::Node {
  std::map<std::string, std::unique_ptr<Node>, std::less<>> statics;
  std::vector<std::pair<std::string, std::unique_ptr<Node>>> params;  // in insertion order
  std::unique_ptr<Node> catch_all;
  std::map<std::string, Handler, std::less<>> handlers;  // by method; set on route ends
  std::string pattern;  // the pattern that ends here (Request::route)
};

namespace {

struct Match {
  const Handler* handler = nullptr;
  const std::string* pattern = nullptr;
  std::map<std::string, std::string> params;
  std::set<std::string> allowed;  // methods of routes matching the path but not the method
};

}  // namespace

Router::Router() : root_(std::make_unique<Node>()) {}
Router::~Router() = default;
Router::Router(Router&&) noexcept = default;
Router& Router::operator=(Router&&) noexcept = default;

void Router::add(std::string method, std::string pattern, Handler h) {
  if (!is_standard_method(method)) {
    throw std::invalid_argument("router: unsupported method '" + method + "'");
  }
  if (pattern.empty() || pattern.front() != '/') {
    throw std::invalid_argument("router: pattern '" + pattern + "' must start with '/'");
  }
  if (!h) throw std::invalid_argument("router: empty handler for '" + pattern + "'");
  const std::vector<std::string_view> parts = split_raw(pattern);
  std::set<std::string, std::less<>> names;
  Node* node = root_.get();
  for (std::size_t i = 0; i < parts.size(); ++i) {
    const std::string_view part = parts[i];
    if (part == "*") {
      if (i + 1 != parts.size()) {
        throw std::invalid_argument("router: '*' must be the last segment in '" + pattern + "'");
      }
      if (!node->catch_all) node->catch_all = std::make_unique<Node>();
      node = node->catch_all.get();
    } else if (part.size() >= 2 && part.front() == '{' && part.back() == '}') {
      std::string name(part.substr(1, part.size() - 2));
      if (name.empty() || name == "*" || !names.insert(name).second) {
        throw std::invalid_argument("router: bad or repeated parameter name in '" + pattern + "'");
      }
      auto it = std::find_if(node->params.begin(), node->params.end(),
                             [&](const auto& p) { return p.first == name; });
      if (it == node->params.end()) {
        node->params.emplace_back(name, std::make_unique<Node>());
        it = std::prev(node->params.end());
      }
      node = it->second.get();
    } else {
      if (part.find_first_of("{}") != std::string_view::npos) {
        throw std::invalid_argument("router: parameters must span a whole segment in '" + pattern +
                                    "'");
      }
      auto it = node->statics.find(part);
      if (it == node->statics.end()) {
        it = node->statics.emplace(std::string(part), std::make_unique<Node>()).first;
      }
      node = it->second.get();
    }
  }
  node->handlers[std::move(method)] = std::move(h);
  node->pattern = std::move(pattern);
}

namespace {

template <class NodeT>
bool find_route(const NodeT& node, const std::vector<std::string>& segs, std::size_t i,
                const std::string& method, Match& m) {
  if (i == segs.size()) {
    if (node.handlers.empty()) return false;
    auto it = node.handlers.find(method);
    if (it != node.handlers.end()) {
      m.handler = &it->second;
      m.pattern = &node.pattern;
      return true;
    }
    for (const auto& [meth, h] : node.handlers) m.allowed.insert(meth);
    return false;
  }
  const std::string& seg = segs[i];
  if (auto it = node.statics.find(seg); it != node.statics.end()) {
    if (find_route(*it->second, segs, i + 1, method, m)) return true;
  }
  if (!seg.empty()) {
    for (const auto& [name, child] : node.params) {
      if (find_route(*child, segs, i + 1, method, m)) {
        m.params.emplace(name, seg);
        return true;
      }
    }
  }
  if (node.catch_all) {
    const NodeT& leaf = *node.catch_all;
    auto it = leaf.handlers.find(method);
    if (it != leaf.handlers.end()) {
      std::string rest = seg;
      for (std::size_t j = i + 1; j < segs.size(); ++j) rest += "/" + segs[j];
      m.params.emplace("*", std::move(rest));
      m.handler = &it->second;
      m.pattern = &leaf.pattern;
      return true;
    }
    for (const auto& [meth, h] : leaf.handlers) m.allowed.insert(meth);
  }
  return false;
}

}  // namespace

Response not_found_response() {
  Response r;
  r.status = 404;
  r.content_type = std::string(kTextPlain);
  r.body = "404 page not found\n";
  r.headers.emplace_back("X-Content-Type-Options", "nosniff");
  return r;
}

Response Router::dispatch(Request& req) const {
  std::vector<std::string> segs;
  if (!split_target(req.target, req.path, req.query, segs)) {
    return error_response(400, "bad_request", "malformed request target");
  }
  req.params.clear();
  req.route.clear();
  Match m;
  const bool known_method = is_standard_method(req.method);
  if (known_method && find_route(*root_, segs, 0, req.method, m)) {
    req.params = std::move(m.params);
    req.route = *m.pattern;
    return (*m.handler)(req);
  }
  if (!known_method || !m.allowed.empty()) {
    Response r;
    r.status = 405;
    r.content_type = std::string(kTextPlain);
    for (const std::string& meth : m.allowed) r.headers.emplace_back("Allow", meth);
    return r;
  }
  return not_found_response();
}

}  // namespace l3afd::api::http
