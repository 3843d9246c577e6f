// Shared fixtures of the DaemonConfig tests: a minimal valid file and parse helpers.
#pragma once

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <string_view>

#include "config/config.h"

namespace l3afd::config::fixture {

// The required keys only.
constexpr std::string_view kMinimal = R"([l3afd]
pid-file: /run/l3afd.pid
bpf-dir: /dev/shm
bpf-chaining-enabled: true
BpfMapDefaultPath: /sys/fs/bpf
[ebpf-repo]
url: file:///srv/repo
[l3af-config-store]
filename: /var/l3afd/store.json
)";

inline EnvLookup no_env() {
  return [](std::string_view) -> std::optional<std::string> { return std::nullopt; };
}

inline Result<DaemonConfig> parse(std::string_view extra, const EnvLookup& env = no_env()) {
  return parse_config(std::string(kMinimal) + std::string(extra), "t.cfg", env);
}

inline DaemonConfig parse_ok(std::string_view extra, const EnvLookup& env = no_env()) {
  auto r = parse(extra, env);
  EXPECT_TRUE(r.has_value()) << (r ? "" : r.error().message);
  return r ? std::move(*r) : DaemonConfig{};
}

inline std::string parse_error(std::string_view text) {
  auto r = parse_config(text, "t.cfg", no_env());
  EXPECT_FALSE(r.has_value());
  if (r) return "<no error>";
  EXPECT_EQ(r.error().code, Errc::InvalidPayload);
  return r.error().message;
}

// Removes the line of `key` from the minimal config.
inline std::string without(std::string_view key) {
  std::string text(kMinimal);
  const auto at = text.find(std::string(key) + ":");
  EXPECT_NE(at, std::string::npos) << key;
  text.erase(at, text.find('\n', at) - at + 1);
  return text;
}

}  // namespace l3afd::config::fixture
