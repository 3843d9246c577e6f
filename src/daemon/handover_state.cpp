#include "daemon/handover_state.h"

#include <array>
#include <utility>

#include "json/convert.h"
#include "json/encode.h"
#include "json/parse.h"

namespace l3afd::daemon {

namespace {

using engine::CounterLabels;

template <class Map>
void write_series(json::Writer& w, std::string_view name, const Map& series) {
  w.key(name);
  w.begin_array();
  for (const auto& [labels, value] : series) {
    w.begin_object();
    w.key("ebpf_program");
    w.string_value(labels.ebpf_program);
    w.key("direction");
    w.string_value(labels.direction);
    w.key("interface_name");
    w.string_value(labels.interface_name);
    w.key("ipv4_address");
    w.string_value(labels.ipv4_address);
    w.key("value");
    w.int_value(static_cast<std::int64_t>(value));
    w.end_object();
  }
  w.end_array();
}

Error type_error(std::string_view where, std::string_view want) {
  return Error{
      .code = Errc::InvalidJson,
      .message = "handover state: " + std::string(where) + " must be " + std::string(want)};
}

const json::Node* member(const json::Node& obj, std::string_view key) {
  const json::Node* found = nullptr;
  for (const auto& m : obj.members) {
    if (m.key == key) found = &m.value;  // the last duplicate wins
  }
  return found;
}

Result<std::string> string_of(const json::Node& obj, std::string_view key) {
  const json::Node* n = member(obj, key);
  if (n == nullptr || n->is_null()) return std::string();
  if (n->kind != json::Node::Kind::String) return fail(type_error(key, "a string"));
  return n->text;
}

template <class Value>
Status read_series(const json::Node& counters, std::string_view name,
                   std::map<CounterLabels, Value>& into) {
  const json::Node* list = member(counters, name);
  if (list == nullptr || list->is_null()) return ok();
  if (list->kind != json::Node::Kind::List) return fail(type_error(name, "an array"));
  for (const auto& e : list->elements) {
    if (e.kind != json::Node::Kind::Map) return fail(type_error(name, "an array of objects"));
    CounterLabels l;
    for (auto [key, field] : std::array<std::pair<std::string_view, std::string*>, 4>{
             {{"ebpf_program", &l.ebpf_program},
              {"direction", &l.direction},
              {"interface_name", &l.interface_name},
              {"ipv4_address", &l.ipv4_address}}}) {
      auto v = string_of(e, key);
      if (!v) return fail(std::move(v.error()));
      *field = std::move(*v);
    }
    const json::Node* value = member(e, "value");
    if (value == nullptr || value->kind != json::Node::Kind::Number) {
      return fail(type_error(std::string(name) + ".value", "a number"));
    }
    auto n = json::parse_int64(value->text);
    if (!n) return fail(type_error(std::string(name) + ".value", "an integer"));
    if constexpr (std::is_unsigned_v<Value>) {
      if (*n < 0) return fail(type_error(std::string(name) + ".value", "not negative"));
    }
    into[l] = static_cast<Value>(*n);
  }
  return ok();
}

}  // namespace

std::string encode_handover_state(const HandoverState& s) {
  auto w = json::Writer::compact();
  w.begin_object();
  w.key("format");
  w.int_value(kHandoverStateFormat);
  w.key("from_version");
  w.string_value(s.from_version);
  w.key("counters");
  w.begin_object();
  write_series(w, "start", s.counters.start);
  write_series(w, "stop", s.counters.stop);
  write_series(w, "update", s.counters.update);
  write_series(w, "update_failed", s.counters.update_failed);
  write_series(w, "deploy_failed", s.counters.deploy_failed);
  write_series(w, "start_time", s.counters.start_time);
  w.end_object();
  w.end_object();
  return w.take();
}

void normalize_as_handed_over(std::vector<model::L3afBpfPrograms>& entries) {
  const auto normalize = [](std::optional<std::vector<model::BpfProgram>>& list) {
    if (!list) return;
    for (auto& p : *list) {
      if (p.map_args && p.map_args->empty()) p.map_args.reset();
      if (p.map_args) {
        for (auto& m : *p.map_args) {
          if (m.args && m.args->empty()) m.args.reset();
        }
      }
      if (p.monitor_maps && p.monitor_maps->empty()) p.monitor_maps.reset();
    }
  };
  for (auto& e : entries) {
    if (!e.bpf_programs) continue;
    normalize(e.bpf_programs->xdp_ingress);
    normalize(e.bpf_programs->tc_ingress);
    normalize(e.bpf_programs->tc_egress);
    normalize(e.bpf_programs->probes);
  }
}

Result<HandoverState> decode_handover_state(std::string_view text) {
  auto doc = json::parse(text);
  if (!doc) return fail(json::to_error(doc.error()));
  if (doc->kind != json::Node::Kind::Map) return fail(type_error("the document", "an object"));
  const json::Node* format = member(*doc, "format");
  if (format == nullptr || format->kind != json::Node::Kind::Number ||
      json::parse_int64(format->text).value_or(-1) != kHandoverStateFormat) {
    return fail(Errc::InvalidPayload, "handover state: format " +
                                          (format != nullptr ? format->text : "missing") +
                                          " is not the one this l3afd reads (" +
                                          std::to_string(kHandoverStateFormat) + ")");
  }
  HandoverState out;
  auto from = string_of(*doc, "from_version");
  if (!from) return fail(std::move(from.error()));
  out.from_version = std::move(*from);
  const json::Node* counters = member(*doc, "counters");
  if (counters == nullptr || counters->is_null()) return out;
  if (counters->kind != json::Node::Kind::Map) return fail(type_error("counters", "an object"));
  engine::ProgramCounters& c = out.counters;
  for (auto st : {read_series(*counters, "start", c.start), read_series(*counters, "stop", c.stop),
                  read_series(*counters, "update", c.update),
                  read_series(*counters, "update_failed", c.update_failed),
                  read_series(*counters, "deploy_failed", c.deploy_failed),
                  read_series(*counters, "start_time", c.start_time)}) {
    if (!st) return fail(std::move(st.error()));
  }
  return out;
}

}  // namespace l3afd::daemon
