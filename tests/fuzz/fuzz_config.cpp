// libFuzzer target: the l3afd.cfg reader (src/config) on arbitrary text, the way the daemon
// reads its configuration but from memory and with a made-up environment, so nothing outside
// the process is touched.
//
// Properties checked on every input (abort() on violation):
//  * IniFile::parse and parse_config never crash; their errors are one line that starts with
//    the file name (config/README.md: "a fatal problem is reported as exactly one line");
//  * for every key the input mentions, read in its section, in [DEFAULT] and in a section
//    that does not exist: raw() agrees with has_own_key() and the
//    [DEFAULT] fallback; a value get_string() returns holds no %(name)s or ${NAME} reference
//    any more; get_bool/get_int/get_duration agree with the value parsers applied to it;
//  * the value parsers round-trip: what parse_go_int / parse_go_duration accept re-parses from
//    its canonical spelling to the same value, parse_go_bool accepts only its twelve words;
//  * an accepted DaemonConfig satisfies the validation rules config.h documents (required
//    strings non-empty, positive sizes and intervals, listener addresses that split), and
//    each warning is one line naming the file.
#include <algorithm>
#include <cctype>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "config/config.h"
#include "config/host_port.h"
#include "config/ini.h"
#include "config/values.h"
#include "fuzz_check.h"

