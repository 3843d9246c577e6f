// libFuzzer target: what a POST body of the REST API goes through before the engine sees it —
// the JSON parser (src/json), the L3AF decoders (src/model: add/update, delete, restart) and
// the request validation (accept_programs / accept_names) — plus the encoders on every value
// that was accepted.
//
// Properties checked on every input (abort() on violation):
//  * parse: a syntax error lies inside the input and has a reason; every string and key of an
//    accepted tree is valid UTF-8 (json/README.md);
//  * to_value -> encode_compact -> parse -> to_value is the identity, and re-encoding (compact
//    and indented) gives the same bytes;
//  * decode_programs / decode_names / decode_restart: an error is InvalidJson with at most one
//    item whose field is a JSON pointer; an accepted request survives GET encoding and the
//    store encoding unchanged (decode(encode(x)) == x, encode stable);
//  * validation: an error is InvalidPayload / WrongHost / UnknownInterface with at least one
//    item, each with a JSON pointer; it never throws.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_check.h"
#include "json/convert.h"
#include "json/encode.h"
#include "json/parse.h"
#include "model/l3af_json.h"
#include "model/validated.h"

namespace l3afd::model {
namespace {

// Independent UTF-8 validity check (RFC 3629: no overlongs, no surrogates, <= U+10FFFF).
bool valid_utf8(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    std::size_t n = 0;
    std::uint32_t cp = 0;
    if (c < 0x80) {
      ++i;
      continue;
    } else if (c >= 0xC2 && c <= 0xDF) {
      n = 1;
      cp = c & 0x1Fu;
    } else if (c >= 0xE0 && c <= 0xEF) {
      n = 2;
      cp = c & 0x0Fu;
    } else if (c >= 0xF0 && c <= 0xF4) {
      n = 3;
      cp = c & 0x07u;
    } else {
      return false;
    }
    if (s.size() - i <= n) return false;  // truncated sequence
    for (std::size_t k = 1; k <= n; ++k) {
      const auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0u) != 0x80u) return false;
      cp = (cp << 6) | (cc & 0x3Fu);
    }
    if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) || cp > 0x10FFFF ||
        (cp >= 0xD800 && cp <= 0xDFFF)) {
      return false;
    }
    i += n + 1;
  }
  return true;
}

void check_tree(const json::Node& n) {
  if (n.kind == json::Node::Kind::String) FUZZ_CHECK(valid_utf8(n.text), n.text);
  for (const auto& e : n.elements) check_tree(e);
  for (const auto& m : n.members) {
    FUZZ_CHECK(valid_utf8(m.key), m.key);
    check_tree(m.value);
  }
}

bool is_pointer(const std::string& field) {
  return field.empty() || field.front() == '/';
}

void check_decode_error(const Error& e) {
  FUZZ_CHECK(e.code == Errc::InvalidJson, e.message);
  FUZZ_CHECK(!e.message.empty() && e.items.size() <= 1, e.message);
  for (const auto& item : e.items) FUZZ_CHECK(is_pointer(item.field), item.field);
}

void check_validation_error(const Error& e) {
  FUZZ_CHECK(e.code == Errc::InvalidPayload || e.code == Errc::WrongHost ||
                 e.code == Errc::UnknownInterface,
             e.message);
  FUZZ_CHECK(!e.message.empty() && !e.items.empty(), e.message);
  for (const auto& item : e.items) FUZZ_CHECK(is_pointer(item.field), item.field);
}

void check_json(std::string_view body) {
  const auto node = json::parse(body);
  if (!node) {
    FUZZ_CHECK(node.error().offset <= body.size(), node.error().reason);
    FUZZ_CHECK(!node.error().reason.empty(), "empty syntax error reason");
    return;
  }
  check_tree(*node);
  const auto value = json::to_value(*node);
  if (!value) {
    FUZZ_CHECK(value.error().code == Errc::InvalidJson, value.error().message);
    return;
  }
  const std::string compact = json::encode_compact(*value);
  const auto again = json::parse(compact);
  FUZZ_CHECK(again.has_value(), compact);
  const auto value2 = json::to_value(*again);
  FUZZ_CHECK(value2.has_value(), compact);
  FUZZ_CHECK(*value2 == *value, compact);
  FUZZ_CHECK(json::encode_compact(*value2) == compact, compact);
  FUZZ_CHECK(json::encode_indent(*value2) == json::encode_indent(*value), compact);
}

// The validation contexts a daemon runs with: chaining on/off, with/without a supervisor, and
// an interface probe that knows "lo" as loopback and names starting with "missing" as absent.
std::vector<ValidationContext> contexts() {
  std::vector<ValidationContext> out;
  for (const bool chaining : {false, true}) {
    for (const bool companions : {false, true}) {
      ValidationContext ctx;
      ctx.host_name = "l3af-fuzz";
      ctx.chaining = chaining;
      ctx.root_names = {"xdp-root", "tc-root"};
      ctx.companions = companions;
      ctx.iface_state = [](const std::string& iface) {
        if (iface == "lo") return IfaceState::Loopback;
        if (iface.rfind("missing", 0) == 0) return IfaceState::Missing;
        return IfaceState::Ok;
      };
      out.push_back(std::move(ctx));
    }
  }
  return out;
}

void check_programs(std::string_view body) {
  const auto d = decode_programs(body);
  if (!d) return check_decode_error(d.error());

  const std::string get = encode(*d);
  const auto back = decode_programs(get);
  FUZZ_CHECK(back.has_value(), get);
  FUZZ_CHECK(*back == *d, get);
  FUZZ_CHECK(encode(*back) == get, get);
  const std::string stored = encode_store(*d);
  const auto from_store = decode_programs(stored);
  FUZZ_CHECK(from_store.has_value(), stored);
  FUZZ_CHECK(*from_store == *d, stored);

  static const std::vector<ValidationContext> kContexts = contexts();
  for (const auto& ctx : kContexts) {
    const auto accepted = accept_programs(*d, ctx);
    if (!accepted) {
      check_validation_error(accepted.error());
    } else {
      FUZZ_CHECK(accepted->entries() == *d, get);
    }
  }
}

void check_names(std::string_view body) {
  const auto d = decode_names(body);
  if (!d) return check_decode_error(d.error());
  static const std::vector<ValidationContext> kContexts = contexts();
  for (const auto& ctx : kContexts) {
    const auto accepted = accept_names(*d, ctx);
    if (!accepted) {
      check_validation_error(accepted.error());
      FUZZ_CHECK(accepted.error().code != Errc::UnknownInterface, accepted.error().message);
    } else {
      FUZZ_CHECK(accepted->entries() == *d, "accepted names differ from the request");
    }
  }
}

void check_restart(std::string_view body) {
  const auto d = decode_restart(body);
  if (!d) return check_decode_error(d.error());
  FUZZ_CHECK(valid_utf8(d->hostname) && valid_utf8(d->version), "restart strings not UTF-8");
}

}  // namespace
}  // namespace l3afd::model

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view body = l3afd::fuzz::as_text(data, size);
  l3afd::model::check_json(body);
  l3afd::model::check_programs(body);
  l3afd::model::check_names(body);
  l3afd::model::check_restart(body);
  return 0;
}
