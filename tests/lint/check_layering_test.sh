#!/usr/bin/env bash
# Proves that check_layering.sh catches violations: on a temporary copy of src/, the unchanged
# tree passes, and each injected include that breaks a rule of layering.txt (one per kind of
# rule) makes it fail, naming the file, the line and the broken rule. Usage:
#   check_layering_test.sh SRC_DIR
set -u
here="$(cd "$(dirname "$0")" && pwd)"
src="${1:?usage: check_layering_test.sh SRC_DIR}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cp -r "$src" "$work/pristine"
cp "$here/layering.txt" "$work/layering.txt"
failures=0

run_check() {  # run_check TREE TABLE -> sets out, rc
  out="$(bash "$here/check_layering.sh" "$1" "$2" 2>&1)"
  rc=$?
}

fresh() {
  rm -rf "$work/src"
  cp -r "$work/pristine" "$work/src"
}

run_check "$work/pristine" "$work/layering.txt"
if [ $rc -ne 0 ]; then
  echo "FAIL: the unchanged tree is refused:"
  echo "$out"
  failures=1
fi

# expect_refused NAME FILE LINE EXPECTED: appends LINE to src/FILE (creating it) and expects the
# checker to fail with an output line containing "src/FILE:" and EXPECTED.
expect_refused() {
  local name="$1" file="$2" line="$3" expected="$4"
  fresh
  mkdir -p "$(dirname "$work/src/$file")"
  echo "$line" >>"$work/src/$file"
  run_check "$work/src" "$work/layering.txt"
  if [ $rc -eq 0 ]; then
    echo "FAIL: $name: accepted: $file: $line"
    failures=1
  elif ! grep -F "src/$file:" <<<"$out" | grep -qF "$expected"; then
    echo "FAIL: $name: refused, but without \"src/$file: ... $expected\":"
    echo "$out"
    failures=1
  else
    echo "ok: $name"
  fi
}

expect_refused "engine includes the libbpf adapter" engine/engine.cpp \
  '#include "kernel/libbpf/libbpf_kernel.h"' "engine may not depend on kernel/libbpf"
expect_refused "engine includes the fake kernel" engine/planner.cpp \
  '#include "kernel/fake/fake_kernel.h"' "engine may not depend on kernel/fake"
expect_refused "store includes more of the engine than ports.h" store/json_file_store.cpp \
  '#include "engine/engine.h"' "store may not depend on engine"
expect_refused "layout includes the engine (upwards)" layout/bpffs_layout.h \
  '#include "engine/state.h"' "layout may not depend on engine"
expect_refused "chain includes model (chain is pure)" chain/planner.cpp \
  '#include "model/hook.h"' "chain may not depend on model"
expect_refused "kernel port includes an adapter" kernel/kernel.cpp \
  '#include "kernel/libbpf/pins.h"' "kernel may not depend on kernel/libbpf"
expect_refused "api includes a store adapter" api/routes.h \
  '#include "store/json_file_store.h"' "api may not depend on store"
expect_refused "api/http includes the engine" api/http/router.h \
  '#include "engine/engine.h"' "api/http may not depend on engine"
expect_refused "core includes json" core/result.h \
  '#include "json/value.h"' "core may not depend on json"
expect_refused "angle-bracket spelling of our header" engine/engine.cpp \
  '#include <artifact/artifact.h>' "engine may not depend on artifact"
expect_refused "relative include around the rule" engine/engine.cpp \
  '#include "../kernel/fake/injector.h"' "without . or .."
expect_refused "include without module directory" engine/engine.cpp \
  '#include "libbpf_kernel.h"' "not a header of a module"
expect_refused "libcurl in a pure module" model/validate.cpp \
  '#include <curl/curl.h>' "model may not use curl headers"
expect_refused "libbpf in the engine" engine/executor.cpp \
  '#  include <bpf/libbpf.h>' "engine may not use bpf headers"
expect_refused "rtnetlink in the daemon" daemon/bpffs.cpp \
  '#include <linux/rtnetlink.h>' "daemon may not use linux headers"
expect_refused "Beast outside api/http" api/routes.cpp \
  '#include <boost/beast/http.hpp>' "api may not use boost headers"
expect_refused "libarchive outside artifact" store/json_file_store.cpp \
  '#include <archive.h>' "store may not use archive headers"
expect_refused "new directory without a row" inspect/inspect.cpp \
  '#include "core/result.h"' "has no row"

# The table drives the check: dropping an edge the code uses (api -> metrics) is caught.
fresh
sed 's/^api: .*/api: core json model kernel engine api\/http/' "$work/layering.txt" >"$work/narrow.txt"
run_check "$work/src" "$work/narrow.txt"
if [ $rc -ne 0 ] && grep -q 'src/api/metrics_routes.h:.*api may not depend on metrics' <<<"$out"; then
  echo "ok: an edge removed from the table is enforced"
else
  echo "FAIL: removing api -> metrics from the table was not caught:"
  echo "$out"
  failures=1
fi

exit $failures
