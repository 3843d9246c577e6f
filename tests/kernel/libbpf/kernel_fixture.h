// Shared fixture of the libbpf adapter tests: a private pin base under /sys/fs/bpf, removed
// after each test, and helpers to build specs and inspect the kernel.
#pragma once

#include <bpf/bpf.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <thread>

#include "core/unique_fd.h"
#include "kernel/libbpf/libbpf_kernel.h"

namespace l3afd::kernel::libbpf {

namespace fs = std::filesystem;

inline const fs::path kObjectDir = L3AFD_BPF_OBJECT_DIR;

class KernelTest : public ::testing::Test {
 protected:
  void SetUp() override {
    base_ = "/sys/fs/bpf/l3afd-test-" + std::to_string(::getpid());
    fs::create_directories(base_);
    kernel_ = std::make_unique<LibbpfKernel>();
  }
  void TearDown() override {
    kernel_.reset();  // closes fds; pins are removed below
    std::error_code ec;
    fs::remove_all(base_, ec);
  }

  LoadSpec xdp_spec(const std::string& key, const std::string& name = "xdp-counter") const {
    return {key,
            kObjectDir / "xdp_counter.bpf.o",
            "xdp_counter",
            model::Hook::XdpIngress,
            base_ / "eth0" / name / "latest",
            base_ / "progs" / "eth0" / name / "latest" / "xdp_counter_xdp",
            {}};
  }
  LoadSpec tc_spec(const std::string& key, const std::string& name = "tc-counter",
                   model::Hook hook = model::Hook::TcIngress) const {
    return {key,
            kObjectDir / "tc_counter.bpf.o",
            "tc_counter",
            hook,
            base_ / "tc" / "globals" / "eth0" / name / "latest",
            base_ / "progs" / "eth0" / name / "latest" / "tc_counter_tc",
            {}};
  }
  fs::path link_pin(const std::string& name, const std::string& suffix) const {
    return base_ / "links" / "eth0" / name / "latest" / (name + suffix);
  }

  /// Kernel id of what is pinned at `p` (0 if nothing).
  static uint32_t pinned_id(const fs::path& p) {
    UniqueFd fd(bpf_obj_get(p.c_str()));
    if (!fd) return 0;
    bpf_prog_info info{};  // type and id lead every info struct
    uint32_t len = 8;
    return bpf_obj_get_info_by_fd(fd.get(), &info, &len) == 0 ? info.id : 0;
  }

  /// Regular files (pins) anywhere under the base.
  std::vector<fs::path> pins_under_base() const {
    std::vector<fs::path> out;
    std::error_code ec;
    if (!fs::exists(base_, ec)) return out;
    for (const auto& de : fs::recursive_directory_iterator(base_)) {
      if (!de.is_directory()) out.push_back(de.path());
    }
    return out;
  }

  /// Polls `pred` (kernel objects are freed asynchronously after their last reference goes);
  /// gives up after a generous bound so that a broken test ends.
  static bool eventually(const std::function<bool()>& pred) {
    for (int i = 0; i < 200; ++i) {
      if (pred()) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return pred();
  }

  uint64_t read(const std::string& key, const std::string& map, uint64_t k = 0) {
    auto v = kernel_->read_map_value(key, map, k);
    EXPECT_TRUE(v.has_value()) << (v ? "" : v.error().to_string());
    return v ? *v : 0;
  }

  fs::path base_;
  std::unique_ptr<LibbpfKernel> kernel_;
};

}  // namespace l3afd::kernel::libbpf
