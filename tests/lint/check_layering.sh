#!/usr/bin/env bash
# Architecture rule (DESIGN.md §1.1, docs/architecture.md): only adapter directories may
# include libbpf, libcurl, libarchive, rtnetlink or Boost.Beast/Asio headers. Fails listing
# every offending include.
set -u
src="${1:?usage: check_layering.sh SRC_DIR}"
pure=(core json model layout engine store config kernel/kernel.h kernel/kernel.cpp kernel/fake)
pattern='#include *[<"](bpf/|curl/|archive|linux/rtnetlink|boost/beast|boost/asio)'
bad=0
for m in "${pure[@]}"; do
  [ -e "$src/$m" ] || continue
  if hits=$(grep -rnE "$pattern" "$src/$m"); then
    echo "layering violation in src/$m:"
    echo "$hits"
    bad=1
  fi
done
# The engine talks to the kernel only through the port.
if hits=$(grep -rnE '#include *"kernel/(libbpf|fake)/' "$src/engine"); then
  echo "src/engine includes a kernel adapter:"
  echo "$hits"
  bad=1
fi
[ $bad -eq 0 ] && echo "layering ok"
exit $bad
