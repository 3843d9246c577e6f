// Go-encoding/json-compatible codec for the L3AF data model (docs/compatibility.md §4, §5).
// Decoders follow Go's Unmarshal semantics (§5.2); encoders produce the byte-exact output of
// Go's MarshalIndent / Marshal (§5.1, §5.3). Pure. Thread-safe (no shared state).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "json/value.h"
#include "model/l3af_types.h"

namespace l3afd::model {

// ---- decoding (docs/compatibility.md §5.2)
// ----------------------------------------------------------
//
// All decoders: the body is one JSON value with optional surrounding whitespace. Keys match
// field names exactly first, then case-insensitively (Go folding); unknown keys are ignored;
// for repeated keys the later value is decoded over the earlier one (scalars: last wins;
// objects: merged member by member; arrays: later length, elements merged field by field).
// null leaves string/int/bool fields unchanged and sets nullable fields to null.
// Errors: Errc::InvalidJson. Syntax errors: message "invalid json at byte N: reason", no items.
// Type errors: message "<pointer>: <reason>" and exactly one ErrorItem whose `field` is the
// JSON pointer of the offending value (keys spelt as in the body) and whose iface / direction /
// program are filled when known. The first error in document order is reported.
// One exception, in the project's extension only: an unknown member of a program's `companion`
// object is Errc::InvalidPayload (same shape: message "<pointer>: <reason>", one ErrorItem), not
// ignored (model/l3af_types.h CompanionSettings).

/// add/update body: an array of L3afBpfPrograms, or null (-> empty vector).
Result<std::vector<L3afBpfPrograms>> decode_programs(std::string_view body);

/// delete body: an array of L3afBpfProgramNames, or null (-> empty vector).
Result<std::vector<L3afBpfProgramNames>> decode_names(std::string_view body);

/// restart body: a RestartConfig object (null -> zero value, as in Go).
Result<RestartConfig> decode_restart(std::string_view body);

// ---- encoding (docs/compatibility.md §5.1, §5.3)
// ---------------------------------------------------

/// GET of one interface: MarshalIndent(v, "", indent). Fields in §4 order, nullopt -> null;
/// the extensions (`key_end`, `companion` and its members) only when set.
std::string encode(const L3afBpfPrograms& v, std::string_view indent = "  ");

/// GET of all interfaces: MarshalIndent of the array; an empty vector is "[]".
std::string encode(const std::vector<L3afBpfPrograms>& v, std::string_view indent = "  ");

/// Store file (§5.3): MarshalIndent(v, "", " "); an empty vector is "null" (Go nil slice).
std::string encode_store(const std::vector<L3afBpfPrograms>& v);

/// One program as json.Marshal (compact), e.g. for logs and error details.
std::string encode_compact(const BpfProgram& p);

}  // namespace l3afd::model
