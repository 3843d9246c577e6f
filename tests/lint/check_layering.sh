#!/usr/bin/env bash
# Dependency rule (docs/architecture.md §1): checks every #include of every file under SRC_DIR
# against the table TABLE (default: layering.txt next to this script). Fails, listing every
# offending include with file:line and the reason, when
#   * a file includes a header of a module its row does not list (our own headers, spelled
#     "<module>/<header>" in quotes or angle brackets),
#   * an include of our code is not spelled "<module>/<header>" (no directory, "..", or a
#     directory that is no module),
#   * a file includes an external header group (bpf, linux, curl, archive, openssl, boost) its
#     row does not list,
#   * a directory under SRC_DIR holds code but has no row, or a row names an unknown module.
# Usage: check_layering.sh SRC_DIR [TABLE]
set -u
src="${1:?usage: check_layering.sh SRC_DIR [TABLE]}"
table="${2:-$(dirname "$0")/layering.txt}"
[ -d "$src" ] || { echo "no source directory $src"; exit 2; }
[ -f "$table" ] || { echo "no table $table"; exit 2; }

# External header groups: the adapter libraries (angle-bracket include prefixes).
declare -A ext_pattern=(
  [bpf]='^bpf/'
  [linux]='^linux/'
  [curl]='^curl/'
  [archive]='^archive(_entry)?\.h$'
  [openssl]='^openssl/'
  [boost]='^boost/(asio|beast)([/.]|$)'
)

declare -A allowed  # module -> " entry entry ... "
declare -A ext_ok   # module -> " group group ... "
bad=0
complain() {
  echo "$1"
  bad=1
}

# --- the table --------------------------------------------------------------------------------
while IFS= read -r line || [ -n "$line" ]; do
  line="${line%%#*}"
  [[ "$line" =~ ^[[:space:]]*$ ]] && continue
  if [[ ! "$line" =~ ^[[:space:]]*([A-Za-z0-9_/]+):(.*)$ ]]; then
    complain "$table: cannot parse row: $line"
    continue
  fi
  mod="${BASH_REMATCH[1]}"
  rest="${BASH_REMATCH[2]}"
  deps="${rest%%|*}"
  exts=""
  [[ "$rest" == *"|"* ]] && exts="${rest#*|}"
  list=" "
  for e in $deps; do [ "$e" = "-" ] || list+="$e "; done
  allowed[$mod]="$list"
  ext_ok[$mod]=" $(echo $exts) "
  for g in $exts; do
    [ -n "${ext_pattern[$g]+x}" ] || complain "$table: row $mod: unknown external group '$g'"
  done
done <"$table"

for mod in "${!allowed[@]}"; do
  [ -d "$src/$mod" ] || complain "$table: row $mod: no directory src/$mod"
  for e in ${allowed[$mod]}; do
    if [[ "$e" == *.h ]]; then
      [ -f "$src/$e" ] || complain "$table: row $mod: no header src/$e"
    else
      [ -n "${allowed[$e]+x}" ] || complain "$table: row $mod: '$e' is not a module of the table"
    fi
  done
done

# Top-level module names, to recognise our headers spelled with angle brackets.
declare -A top
for mod in "${!allowed[@]}"; do top[${mod%%/*}]=1; done

# module of an include path "a/b/x.h": the row whose name is exactly its directory.
module_of() {
  local dir="${1%/*}"
  [ "$dir" = "$1" ] && return 1
  [ -n "${allowed[$dir]+x}" ] || return 1
  echo "$dir"
}

# --- every file -------------------------------------------------------------------------------
code_re='\.(h|hh|hpp|c|cc|cpp|cxx|inc|ipp)$'
while IFS= read -r -d '' f; do
  rel="${f#"$src"/}"
  mod="${rel%/*}"
  [ "$mod" = "$rel" ] && mod="."
  if [ -z "${allowed[$mod]+x}" ]; then
    complain "src/$rel: directory src/$mod has no row in $(basename "$table")"
    continue
  fi
  while IFS= read -r hit; do
    lineno="${hit%%:*}"
    text="${hit#*:}"
    [[ "$text" =~ ^[[:space:]]*#[[:space:]]*include[[:space:]]*([\"\<])([^\"\>]*)[\"\>] ]] || continue
    quote="${BASH_REMATCH[1]}"
    inc="${BASH_REMATCH[2]}"
    where="src/$rel:$lineno: #include $quote$inc"
    first="${inc%%/*}"
    if [ "$quote" = "<" ] && [ -z "${top[$first]+x}" ]; then
      for g in "${!ext_pattern[@]}"; do
        if [[ "$inc" =~ ${ext_pattern[$g]} ]] && [[ "${ext_ok[$mod]}" != *" $g "* ]]; then
          complain "$where: $mod may not use $g headers (only the adapter that wraps them)"
        fi
      done
      continue
    fi
    if [[ "/$inc/" == */../* || "/$inc/" == */./* ]]; then
      complain "$where: include our headers as \"<module>/<header>\", without . or .."
      continue
    fi
    if ! target=$(module_of "$inc"); then
      complain "$where: not a header of a module (spell it \"<module>/<header>\")"
      continue
    fi
    [ "$target" = "$mod" ] && continue
    if [[ "${allowed[$mod]}" == *" $target "* || "${allowed[$mod]}" == *" $inc "* ]]; then
      continue
    fi
    complain "$where: $mod may not depend on $target (allowed: $(echo ${allowed[$mod]:-none}))"
  done < <(grep -nE '^[[:space:]]*#[[:space:]]*include' "$f")
done < <(find "$src" -type f -regextype posix-extended -regex ".*$code_re" -print0 | sort -z)

[ $bad -eq 0 ] && echo "layering ok"
exit $bad
