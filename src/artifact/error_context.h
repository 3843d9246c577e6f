// Internal: prefix an error message with context. Error::with_context would do, but GCC 12
// reports a false -Wnull-dereference for its vector insert at -O2.
#pragma once

#include <string>
#include <utility>

#include "core/result.h"

namespace l3afd::artifact::detail {

/// Returns `e` with its message prefixed by "<ctx>: ".
inline Error add_context(Error e, const std::string& ctx) {
  e.message = ctx + ": " + e.message;
  return e;
}

}  // namespace l3afd::artifact::detail
