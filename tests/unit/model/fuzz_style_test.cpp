// Deterministic mutation testing without libFuzzer: a few thousand mutated bodies go through
// the parser and all decoders; nothing may crash, and every accepted request must survive
// encode -> decode unchanged (and re-encode to the same bytes).
#include <gtest/gtest.h>

#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "json/convert.h"
#include "json/encode.h"
#include "json/parse.h"
#include "model/l3af_json.h"

namespace l3afd::model {
namespace {

std::vector<std::string> seeds() {
  std::ifstream f(std::string(L3AFD_JSON_FIXTURES) + "/ratelimiting_add_payload.json");
  std::ostringstream s;
  s << f.rdbuf();
  return {
      s.str(),
      R"([{"host_name":"h","iface":"eth0","ipv4_address":"1.2.3.4","bpf_programs":{"xdp_ingress":[{"id":1,"name":"a","seq_id":2,"start_args":{"x":1.5e-7,"y":[true,null,"\u003c"],"z":{}},"map_args":[{"name":"m","args":[{"key":1,"value":-2}]}],"monitor_maps":[]}],"tc_ingress":null,"tc_egress":[],"probes":[{"name":"p","prog_type":"kprobe"}]}}])",
      R"([{"HOST_NAME":"h","iface":"e","iface":"f","bpf_programs":{"probes":[{"Name":"\ud83d\ude00\ud800","config_args":{"a":-0,"b":1e21}}]},"bpf_programs":{"probes":[{"cpu":9223372036854775807}]}}])",
      R"([{"host_name":"h","iface":"eth0","bpf_programs":{"xdp_ingress":["a","b"],"probes":["p"]}}])",
      R"({"hostname":"h","version":"v2.0.0"})",
      "null",
  };
}

const std::vector<std::string> kTokens = {"{",
                                          "}",
                                          "[",
                                          "]",
                                          ",",
                                          ":",
                                          "\"",
                                          "\\",
                                          "null",
                                          "true",
                                          "false",
                                          "0",
                                          "-1",
                                          "1.5e3",
                                          "\"name\"",
                                          "\"seq_id\"",
                                          "\"start_args\"",
                                          "\"xdp_ingress\"",
                                          "\\u00",
                                          "\\ud800",
                                          "\xFF",
                                          "\xE2\x80\xA8",
                                          " ",
                                          "1e400",
                                          "9223372036854775808",
                                          "{}",
                                          "[]",
                                          "\"x\":"};

std::string mutate(std::string s, std::mt19937& rng, const std::vector<std::string>& pool) {
  const int rounds = 1 + static_cast<int>(rng() % 4);
  for (int r = 0; r < rounds; ++r) {
    const std::size_t pos = s.empty() ? 0 : rng() % (s.size() + 1);
    switch (rng() % 6) {
      case 0:  // flip a byte
        if (!s.empty()) s[pos % s.size()] = static_cast<char>(rng() & 0xFF);
        break;
      case 1:  // insert a token
        s.insert(pos, kTokens[rng() % kTokens.size()]);
        break;
      case 2: {  // delete a range
        const std::size_t len = rng() % 16;
        if (pos < s.size()) s.erase(pos, len);
        break;
      }
      case 3: {  // duplicate a range
        if (pos < s.size()) s.insert(pos, s.substr(pos, rng() % 32));
        break;
      }
      case 4: {  // splice from another seed
        const std::string& o = pool[rng() % pool.size()];
        if (!o.empty()) s.insert(pos, o.substr(rng() % o.size(), rng() % 40));
        break;
      }
      default:  // truncate
        s.resize(pos);
        break;
    }
  }
  return s;
}

TEST(ModelFuzzStyle, MutatedInputsNeverCrashAndAcceptedOnesRoundTrip) {
  const std::vector<std::string> pool = seeds();
  std::mt19937 rng(20240601);  // fixed seed: reproducible
  int accepted_programs = 0;
  int parsed = 0;
  for (int i = 0; i < 4000; ++i) {
    const std::string input = mutate(pool[i % pool.size()], rng, pool);
    SCOPED_TRACE(::testing::Message() << "iteration " << i);

    if (auto n = json::parse(input)) {
      ++parsed;
      if (auto v = json::to_value(*n)) {
        // Value -> compact text -> Value is the identity; re-encoding is byte-stable.
        const std::string text = json::encode_compact(*v);
        auto n2 = json::parse(text);
        ASSERT_TRUE(n2) << text;
        auto v2 = json::to_value(*n2);
        ASSERT_TRUE(v2);
        EXPECT_EQ(*v2, *v);
        EXPECT_EQ(json::encode_indent(*v2), json::encode_indent(*v));
      }
    }

    if (auto d = decode_programs(input)) {
      ++accepted_programs;
      const std::string get = encode(*d);
      auto back = decode_programs(get);
      ASSERT_TRUE(back) << get << "\n" << back.error().message;
      EXPECT_EQ(*back, *d);
      EXPECT_EQ(encode(*back), get);
      auto from_store = decode_programs(encode_store(*d));
      ASSERT_TRUE(from_store);
      EXPECT_EQ(*from_store, *d);
    } else {
      EXPECT_EQ(d.error().code, Errc::InvalidJson);
      EXPECT_LE(d.error().items.size(), 1u);
    }
    if (auto d = decode_names(input); !d) {
      EXPECT_EQ(d.error().code, Errc::InvalidJson);
    }
    if (auto d = decode_restart(input); !d) {
      EXPECT_EQ(d.error().code, Errc::InvalidJson);
    }
  }
  // The mutations must leave a meaningful share of inputs valid, or the test proves little.
  EXPECT_GT(parsed, 200);
  EXPECT_GT(accepted_programs, 100);
}

}  // namespace
}  // namespace l3afd::model
