#include "api/routes.h"

#include <algorithm>
#include <memory>
#include <optional>

#include "api/dry_run.h"
#include "api/status.h"
#include "json/encode.h"
#include "model/l3af_json.h"

namespace l3afd::api {

namespace {

http::Response not_ready() {
  return error_response(
      Error{.code = Errc::NotReady, .message = "the daemon is restoring its state"});
}

/// Decode, submit, answer. With ?dry_run=1 the command carries a PlanPreview and the answer
/// is the plan (api/dry_run.h); without it the answer is 200 with an empty body. The outcome is
/// logged once, by the server (core/log.h); error_response carries the error into that line.
template <class CommandT, class Decode>
http::Handler write_handler(const ApiDeps& deps, Decode decode) {
  return [&deps, decode](const http::Request& req) -> http::Response {
    if (!deps.ready.load()) return not_ready();
    // Held until the answer: a restart waits for this write to finish (api/write_gate.h).
    auto pass =
        deps.gate != nullptr ? deps.gate->enter() : std::optional<WriteGate::Pass>(std::nullopt);
    if (deps.gate != nullptr && !pass) {
      return error_response(
          Error{.code = Errc::RestartInProgress,
                .message = "We are currently in the middle of a restart. Please attempt again "
                           "after a while."});
    }
    auto body = decode(req.body);
    if (!body) return error_response(body.error());
    CommandT cmd{.entries = std::move(*body)};
    if (wants_dry_run(req.query)) cmd.dry_run = std::make_shared<engine::PlanPreview>();
    auto preview = cmd.dry_run;
    auto st = deps.engine.submit(engine::Command{std::move(cmd)}, req.id).get();
    if (!st) return error_response(st.error());
    http::Response r;
    r.status = 200;
    if (preview) r.body = encode_preview(*preview);
    return r;
  };
}

}  // namespace

http::Router make_api_router(const ApiDeps& deps) {
  http::Router r;
  r.add("POST", "/l3af/configs/{version}/add",
        write_handler<engine::AddPrograms>(deps, model::decode_programs));
  r.add("POST", "/l3af/configs/{version}/update",
        write_handler<engine::UpdatePrograms>(deps, model::decode_programs));
  r.add("POST", "/l3af/configs/{version}/delete",
        write_handler<engine::DeletePrograms>(deps, model::decode_names));
  r.add("GET", "/l3af/configs/{version}/{iface}", [&deps](const http::Request& req) {
    if (!deps.ready.load()) return not_ready();
    auto snap = deps.engine.snapshot();
    http::Response out;
    out.body = model::encode(engine::view_of(snap->state, deps.host_name, req.params.at("iface")));
    return out;
  });
  r.add("GET", "/l3af/configs/{version}", [&deps](const http::Request&) {
    if (!deps.ready.load()) return not_ready();
    auto snap = deps.engine.snapshot();
    http::Response out;
    out.body = model::encode(engine::view_all(snap->state, deps.host_name));
    return out;
  });
  return r;
}

namespace {

/// One element of the /bpfs listing (docs/compatibility.md §14). `prev` is the predecessor in the
/// chain (the root for the first program), null for the root and without chaining.
void append_debug_entry(std::string& out, const engine::ProgramRecord& rec,
                        const engine::ProgramRecord* prev, std::int64_t restart_count) {
  auto own_array_id = [](const engine::ProgramRecord& r) {
    for (const auto& m : r.maps) {
      if (!r.spec.map_name.empty() && m.name == r.spec.map_name) return m.id;
    }
    return uint32_t{0};
  };
  out += "{\"Program\":" + model::encode_compact(rec.spec);
  out += ",\"FilePath\":";
  json::append_string(out, rec.package_dir.string());
  out += ",\"RestartCount\":" + std::to_string(restart_count) + ",\"PrevMapNamePath\":";
  json::append_string(out, prev == nullptr ? std::string() : prev->paths.map_name_path.string());
  out += ",\"MapNamePath\":";
  json::append_string(out, rec.paths.map_name_path.string());
  out += ",\"ProgID\":" + std::to_string(rec.prog_id);
  // Only the maps written by map_args, as the reference lists them.
  out += ",\"BpfMaps\":{";
  bool fm = true;
  for (const auto& m : rec.maps) {
    const auto& args = rec.spec.map_args;
    if (!args || std::none_of(args->begin(), args->end(),
                              [&](const model::MapArg& a) { return a.name == m.name; })) {
      continue;
    }
    if (!fm) out += ',';
    fm = false;
    json::append_string(out, m.name);
    out += ":{\"Name\":";
    json::append_string(out, m.name);
    out += ",\"MapID\":" + std::to_string(m.id) + ",\"Type\":" + std::to_string(m.type) + "}";
  }
  out += "},\"ProgMapID\":" + std::to_string(own_array_id(rec));
  out += ",\"PrevProgMapID\":" + std::to_string(prev == nullptr ? 0 : own_array_id(*prev));
  out += ",\"AttachMode\":";
  json::append_string(out, rec.attach.link_id == 0 && rec.attach.ifindex == 0
                               ? std::string("tail-call")
                               : std::string(kernel::attach_mode_name(rec.attach.mode)));
  out += ",\"LinkID\":" + std::to_string(rec.attach.link_id);
  out += ",\"ProbeLinks\":null}";
}

}  // namespace

std::string debug_listing(const engine::Snapshot& snap, const std::string& iface) {
  std::string out = "[";
  bool first = true;
  // RestartCount: consecutive health-check restarts of the program (its BPF program redeployed,
  // its supervised companion restarted), reset once it has run healthy (docs/compatibility.md
  // §15).
  auto add = [&](const engine::ProgramRecord& rec, const engine::ProgramRecord* prev,
                 model::Hook h) {
    if (!first) out += ',';
    first = false;
    const std::int64_t restarts = engine::health_view(snap.companions, snap.programs,
                                                      engine::companion_id(iface, h, rec.spec))
                                      .restart_count;
    append_debug_entry(out, rec, prev, restarts);
  };
  auto it = snap.state.ifaces.find(iface);
  if (it != snap.state.ifaces.end()) {
    // Per hook: the root (if chained), then the programs in chain order.
    for (model::Hook h : model::kAllHooks) {
      const engine::ProgramRecord* prev = nullptr;
      if (auto rit = it->second.roots.find(h); rit != it->second.roots.end()) {
        add(rit->second, nullptr, h);
        prev = &rit->second;
      }
      auto hit = it->second.hooks.find(h);
      if (hit == it->second.hooks.end()) continue;
      for (const auto& rec : hit->second) {
        add(rec, prev, h);
        if (prev != nullptr) prev = &rec;
      }
    }
  }
  out += "]\n";
  return out;
}

http::Router make_debug_router(const ApiDeps& deps) {
  http::Router r;
  auto h = [&deps](const http::Request& req) {
    http::Response out;
    out.body = debug_listing(*deps.engine.snapshot(), req.params.at("iface"));
    return out;
  };
  for (const char* m : {"GET", "POST", "PUT", "DELETE", "HEAD"}) r.add(m, "/bpfs/{iface}", h);
  return r;
}

}  // namespace l3afd::api
