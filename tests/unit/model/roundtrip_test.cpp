// The seed talk's ratelimiting payload: decode, GET encoding and store encoding byte-exact
// against hand-written fixtures, and decode(encode(x)) == x.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>

#include "model/l3af_json.h"

namespace l3afd::model {
namespace {

std::string read_fixture(const std::string& name) {
  std::ifstream f(std::string(L3AFD_JSON_FIXTURES) + "/" + name, std::ios::binary);
  EXPECT_TRUE(f.good()) << name;
  std::ostringstream s;
  s << f.rdbuf();
  return s.str();
}

class RatelimitingSeed : public ::testing::Test {
 protected:
  void SetUp() override {
    auto r = decode_programs(read_fixture("ratelimiting_add_payload.json"));
    ASSERT_TRUE(r) << r.error().message;
    ASSERT_EQ(r->size(), 1u);
    programs_ = *r;
  }
  std::vector<L3afBpfPrograms> programs_;
};

TEST_F(RatelimitingSeed, DecodedFields) {
  const L3afBpfPrograms& e = programs_[0];
  EXPECT_EQ(e.host_name, "13af");
  EXPECT_EQ(e.iface, "Ethernet4");
  const BpfProgram& p = e.bpf_programs.value().xdp_ingress.value().at(0);
  EXPECT_EQ(p.name, "ratelimiting");
  EXPECT_EQ(p.seq_id, 1);
  EXPECT_EQ(p.map_name, "xdp_rl_ingress_next_prog");
  EXPECT_TRUE(p.user_program_daemon);
  EXPECT_EQ(p.cfg_version, 1);
  EXPECT_EQ(std::get<std::string>(p.start_args.value().at("ports").v), "80,8080,8081");
  ASSERT_EQ(p.monitor_maps.value().size(), 2u);
  EXPECT_EQ(p.monitor_maps->at(1), (MonitorMap{"rl_recv_count_map", 0, "max-rate"}));
  EXPECT_FALSE(p.stop_args.has_value());
  EXPECT_FALSE(e.bpf_programs->tc_ingress.has_value());
}

TEST_F(RatelimitingSeed, GetBodyByteExact) {
  // The fixture is the GET body plus one newline, like the e2e exp_output files.
  EXPECT_EQ(encode(programs_[0]) + "\n", read_fixture("ratelimiting_get_expected.json"));
}

TEST_F(RatelimitingSeed, StoreBodyByteExact) {
  EXPECT_EQ(encode_store(programs_) + "\n", read_fixture("ratelimiting_store_expected.json"));
}

TEST_F(RatelimitingSeed, RoundTrips) {
  const std::string get_all = encode(programs_);
  auto again = decode_programs(get_all);
  ASSERT_TRUE(again) << again.error().message;
  EXPECT_EQ(*again, programs_);
  auto from_store = decode_programs(encode_store(programs_));
  ASSERT_TRUE(from_store);
  EXPECT_EQ(*from_store, programs_);
  EXPECT_EQ(encode(*again), get_all);
}

}  // namespace
}  // namespace l3afd::model
