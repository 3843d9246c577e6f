// Vocabulary of the chain algebra: program instances, prog-array slots and slot writes.
// Pure values, no I/O (docs/chain-protocol.md §1.2, §4.2).
#pragma once

#include <compare>
#include <optional>
#include <string>
#include <utility>

namespace l3afd::chain {

/// One loaded copy of a program on one hook: its entry program plus its private 1-slot next
/// array (docs/chain-protocol.md §4.2). Several instances of the same program may exist at once
/// (old and new chain); they differ by `id`. Two Instance values denote the same instance iff both
/// fields are equal. The root of a hook is not an Instance (see Slot::root()).
struct Instance {
  std::string program;  ///< identity of the program on the hook (e.g. its name); opaque here
  std::string id;       ///< distinguishes instances of the same program; opaque here
  auto operator<=>(const Instance&) const = default;
  bool operator==(const Instance&) const = default;
};

/// A 1-slot PROG_ARRAY whose slot 0 can be written: the root array of the hook, or the private
/// next array of an instance. Totally ordered (root first) so it can key a std::map.
struct Slot {
  std::optional<Instance> owner;  ///< nullopt: the root array

  static Slot root() { return Slot{}; }
  static Slot of(Instance i) { return Slot{std::move(i)}; }
  bool is_root() const noexcept { return !owner.has_value(); }

  auto operator<=>(const Slot&) const = default;
  bool operator==(const Slot&) const = default;
};

enum class WriteKind {
  Set,    ///< BPF_MAP_UPDATE_ELEM key 0 := target's entry program fd
  Clear,  ///< BPF_MAP_DELETE_ELEM key 0
};

/// One atomic write to slot 0 of one array (K5). `target` is set iff kind == Set.
struct Write {
  WriteKind kind = WriteKind::Clear;
  Slot owner;                      ///< whose array is written
  std::optional<Instance> target;  ///< the instance the slot will hold (Set only)

  static Write set(Slot owner, Instance target) {
    return Write{WriteKind::Set, std::move(owner), std::move(target)};
  }
  static Write clear(Slot owner) { return Write{WriteKind::Clear, std::move(owner), std::nullopt}; }
  bool operator==(const Write&) const = default;
};

/// "program#id", for logs and test messages.
std::string to_string(const Instance& i);
/// "root" or "program#id".
std::string to_string(const Slot& s);
/// "root[0] := a#1" or "a#1[0] := clear".
std::string to_string(const Write& w);

}  // namespace l3afd::chain
