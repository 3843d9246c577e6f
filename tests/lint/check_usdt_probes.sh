#!/usr/bin/env bash
# The USDT probes of the daemon binary against their documentation (docs/tracing.md).
#
#   check_usdt_probes.sh <l3afd binary> <tracing.md> [<probe not placed yet> ...]
#
# The document's probe table has one row per probe whose first cell is `name(arg, ...)`. The
# binary's probes are the notes of provider l3afd in its .note.stapsdt section (readelf -n).
# Fails (exit 1, one line per problem) when
#   * a probe of the binary is not documented,
#   * a site of a probe has another number of arguments than its documentation,
#   * a documented probe is not in the binary, unless it is named on the command line as not
#     placed yet (a probe another change places; checked like the others once it is there).
set -euo pipefail

binary=$1
doc=$2
shift 2
declare -A pending=()
for p in "$@"; do pending[$p]=1; done

[[ -x $binary ]] || { echo "no binary at $binary (build the l3afd target)"; exit 1; }
[[ -r $doc ]] || { echo "cannot read $doc"; exit 1; }

# name -> number of arguments, from the document's table.
declare -A documented=()
while IFS= read -r line; do
  if [[ $line =~ ^\|\ \`([a-z_][a-z0-9_]*)\(([^\)]*)\)\`\ \| ]]; then
    name=${BASH_REMATCH[1]}
    args=${BASH_REMATCH[2]}
    if [[ -z ${args// /} ]]; then
      n=0
    else
      commas=${args//[^,]/}
      n=$((${#commas} + 1))
    fi
    documented[$name]=$n
  fi
done <"$doc"
if [[ ${#documented[@]} -eq 0 ]]; then
  echo "$doc: no probe table rows (| \`name(args)\` | ...)"
  exit 1
fi

# "name count" per probe site of provider l3afd.
sites=$(readelf -n --wide "$binary" | awk '
  match($0, /Provider: [^ \t]+/) { provider = substr($0, RSTART + 10, RLENGTH - 10) }
  /Name:/ { name = $2 }
  /Arguments:/ { if (provider == "l3afd") print name, NF - 1; provider = ""; name = "" }
')

# Problems by kind, printed in this order: argument counts, undocumented, missing.
miscounted=()
undocumented=()
missing=()
declare -A present=()
while read -r name n; do
  [[ -n $name ]] || continue
  present[$name]=1
  if [[ -z ${documented[$name]+x} ]]; then
    undocumented+=("probe l3afd:$name is in the binary but not documented in $doc")
  elif [[ ${documented[$name]} -ne $n ]]; then
    miscounted+=("probe l3afd:$name has a site with $n argument(s), $doc documents ${documented[$name]}")
  fi
done <<<"$sites"
for name in "${!documented[@]}"; do
  if [[ -z ${present[$name]+x} && -z ${pending[$name]+x} ]]; then
    missing+=("probe l3afd:$name is documented in $doc but not in $binary")
  fi
done

problems=("${miscounted[@]}" "${undocumented[@]}" "${missing[@]}")
if [[ ${#problems[@]} -gt 0 ]]; then
  printf '%s\n' "${problems[@]}"
  exit 1
fi
echo "ok: ${#present[@]} probe(s) in the binary, ${#documented[@]} documented"
