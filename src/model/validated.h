// A request that passed every request rule (§4.8 validation and the features this build
// supports). Only accept_programs / accept_names produce a Validated value, so a function
// taking one (the engine's planner) cannot be handed an unchecked request.
#pragma once

#include <utility>
#include <vector>

#include "core/result.h"
#include "model/l3af_types.h"
#include "model/validate.h"

namespace l3afd::model {

template <class Entry>
class Validated;
using ValidPrograms = Validated<L3afBpfPrograms>;
using ValidNames = Validated<L3afBpfProgramNames>;

/// validate_programs, then check_supported. Errors: those of validate_programs, else
/// InvalidPayload from check_supported.
Result<ValidPrograms> accept_programs(std::vector<L3afBpfPrograms> request,
                                      const ValidationContext& ctx);
/// validate_names. Errors: those of validate_names.
Result<ValidNames> accept_names(std::vector<L3afBpfProgramNames> request,
                                const ValidationContext& ctx);

/// Features this daemon does not run are refused up front, with the field named, rather than
/// accepted and silently not done: probes; without ctx.companions, cmd_start (user programs)
/// and an enabled hook program without object_file. With companions: a program needs
/// object_file or cmd_start; a
/// self-loading program without chaining takes no map_args. InvalidPayload with one item per
/// problem (field = JSON pointer); the message is the first item's, "(and N more)".
Status check_supported(const std::vector<L3afBpfPrograms>& request, const ValidationContext& ctx);

/// The entries of a request, validated. Immutable.
template <class Entry>
class Validated {
 public:
  const std::vector<Entry>& entries() const { return entries_; }

 private:
  explicit Validated(std::vector<Entry> entries) : entries_(std::move(entries)) {}
  friend Result<ValidPrograms> accept_programs(std::vector<L3afBpfPrograms>,
                                               const ValidationContext&);
  friend Result<ValidNames> accept_names(std::vector<L3afBpfProgramNames>,
                                         const ValidationContext&);
  std::vector<Entry> entries_;
};

}  // namespace l3afd::model
