#include "api/bpf_stats_routes.h"

#include <ctime>

#include "api/status.h"
#include "json/convert.h"
#include "json/encode.h"
#include "json/parse.h"

namespace l3afd::api {

namespace {

tl::unexpected<Error> bad(const std::string& field, const std::string& message) {
  Error e{.code = Errc::InvalidPayload, .message = message};
  e.items.push_back(ErrorItem{.field = field, .message = message});
  return fail(std::move(e));
}

std::string rfc3339_utc(std::chrono::system_clock::time_point t) {
  const std::time_t secs = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  ::gmtime_r(&secs, &tm);
  char buf[32];
  const std::size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return std::string(buf, n);
}

}  // namespace

Result<BpfStatsRequest> decode_bpf_stats_request(std::string_view body) {
  auto doc = json::parse(body);
  if (!doc) return fail(json::to_error(doc.error()));
  if (doc->kind != json::Node::Kind::Map) {
    return bad("", "the body must be an object {\"enabled\": true|false, \"seconds\": n}");
  }
  const json::Node* enabled = nullptr;
  const json::Node* seconds = nullptr;
  for (const auto& m : doc->members) {
    if (m.key == "enabled") {
      enabled = &m.value;
    } else if (m.key == "seconds") {
      seconds = &m.value;
    } else {
      return bad("/" + json::pointer_token(m.key),
                 "unknown member \"" + m.key + "\" (expected enabled, seconds)");
    }
  }
  if (enabled == nullptr || enabled->kind != json::Node::Kind::Bool) {
    return bad("/enabled", "enabled must be true or false");
  }
  BpfStatsRequest out;
  out.enabled = enabled->boolean;
  if (seconds == nullptr) return out;
  if (!out.enabled) return bad("/seconds", "seconds is only allowed with enabled: true");
  const auto range = "seconds must be an integer from 1 to " +
                     std::to_string(kBpfStatsMaxDuration.count()) + " (default " +
                     std::to_string(kBpfStatsDefaultDuration.count()) + ")";
  if (seconds->kind != json::Node::Kind::Number) return bad("/seconds", range);
  const auto n = json::parse_int64(seconds->text);
  if (!n || *n < 1 || *n > kBpfStatsMaxDuration.count()) return bad("/seconds", range);
  out.duration = std::chrono::seconds(*n);
  return out;
}

std::string encode_bpf_stats_state(const kernel::StatsState& s) {
  std::string out = "{\"enabled\":";
  out += s.enabled ? "true" : "false";
  out += ",\"until\":";
  if (s.until) {
    json::append_string(out, rfc3339_utc(*s.until));
  } else {
    out += "null";
  }
  out += ",\"source\":";
  if (s.source) {
    json::append_string(out, kernel::stats_source_name(*s.source));
  } else {
    out += "null";
  }
  out += "}";
  return out;
}

void add_bpf_stats_routes(http::Router& r, kernel::StatsSwitch& stats,
                          const std::atomic<bool>& ready) {
  auto not_ready = [] {
    return error_response(
        Error{.code = Errc::NotReady, .message = "the daemon is restoring its state"});
  };
  r.add("GET", "/l3af/configs/{version}/bpf-stats",
        [&stats, &ready, not_ready](const http::Request&) {
          if (!ready.load()) return not_ready();
          http::Response out;
          out.body = encode_bpf_stats_state(stats.state());
          return out;
        });
  r.add("PUT", "/l3af/configs/{version}/bpf-stats",
        [&stats, &ready, not_ready](const http::Request& req) {
          if (!ready.load()) return not_ready();
          auto want = decode_bpf_stats_request(req.body);
          if (!want) return error_response(want.error());
          kernel::StatsState now;
          if (want->enabled) {
            auto held = stats.hold_for(want->duration);
            if (!held) return error_response(held.error());
            now = *held;
          } else {
            now = stats.release_timed();
          }
          http::Response out;
          out.body = encode_bpf_stats_state(now);
          return out;
        });
}

}  // namespace l3afd::api
