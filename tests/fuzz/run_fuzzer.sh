#!/usr/bin/env bash
# Runs one libFuzzer target for ctest (tests/fuzz/CMakeLists.txt; tests/fuzz/README.md).
#
#   run_fuzzer.sh fuzz   <binary> <name> <source dir> <build dir>
#       Fuzzes for ${FUZZ_SECONDS:-20} seconds. The working corpus is <build dir>/fuzz/corpus/
#       <name> (new inputs go there, the source tree is never written); the seeds of
#       <source dir>/corpus/<name> and the inputs of <source dir>/regressions/<name> are read
#       as well. Crash, leak, timeout and out-of-memory inputs are written to
#       <build dir>/fuzz/artifacts/<name>/.
#   run_fuzzer.sh replay <binary> <name> <source dir> <build dir>
#       Runs every file of <source dir>/regressions/<name> and <source dir>/corpus/<name> once,
#       each in its own process; a failing one is named as the reproducer.
#
# Exit status: the fuzzer's (0 = no finding). On a finding, the reproducer's path and the
# commands to replay it and to keep it as a regression input are printed last.
set -euo pipefail

mode=$1 bin=$2 name=$3 src=$4 build=$5
seeds=$src/corpus/$name
regressions=$src/regressions/$name
artifacts=$build/fuzz/artifacts/$name
corpus=$build/fuzz/corpus/$name
mkdir -p "$artifacts" "$corpus"

# Abort with a stack trace on the first UBSan finding (the build also has
# -fno-sanitize-recover); ASan's leak check stays on (libFuzzer reports leaks as findings).
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

marker=$(mktemp)
trap 'rm -f "$marker" "$marker.log"' EXIT

report() {
  local rc=$1
  [ "$rc" -eq 0 ] && return 0
  echo
  echo "fuzz.$name: FAILED (exit status $rc)"
  local found=0
  while IFS= read -r f; do
    found=1
    echo "  reproducer: $f"
    echo "  replay:     $bin $f"
    echo "  keep it:    cp $f $regressions/   (after fixing the bug; see tests/fuzz/README.md)"
  done < <(find "$artifacts" -type f -newer "$marker" 2>/dev/null | sort)
  [ $found -eq 1 ] || echo "  (no reproducer written; the failing input is named in the log above)"
  return "$rc"
}

case $mode in
  fuzz)
    seconds=${FUZZ_SECONDS:-20}
    dirs=("$corpus")
    for d in "$seeds" "$regressions"; do
      [ -d "$d" ] && dirs+=("$d")
    done
    echo "fuzz.$name: ${seconds}s, corpus $corpus, seeds $seeds"
    rc=0
    "$bin" -max_total_time="$seconds" -print_final_stats=1 -artifact_prefix="$artifacts/" \
      "${dirs[@]}" || rc=$?
    report "$rc"
    ;;
  replay)
    inputs=()
    for d in "$regressions" "$seeds"; do
      [ -d "$d" ] || continue
      while IFS= read -r f; do inputs+=("$f"); done < <(find "$d" -type f ! -name '.*' | sort)
    done
    if [ ${#inputs[@]} -eq 0 ]; then
      echo "fuzz.$name: no regression or seed inputs"
      exit 0
    fi
    echo "fuzz.$name: replaying ${#inputs[@]} inputs"
    # One process per input, so that a failure names its input; libFuzzer's own copies of a
    # failing input go to a directory of their own (not mistaken for a finding of the fuzz run).
    replay_artifacts=$build/fuzz/replay-artifacts/$name
    mkdir -p "$replay_artifacts"
    failed=0
    for f in "${inputs[@]}"; do
      rc=0
      "$bin" -artifact_prefix="$replay_artifacts/" "$f" >"$marker.log" 2>&1 || rc=$?
      if [ "$rc" -ne 0 ]; then
        cat "$marker.log"
        echo
        echo "fuzz.$name: FAILED (exit status $rc) on $f"
        echo "  reproducer: $f"
        echo "  replay:     $bin $f"
        failed=1
      fi
    done
    rm -f "$marker.log"
    [ $failed -eq 0 ] && echo "fuzz.$name: all ${#inputs[@]} inputs pass"
    exit $failed
    ;;
  *)
    echo "usage: $0 fuzz|replay <binary> <name> <source dir> <build dir>" >&2
    exit 2
    ;;
esac
