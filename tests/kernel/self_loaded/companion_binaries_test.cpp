// The package binaries of tools/companions as the daemon runs them (docs/compatibility.md
// §11.1), taken from the packages the build makes: `ratelimiting` (daemon) loads its object,
// writes rate and ports and chains itself into --map-name's slot 0; `connection_limit`
// (one-shot) checks the maps of a loaded connection-limit instance.
#include <linux/bpf.h>

#include "self_loaded/sl_fixture.h"
#include "support/packet.h"

namespace l3afd::kernel::libbpf {
namespace {

using l3afd::testing::PacketBuilder;

TEST_F(SelfLoadedTest, RatelimitingHelpAndInvalidArguments) {
  const std::string bin = rl_binary_.string();
  auto help = run({bin, "--help"});
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_NE(help.output.find("usage: ratelimiting"), std::string::npos) << help.output;
  for (const char* flag : {"--iface", "--map-name", "--ports", "--rate", "--bpf-base"}) {
    EXPECT_NE(help.output.find(flag), std::string::npos) << flag;
  }
  auto no_iface = run({bin, "--ports=80"});
  EXPECT_EQ(no_iface.exit_code, 2);
  EXPECT_NE(no_iface.output.find("--iface is required"), std::string::npos) << no_iface.output;
  for (const std::vector<std::string>& bad :
       {std::vector<std::string>{"--iface=" + iface_, "--ports=0"},
        {"--iface=" + iface_, "--ports=80,x"},
        {"--iface=" + iface_, "--rate=-1"},
        {"--iface=" + iface_, "--version=../x"},
        {"--iface=" + iface_, "--bpf-base=relative"},
        {"--iface=" + iface_, "--direction=egress"},
        {"--iface=a/b"}}) {
    std::vector<std::string> argv{bin};
    argv.insert(argv.end(), bad.begin(), bad.end());
    auto r = run(argv);
    EXPECT_EQ(r.exit_code, 2) << bad.back() << ": " << r.output;
  }
  EXPECT_TRUE(pins_under_base().empty()) << "nothing loaded on a refused command line";
}

TEST_F(SelfLoadedTest, RatelimitingWritesItsMapsAndSlotAndLeavesThemOnSigterm) {
  ASSERT_TRUE(kernel_->create_staging(staging_));
  auto binary = start_rl(
      staging_, {"--ports=80,8080", "--rate=3", "--unknown-flag=1", "--log-dir=/var/log/l3af"});
  const uint32_t id = wait_for_slot(*binary, staging_);
  ASSERT_NE(id, 0U) << binary->output();
  EXPECT_FALSE(binary->exited()) << "a daemon: it keeps running";
  EXPECT_NE(binary->output().find("ignoring unknown option '--unknown-flag=1'"), std::string::npos)
      << binary->output();

  // rl_config_map[0] = rate (u32 -> u64); rl_ports_map = {80, 8080} (u16 host order -> u8 1).
  UniqueFd config(bpf_obj_get((map_dir_ / "rl_config_map").c_str()));
  UniqueFd ports(bpf_obj_get((map_dir_ / "rl_ports_map").c_str()));
  ASSERT_TRUE(config.valid() && ports.valid()) << "pinned by name in the map directory";
  const uint32_t zero = 0;
  uint64_t rate = 0;
  ASSERT_EQ(bpf_map_lookup_elem(config.get(), &zero, &rate), 0);
  EXPECT_EQ(rate, 3U);
  std::vector<uint16_t> listed;
  uint16_t key = 0;
  const void* prev = nullptr;
  while (bpf_map_get_next_key(ports.get(), prev, &key) == 0) {
    uint8_t v = 0;
    EXPECT_EQ(bpf_map_lookup_elem(ports.get(), &key, &v), 0);
    EXPECT_EQ(v, 1);
    listed.push_back(key);
    prev = &key;
  }
  std::sort(listed.begin(), listed.end());
  EXPECT_EQ(listed, (std::vector<uint16_t>{80, 8080}));
  EXPECT_TRUE(fs::exists(map_dir_ / kNextArray)) << "the next array lands at MapNamePath";

  EXPECT_EQ(binary->terminate(), 0) << binary->output();
  EXPECT_EQ(slot_id(staging_), id) << "still in the slot after the binary's exit";
  EXPECT_TRUE(kernel_->program_exists(id));
  EXPECT_TRUE(fs::exists(map_dir_ / kNextArray));
}

TEST_F(SelfLoadedTest, RatelimitingProgramDropsASynToAListedPortBeyondTheRate) {
  ASSERT_TRUE(kernel_->create_staging(staging_));
  auto binary = start_rl(staging_, {"--ports=8080", "--rate=1"});
  const uint32_t id = wait_for_slot(*binary, staging_);
  ASSERT_NE(id, 0U) << binary->output();
  UniqueFd prog(bpf_prog_get_fd_by_id(id));
  ASSERT_TRUE(prog.valid());
  auto verdict = [&](uint16_t dport) {
    PacketBuilder b;
    b.eth().ipv4("198.18.0.2", "198.18.0.1").tcp(40000, dport);
    const auto frame = b.build();
    std::vector<uint8_t> out(frame.size() + 256);
    LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = frame.data(), .data_out = out.data(),
                .data_size_in = static_cast<uint32_t>(frame.size()),
                .data_size_out = static_cast<uint32_t>(out.size()), .repeat = 1);
    EXPECT_EQ(bpf_prog_test_run_opts(prog.get(), &opts), 0) << errno;
    return static_cast<int>(opts.retval);
  };
  // Rate 1: the first SYN fits; the next ones (within the same second or the next) do not.
  EXPECT_EQ(verdict(8080), XDP_PASS);
  EXPECT_EQ(verdict(8080), XDP_DROP);
  EXPECT_EQ(verdict(9090), XDP_PASS) << "an unlisted port is not limited";
  UniqueFd drops(bpf_obj_get((map_dir_ / "rl_drop_count_map").c_str()));
  const uint32_t zero = 0;
  uint64_t dropped = 0;
  ASSERT_EQ(bpf_map_lookup_elem(drops.get(), &zero, &dropped), 0);
  EXPECT_EQ(dropped, 1U);
  EXPECT_EQ(binary->terminate(), 0) << binary->output();
}

TEST_F(SelfLoadedTest, RatelimitingWithoutMapNameAttachesByAPinnedLinkAndDetachesOnSigterm) {
  const fs::path link_pin =
      base_ / "links" / iface_ / "ratelimiting" / "latest" / "ratelimiting_xdp";
  Child binary({rl_binary_.string(), "--iface=" + iface_, "--bpf-base=" + base_.string()},
               pkg_root_ / "standalone.log");
  ASSERT_TRUE(eventually([&] { return fs::exists(link_pin) || binary.exited(); }))
      << binary.output();
  ASSERT_TRUE(fs::exists(link_pin)) << binary.output();
  UniqueFd link(bpf_obj_get(link_pin.c_str()));
  ASSERT_TRUE(link.valid());
  bpf_link_info info{};
  uint32_t len = sizeof(info);
  ASSERT_EQ(bpf_obj_get_info_by_fd(link.get(), &info, &len), 0);
  EXPECT_EQ(info.type, BPF_LINK_TYPE_XDP);
  EXPECT_EQ(info.xdp.ifindex, *kernel_->interface(iface_).map([](auto i) { return i.ifindex; }));
  link.reset();

  EXPECT_EQ(binary.terminate(), 0) << binary.output();
  EXPECT_FALSE(fs::exists(link_pin)) << "its own attachment goes with it";
  EXPECT_TRUE(fs::exists(map_dir_ / "rl_config_map")) << "the maps stay pinned";
}

TEST_F(SelfLoadedTest, ConnectionLimitExitsZeroWithTheMapsOfALoadedInstance) {
  const fs::path dir = base_ / iface_ / "connection-limit" / "latest";
  const LoadSpec spec{
      "cl",
      kObjectDir / "connection_limit.bpf.o",
      "_xdp_limit_conn",
      model::Hook::XdpIngress,
      dir,
      base_ / "progs" / iface_ / "connection-limit" / "latest" / "_xdp_limit_conn_xdp",
      "xdp_cl_ingress_next_prog"};
  auto loaded = kernel_->load(spec);
  ASSERT_TRUE(loaded) << loaded.error().to_string();
  ASSERT_TRUE(
      kernel_->configure_maps("cl",
                              {{"cl_max_conn", std::vector<model::KeyValue>{{0, 5}}},
                               {"cl_tcp_conns", std::vector<model::KeyValue>{{80, 1}, {443, 1}}}},
                              {}));
  auto r = run({cl_binary_.string(), "--iface=" + iface_, "--direction=xdpingress",
                "--version=latest", "--bpf-base=" + base_.string(), "--max-conn=9"});
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("limit 5"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("ports 80,443"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("ignoring unknown option '--max-conn=9'"), std::string::npos) << r.output;
}

TEST_F(SelfLoadedTest, ConnectionLimitExitsNonZeroWithoutTheMapsAndOnBadArguments) {
  auto missing = run(
      {cl_binary_.string(), "--iface=" + iface_, "--version=2_0", "--bpf-base=" + base_.string()});
  EXPECT_EQ(missing.exit_code, 1) << missing.output;
  EXPECT_NE(missing.output.find("is not pinned at " + (base_ / iface_).string()), std::string::npos)
      << missing.output;
  auto help = run({cl_binary_.string(), "--help"});
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_NE(help.output.find("usage: connection_limit"), std::string::npos) << help.output;
  EXPECT_EQ(run({cl_binary_.string()}).exit_code, 2) << "--iface is required";
  EXPECT_EQ(run({cl_binary_.string(), "--iface=" + iface_, "--bpf-base=x"}).exit_code, 2);
}

}  // namespace
}  // namespace l3afd::kernel::libbpf
