// Helpers of the plan tests: requests, validated input, and a plan as (action kind, label)
// pairs.
#pragma once

#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "engine/planner.h"
#include "model/validated.h"

namespace l3afd::testing {

inline constexpr const char* kHost = "testhost";

inline model::BpfProgram program(std::string name, std::string version = "1.0",
                                 std::int64_t seq_id = 1) {
  model::BpfProgram p;
  p.name = std::move(name);
  p.seq_id = seq_id;
  p.artifact = "l3af_" + p.name + ".tar.gz";
  p.version = std::move(version);
  p.admin_status = "enabled";
  p.prog_type = "xdp";
  p.object_file = p.name + ".bpf.o";
  p.entry_function_name = "entry";
  p.map_name = "next_" + p.name;
  return p;
}

inline model::L3afBpfPrograms entry(std::string iface, std::vector<model::BpfProgram> xdp) {
  model::L3afBpfPrograms e;
  e.host_name = kHost;
  e.iface = std::move(iface);
  e.ipv4_address = "198.18.0.1";
  model::BpfPrograms bp;
  bp.xdp_ingress = std::move(xdp);
  e.bpf_programs = bp;
  return e;
}

inline model::ValidationContext context(bool chaining) {
  model::ValidationContext ctx;
  ctx.host_name = kHost;
  ctx.chaining = chaining;
  return ctx;
}

inline model::ValidPrograms valid(std::vector<model::L3afBpfPrograms> req, bool chaining) {
  auto v = model::accept_programs(std::move(req), context(chaining));
  if (!v) throw std::runtime_error("request refused: " + v.error().to_string());
  return std::move(*v);
}

inline model::ValidNames valid_names(const std::string& iface, std::vector<std::string> xdp,
                                     bool chaining) {
  model::L3afBpfProgramNames n;
  n.host_name = kHost;
  n.iface = iface;
  model::BpfProgramNames bn;
  bn.xdp_ingress = std::move(xdp);
  n.bpf_programs = bn;
  auto v = model::accept_names({n}, context(chaining));
  if (!v) throw std::runtime_error("request refused: " + v.error().to_string());
  return std::move(*v);
}

using StepList = std::vector<std::pair<std::string, std::string>>;

/// The steps as (action kind, label), in order.
inline StepList steps_of(const std::vector<engine::Step>& steps) {
  StepList out;
  for (const auto& s : steps)
    out.emplace_back(std::string(engine::action_kind(s.forward)), s.label);
  return out;
}

/// The state after `plan`, as if every step succeeded (kernel fields stay empty).
inline engine::AppliedState after(engine::Plan plan) {
  return engine::complete(std::move(plan), {});
}

}  // namespace l3afd::testing