namespace l3afd::config {
namespace {

constexpr std::string_view kFile = "fuzz.cfg";
// Bounds the work per input (every lookup interpolates up to 400 times).
constexpr std::size_t kMaxKeys = 32;

// A deterministic environment without touching the real one: some names are unset, some have
// a plain value, some refer to themselves (a ${NAME} cycle the reader must cut off).
std::optional<std::string> fake_env(std::string_view name) {
  switch (name.size() % 3) {
    case 0: return std::nullopt;
    case 1: return "env-" + std::string(name);
    default: return "${" + std::string(name) + "}";
  }
}

std::string_view trim(std::string_view s) {
  const auto space = [](char c) {
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
  };
  while (!s.empty() && space(s.front())) s.remove_prefix(1);
  while (!s.empty() && space(s.back())) s.remove_suffix(1);
  return s;
}

bool is_name_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_' || c == '.' || c == '-';
}

// True when `s` still holds `<head><name><tail>` with a non-empty [A-Za-z0-9_.-] name, i.e. a
// reference the reader should have replaced.
bool has_reference(std::string_view s, std::string_view head, std::string_view tail) {
  for (std::size_t i = s.find(head); i != std::string_view::npos; i = s.find(head, i + 1)) {
    std::size_t j = i + head.size();
    while (j < s.size() && is_name_char(s[j])) ++j;
    if (j > i + head.size() && s.substr(j, tail.size()) == tail) return true;
  }
  return false;
}

bool one_line_for_file(const std::string& message) {
  return message.rfind(kFile, 0) == 0 && message.find('\n') == std::string::npos;
}

// (section, key) pairs as the input writes them — each key with the section header above it —
// found independently of the parser (a rough reading of the same syntax is enough: pairs that
// do not exist are looked up as well).
std::vector<std::pair<std::string, std::string>> mentioned_keys(std::string_view text) {
  std::vector<std::pair<std::string, std::string>> out;
  std::string section(IniFile::kDefaultSection);
  std::size_t pos = 0;
  while (pos < text.size() && out.size() < kMaxKeys) {
    std::size_t nl = text.find('\n', pos);
    if (nl == std::string_view::npos) nl = text.size();
    const std::string_view line = trim(text.substr(pos, nl - pos));
    pos = nl + 1;
    if (line.size() >= 2 && line.front() == '[' && line.back() == ']') {
      section = trim(line.substr(1, line.size() - 2));
    } else if (const std::size_t sep = line.find_first_of("=:"); sep != std::string_view::npos) {
      out.emplace_back(section, trim(line.substr(0, sep)));
    }
  }
  return out;
}

void check_value_parsers(std::string_view text) {
  if (const auto b = parse_go_bool(text)) {
    std::string lower(text);
    std::transform(lower.begin(), lower.end(), lower.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    static const std::set<std::string, std::less<>> kTrue = {"t", "true", "y", "yes", "on", "1"};
    static const std::set<std::string, std::less<>> kFalse = {"f", "false", "n", "no", "off", "0"};
    FUZZ_CHECK((*b ? kTrue : kFalse).count(lower) == 1, text);
  }
  if (const auto i = parse_go_int(text)) {
    std::string_view digits = text;
    if (!digits.empty() && (digits.front() == '+' || digits.front() == '-')) {
      digits.remove_prefix(1);
    }
    FUZZ_CHECK(!digits.empty() && std::all_of(digits.begin(), digits.end(),
                                              [](char c) { return c >= '0' && c <= '9'; }),
               text);
    FUZZ_CHECK(parse_go_int(std::to_string(*i)) == i, text);
  }
  if (const auto d = parse_go_duration(text)) {
    const std::string canonical = std::to_string(d->count()) + "ns";
    FUZZ_CHECK(parse_go_duration(canonical) == d, canonical);
  }
}

// `typed`: also compare get_bool/get_int/get_duration with the parsers (each interpolates
// again, so only for the key's own section).
void check_reads(const IniFile& ini, std::string_view section, std::string_view key, bool typed) {
  const auto raw = ini.raw(section, key);
  const bool own = ini.has_own_key(section, key);
  const bool fallback = ini.has_own_key(IniFile::kDefaultSection, key);
  FUZZ_CHECK(raw.has_value() == (own || fallback), key);
  if (own) FUZZ_CHECK(ini.has_section(section), section);

  const auto s = ini.get_string(section, key, fake_env);
  if (!raw) FUZZ_CHECK(!s && s.error().kind == ReadErrc::Missing, key);
  if (!s) {
    FUZZ_CHECK(!s.error().reason.empty(), key);
    if (!typed) return;
    FUZZ_CHECK(!ini.get_bool(section, key, fake_env), key);
    FUZZ_CHECK(!ini.get_int(section, key, fake_env), key);
    FUZZ_CHECK(!ini.get_duration(section, key, fake_env), key);
    return;
  }
  FUZZ_CHECK(!has_reference(*s, "%(", ")s"), *s);
  FUZZ_CHECK(!has_reference(*s, "${", "}"), *s);
  if (!typed) return;

  const auto b = ini.get_bool(section, key, fake_env);
  FUZZ_CHECK(b.has_value() == parse_go_bool(*s).has_value(), *s);
  if (b) FUZZ_CHECK(*b == *parse_go_bool(*s), *s);
  const auto i = ini.get_int(section, key, fake_env);
  FUZZ_CHECK(i.has_value() == parse_go_int(*s).has_value(), *s);
  if (i) FUZZ_CHECK(*i == *parse_go_int(*s), *s);
  const auto d = ini.get_duration(section, key, fake_env);
  FUZZ_CHECK(d.has_value() == parse_go_duration(*s).has_value(), *s);
  if (d) FUZZ_CHECK(*d == *parse_go_duration(*s), *s);
  check_value_parsers(*s);
}

void check_ini(std::string_view text) {
  const auto ini = IniFile::parse(text, kFile);
  if (!ini) {
    FUZZ_CHECK(ini.error().code == Errc::InvalidPayload, ini.error().message);
    FUZZ_CHECK(one_line_for_file(ini.error().message), ini.error().message);
    return;
  }
  // Each key in its own section, through the [DEFAULT] fallback of another section, and in
  // [DEFAULT] itself.
  for (const auto& [section, key] : mentioned_keys(text)) {
    check_reads(*ini, section, key, true);
    check_reads(*ini, "no-such-section", key, false);
    check_reads(*ini, IniFile::kDefaultSection, key, false);
  }
}

void check_addr(const std::string& addr) {
  FUZZ_CHECK(split_host_port(addr).has_value(), addr);
}

void check_config(std::string_view text) {
  const auto c = parse_config(text, kFile, fake_env);
  if (!c) {
    FUZZ_CHECK(c.error().code == Errc::InvalidPayload, c.error().message);
    FUZZ_CHECK(one_line_for_file(c.error().message), c.error().message);
    return;
  }
  for (const auto& w : c->warnings) FUZZ_CHECK(one_line_for_file(w), w);

  const auto& l = c->l3afd;
  FUZZ_CHECK(!l.pid_file.empty() && !l.bpf_dir.empty() && !l.bpf_map_default_path.empty(),
             "required [l3afd] path empty");
  FUZZ_CHECK(l.kernel_major_version >= 0 && l.kernel_minor_version >= 0, "kernel version");
  FUZZ_CHECK(l.shutdown_timeout.count() >= 0 && l.http_client_timeout.count() >= 0 &&
                 l.retire_grace_period.count() >= 0,
             "negative duration");
  FUZZ_CHECK(l.user_program_timeout.count() > 0, "user-program-timeout");
  FUZZ_CHECK(l.max_ebpf_restart_count >= 0 && l.file_log_max_size >= 0 &&
                 l.file_log_max_backups >= 0 && l.file_log_max_age >= 0,
             "negative count");
  FUZZ_CHECK(l.download_max_size > 0, "download-max-size");

  FUZZ_CHECK(c->web.ebpf_poll_interval.count() > 0 && c->web.n_metric_samples > 0, "[web]");
  check_addr(c->web.metrics_addr);
  if (c->ebpf_chain_debug.enabled) check_addr(c->ebpf_chain_debug.addr);

  const auto& api = c->l3af_configs;
  check_addr(api.restapi_addr);
  FUZZ_CHECK(api.max_body_size > 0 && api.max_header_size > 0, "[l3af-configs] size");
  FUZZ_CHECK(api.read_timeout.count() > 0 && api.write_timeout.count() > 0,
             "[l3af-configs] timeout");

  FUZZ_CHECK(c->mtls.cert_expiry_warning_days >= 0, "cert-expiry-warning-days");
  // split_rules: split at ',', each trimmed of space, tab and newline, empty ones dropped.
  for (const auto& rule : c->mtls.san_match_rules) {
    const auto blank = [](char ch) { return ch == ' ' || ch == '\t' || ch == '\n'; };
    FUZZ_CHECK(!rule.empty() && !blank(rule.front()) && !blank(rule.back()) &&
                   rule.find(',') == std::string::npos,
               rule);
  }
  FUZZ_CHECK(
      c->graceful_restart.time_to_restart.count() > 0 && c->graceful_restart.version_limit > 0,
      "[graceful-restart]");
}

}  // namespace
}  // namespace l3afd::config

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text = l3afd::fuzz::as_text(data, size);
  l3afd::config::check_ini(text);
  l3afd::config::check_config(text);
  // The parsers directly on short inputs (a value line of l3afd.cfg is short).
  if (size <= 64) l3afd::config::check_value_parsers(text);
  return 0;
}
