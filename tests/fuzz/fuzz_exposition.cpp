// libFuzzer target: the /metrics text (metrics::Exposition on prometheus-cpp's TextSerializer)
// with arbitrary label values, help text and sample values. Label values reach /metrics from
// payloads (program, interface and map names), so their escaping must hold for any bytes.
//
// The input is split with libFuzzer's FuzzedDataProvider into a help text, a metric type and
// one to four samples, each with up to four labels (fixed names, arbitrary values) and a
// double taken bit for bit (NaN and infinities included).
//
// Property checked (abort() on violation): the text parses back, with a small parser of the
// Prometheus text format 0.0.4 written here, to exactly what was put in — one HELP line whose
// unescaped text is the help (none for an empty help), one TYPE line, one sample line per sample
// with the labels sorted by name and every label value unescaped to the same bytes (only \\, \" and
// \n escapes, no raw quote or newline inside a value), and the value within the 16 significant
// digits the serializer prints (NaN as NaN, infinities with their sign). Values within 16 digits of
// DBL_MAX are printed as a decimal above DBL_MAX that Prometheus would refuse; that fringe is
// accepted here (l3afd's values are counters and rates far below it; see README.md).
#include <fuzzer/FuzzedDataProvider.h>

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "fuzz_check.h"
#include "metrics/exposition.h"

namespace l3afd::metrics {
namespace {

constexpr std::string_view kName = "l3afd_fuzz_metric";
const char* const kLabelNames[] = {"ebpf_program", "host", "interface_name", "map_name"};

struct Sample {
  Labels labels;
  double value = 0;
};

// Splits `text` into lines; every line must end with '\n'.
std::vector<std::string_view> lines_of(std::string_view text) {
  std::vector<std::string_view> out;
  while (!text.empty()) {
    const std::size_t nl = text.find('\n');
    FUZZ_CHECK(nl != std::string_view::npos, "last line without a newline");
    out.push_back(text.substr(0, nl));
    text.remove_prefix(nl + 1);
  }
  return out;
}

// HELP text: "\\" -> backslash, "\n" -> newline; any other backslash is invalid (Prometheus'
// parser refuses it).
std::string unescape_help(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '\\') {
      out += s[i];
      continue;
    }
    FUZZ_CHECK(i + 1 < s.size() && (s[i + 1] == '\\' || s[i + 1] == 'n'),
               "invalid escape in HELP: " + std::string(s));
    out += s[i + 1] == 'n' ? '\n' : '\\';
    ++i;
  }
  return out;
}

// Parses `{name="value",...}` at the start of `s` (absent when there are no labels) and
// removes it from `s`.
std::vector<std::pair<std::string, std::string>> parse_labels(std::string_view& s) {
  std::vector<std::pair<std::string, std::string>> labels;
  if (s.empty() || s.front() != '{') return labels;
  s.remove_prefix(1);
  while (!s.empty() && s.front() != '}') {
    const std::size_t eq = s.find("=\"");
    FUZZ_CHECK(eq != std::string_view::npos && eq > 0, std::string(s));
    std::string name(s.substr(0, eq));
    s.remove_prefix(eq + 2);
    std::string value;
    for (;;) {
      FUZZ_CHECK(!s.empty(), "label value without closing quote");
      const char c = s.front();
      s.remove_prefix(1);
      if (c == '"') break;
      if (c != '\\') {
        value += c;
        continue;
      }
      FUZZ_CHECK(!s.empty(), "backslash at the end of a line");
      const char e = s.front();
      s.remove_prefix(1);
      FUZZ_CHECK(e == '\\' || e == '"' || e == 'n', std::string("unknown escape \\") + e);
      value += e == 'n' ? '\n' : e;
    }
    labels.emplace_back(std::move(name), std::move(value));
    if (!s.empty() && s.front() == ',') s.remove_prefix(1);
  }
  FUZZ_CHECK(!s.empty(), "label set without closing brace");
  s.remove_prefix(1);
  return labels;
}

