#!/usr/bin/env bash
# Install the Debian packages famrt needs to build, test and demo, skipping
# those already present. Needs root (or sudo). Safe to run again.
set -euo pipefail

pkgs=(
  build-essential cmake pkg-config git
  clang llvm libclang-rt-14-dev          # fuzzing (libFuzzer), sanitizers
  libcmocka-dev                          # unit tests
  liburing-dev libdaxctl-dev libndctl-dev libjemalloc-dev libhwloc-dev
  daxctl ndctl hwloc                     # device listing on real hosts
  gnuplot-nox                            # benchmark report plots
  python3 sqlite3 coreutils tar grep findutils  # programs run under the shim
  qemu-system-x86 busybox-static cpio kmod  # VM tests: guests with a real /dev/dax0.0
)

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
    missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}
echo "deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
as_root apt-get update -qq
as_root apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
