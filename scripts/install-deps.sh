#!/usr/bin/env bash
# Installs the Debian packages l3afd needs to build, run and test.
# Idempotent and quiet when nothing is missing; runs apt-get update once only when
# something has to be installed. Works without a terminal (CI).
set -euo pipefail

pkgs=(
  build-essential cmake make pkg-config git ccache
  clang llvm
  # clang's runtimes: libFuzzer, ASan/UBSan for clang, FuzzedDataProvider.h (make fuzz). Only
  # recommended by clang-14, so --no-install-recommends would leave it out.
  libclang-rt-14-dev
  libbpf-dev bpftool libelf-dev zlib1g-dev linux-libc-dev
  libboost1.81-dev
  nlohmann-json3-dev libspdlog-dev libfmt-dev libcli11-dev libexpected-dev
  libarchive-dev libcurl4-openssl-dev libssl-dev libcap-dev
  libgtest-dev libgmock-dev googletest
  iproute2 iputils-ping ethtool curl procps util-linux tar gzip zip
  prometheus prometheus-cpp-dev systemtap-sdt-dev bpftrace libsystemd-dev
)

missing=()
for p in "${pkgs[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

[ ${#missing[@]} -eq 0 ] && exit 0

echo "install-deps: installing ${missing[*]}"
sudo_cmd=()
[ "$(id -u)" -ne 0 ] && sudo_cmd=(sudo)
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq </dev/null
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" </dev/null >/dev/null
echo "install-deps: done"
