#!/usr/bin/env bash
# Runs the l3afd benchmark (bench/README.md) against the daemon of a build directory and prints
# its tables to stdout, side by side with the committed baseline bench/baseline.tsv.
# Usage: scripts/bench.sh [BUILD_DIR] [--save-baseline] [l3afd_bench options, e.g. --cycles 50]
#   --save-baseline   also overwrite bench/baseline.tsv with this run's results
# Needs root: the bench works in private network and mount namespaces of its own and removes
# everything it created (interfaces, daemon, temporary directory) on exit, also on ^C.
set -euo pipefail
cd "$(dirname "$0")/.."
build=build
if [[ $# -gt 0 && $1 != -* ]]; then
  build=$1
  shift
fi
if [[ $EUID -ne 0 ]]; then
  echo "bench: must run as root (namespaces, bpffs, XDP/TC attach)" >&2
  exit 1
fi
if [[ ! -x $build/l3afd || ! -d $build/repo ]]; then
  echo "bench: $build/l3afd or $build/repo is missing; run 'make build' first" >&2
  exit 1
fi

# The bench tool is part of the top-level build (add_subdirectory(bench)). Until that line is
# present, build bench/ as a standalone CMake project next to it.
if [[ -f $build/bench/cmake_install.cmake ]]; then
  cmake --build "$build" --target l3afd_bench -j "$(nproc)" >/dev/null
  tool=$build/bench/l3afd_bench
else
  echo "bench: $build has no bench/ subdirectory (add_subdirectory(bench) missing from" \
    "CMakeLists.txt); building bench/ standalone in $build/bench-standalone" >&2
  cmake -S bench -B "$build/bench-standalone" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  cmake --build "$build/bench-standalone" -j "$(nproc)" >/dev/null
  tool=$build/bench-standalone/l3afd_bench
fi

exec "$tool" --daemon "$build/l3afd" --repo "$build/repo" --baseline bench/baseline.tsv "$@"
