// The one place where a failure is attributed to the request (architecture.md §2, stage 7):
// which payload field a failed step blames, which program it names, and the JSON pointer of
// that field in the request body. Pure.
#pragma once

#include <vector>

#include "core/result.h"
#include "engine/action.h"
#include "model/l3af_types.h"

namespace l3afd::engine {

/// The error of a step that failed, attributed: `step` = its label; an error the request caused
/// becomes InvalidPayload with an item naming the field (FetchPackage NotFound: artifact;
/// LoadObject NotFound: entry_function_name; LoadObject InvalidPayload, i.e. an object_file
/// leaving its package: object_file; ConfigureMaps InvalidPayload: map_args); every item gets
/// the step's interface, direction and program where it has none.
Error attribute_failure(Error e, const Step& step);

/// Completes items whose `field` is a bare key ("object_file", "seq_id", "map_name") into the
/// JSON pointer of that key in `request` (found by interface, direction and program name).
void locate(Error& e, const std::vector<model::L3afBpfPrograms>& request);

}  // namespace l3afd::engine