void check_value(std::string_view text, double want) {
  if (std::isnan(want)) {
    // Prometheus reads NaN case-insensitively; prometheus-cpp writes "Nan".
    FUZZ_CHECK(text == "Nan" || text == "NaN", std::string(text));
    return;
  }
  if (std::isinf(want)) {
    FUZZ_CHECK(text == (want > 0 ? "+Inf" : "-Inf"), std::string(text));
    return;
  }
  // Read as long double: 16 significant digits of a value next to DBL_MAX round to a decimal
  // above DBL_MAX (e.g. 1.797693134862316e+308), which is still the right 16 digits.
  const std::string s(text);
  char* end = nullptr;
  const long double got = std::strtold(s.c_str(), &end);
  FUZZ_CHECK(end != s.c_str() && *end == '\0', s);
  const long double w = want;
  FUZZ_CHECK(got == w || std::fabs(got - w) <= 1e-15L * std::fabs(w),
             s + " != " + std::to_string(want));
}

void check_round_trip(const std::string& text, const std::string& help, std::string_view type,
                      const std::vector<Sample>& samples) {
  auto lines = lines_of(text);
  // prometheus-cpp leaves the HELP line out when the help text is empty.
  if (!help.empty()) {
    FUZZ_CHECK(lines.size() == 2 + samples.size(), text);
    const std::string help_prefix = "# HELP " + std::string(kName) + " ";
    FUZZ_CHECK(lines[0].substr(0, help_prefix.size()) == help_prefix, std::string(lines[0]));
    FUZZ_CHECK(unescape_help(lines[0].substr(help_prefix.size())) == help, std::string(lines[0]));
    lines.erase(lines.begin());
  }
  FUZZ_CHECK(lines.size() == 1 + samples.size(), text);
  FUZZ_CHECK(lines[0] == "# TYPE " + std::string(kName) + " " + std::string(type),
             std::string(lines[0]));
  for (std::size_t i = 0; i < samples.size(); ++i) {
    std::string_view line = lines[1 + i];
    FUZZ_CHECK(line.substr(0, kName.size()) == kName, std::string(line));
    line.remove_prefix(kName.size());
    const auto labels = parse_labels(line);
    // std::map iterates by name: the order Exposition must write them in.
    const std::vector<std::pair<std::string, std::string>> want(samples[i].labels.begin(),
                                                                samples[i].labels.end());
    FUZZ_CHECK(labels == want, std::string(lines[1 + i]));
    FUZZ_CHECK(!line.empty() && line.front() == ' ', std::string(lines[1 + i]));
    line.remove_prefix(1);
    check_value(line, samples[i].value);
  }
}

}  // namespace
}  // namespace l3afd::metrics

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace l3afd::metrics;
  FuzzedDataProvider in(data, size);
  const std::string help = in.ConsumeRandomLengthString(80);
  static const std::pair<prometheus::MetricType, std::string_view> kTypes[] = {
      {prometheus::MetricType::Counter, "counter"},
      {prometheus::MetricType::Gauge, "gauge"},
      {prometheus::MetricType::Untyped, "untyped"}};
  const auto& [type, type_name] = kTypes[in.ConsumeIntegralInRange<std::size_t>(0, 2)];
  std::vector<Sample> samples(in.ConsumeIntegralInRange<std::size_t>(1, 4));
  for (Sample& s : samples) {
    const auto n_labels = in.ConsumeIntegralInRange<std::size_t>(0, 4);
    for (std::size_t l = 0; l < n_labels; ++l) {
      s.labels[kLabelNames[l]] = in.ConsumeRandomLengthString(64);
    }
    const auto bits = in.ConsumeIntegral<std::uint64_t>();
    std::memcpy(&s.value, &bits, sizeof s.value);
  }

  Exposition e;
  for (const Sample& s : samples) e.add(std::string(kName), help, type, s.labels, s.value);
  check_round_trip(e.serialize(), help, type_name, samples);
  return 0;
}
