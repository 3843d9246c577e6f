// Total-function checks for the reader: random and mutated inputs must produce a value or an
// error, never a crash or a hang (run under ASan/UBSan in the sanitizer build). Deterministic
// seeds, so a failure reproduces.
#include <gtest/gtest.h>

#include <fstream>
#include <random>
#include <sstream>
#include <string>

#include "config/config.h"
#include "config/host_port.h"
#include "config/ini.h"
#include "config/values.h"

namespace l3afd::config {
namespace {

constexpr std::string_view kAlphabet =
    "[]:=#; \t\n\r%()s${}abcdefghijklmnopqrstuvwxyz-_.0123456789\x01\xb5\xc2\xce\xbc";

std::string random_text(std::mt19937& rng, std::size_t max_len) {
  std::uniform_int_distribution<std::size_t> len(0, max_len);
  std::uniform_int_distribution<std::size_t> pick(0, kAlphabet.size() - 1);
  std::string s(len(rng), ' ');
  for (char& c : s) c = kAlphabet[pick(rng)];
  return s;
}

std::optional<std::string> small_env(std::string_view name) {
  if (name.size() % 2 == 0) return std::string("v${") + std::string(name) + "}";
  return std::nullopt;
}

void check_result(const Result<DaemonConfig>& r) {
  if (!r) {
    EXPECT_EQ(r.error().message.rfind("f.cfg", 0), 0u) << r.error().message;
    EXPECT_EQ(r.error().message.find('\n'), std::string::npos) << r.error().message;
  }
}

TEST(ConfigRobustness, RandomTextNeverCrashes) {
  std::mt19937 rng(20240601);
  for (int i = 0; i < 3000; ++i) {
    const std::string text = random_text(rng, 300);
    auto ini = IniFile::parse(text, "f.cfg");
    if (ini) {
      for (std::string_view key : {"a", "s", "x-1", "0"}) {
        (void)ini->get_string("DEFAULT", key, small_env);
        (void)ini->get_duration("a", key, small_env);
      }
    } else {
      EXPECT_EQ(ini.error().message.rfind("f.cfg:", 0), 0u);
    }
    check_result(parse_config(text, "f.cfg", small_env));
    (void)parse_go_duration(text);
    (void)parse_go_int(text);
    (void)parse_go_bool(text);
    (void)split_host_port(text);
  }
}

TEST(ConfigRobustness, MutatedProjectConfigNeverCrashes) {
  std::ifstream in(std::string(L3AFD_SOURCE_DIR) + "/config/l3afd.cfg");
  std::stringstream buf;
  buf << in.rdbuf();
  const std::string original = buf.str();
  ASSERT_FALSE(original.empty());
  std::mt19937 rng(7);
  std::uniform_int_distribution<std::size_t> pick(0, kAlphabet.size() - 1);
  int parsed = 0;
  for (int i = 0; i < 1500; ++i) {
    std::string text = original;
    std::uniform_int_distribution<int> edits(1, 8);
    for (int e = edits(rng); e > 0; --e) {
      std::uniform_int_distribution<std::size_t> pos(0, text.size());
      const std::size_t at = pos(rng);
      switch (rng() % 3) {
        case 0: text.insert(at, 1, kAlphabet[pick(rng)]); break;
        case 1:
          if (at < text.size()) text.erase(at, 1 + rng() % 16);
          break;
        default:
          if (at < text.size()) text[at] = kAlphabet[pick(rng)];
      }
    }
    auto r = parse_config(text, "f.cfg", [](std::string_view) -> std::optional<std::string> {
      return "file:///repo";
    });
    check_result(r);
    if (r) ++parsed;
  }
  // The mutations must also exercise the success path, not only parse errors.
  EXPECT_GT(parsed, 0);
}

}  // namespace
}  // namespace l3afd::config
