#!/usr/bin/env bash
# Starts build/l3afd in the foreground on the project's own config (config/l3afd.cfg) and its
# own local package repository (build/repo, filled by the build with the packages of bpf/ and
# signed with the build's development key, whose public key is in build/trusted-keys).
# Usage: scripts/run-local.sh [BUILD_DIR] [CONFIG]
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
config=${2:-config/l3afd.cfg}
repo="$(pwd)/${build}/repo"
if [ ! -d "$repo" ]; then
  echo "run-local: package repository $repo is missing; run 'make build' first" >&2
  exit 1
fi
export L3AFD_REPO_URL="file://${repo}"
# The build signs its repository with a development key; its public key is the only trusted one.
export L3AFD_TRUSTED_KEYS_DIR="$(pwd)/${build}/trusted-keys"
mkdir -p build/run
echo "run-local: l3afd with config $config, repository $L3AFD_REPO_URL (signed; keys $L3AFD_TRUSTED_KEYS_DIR)"
echo "run-local: API http://localhost:53000/l3af/configs/v1  metrics http://localhost:8898/metrics  debug http://localhost:8899/bpfs/<iface>"
exec "${build}/l3afd" --config "$config"
