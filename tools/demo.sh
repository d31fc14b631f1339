#!/usr/bin/env bash
# The famrt demo, from a fresh checkout on Debian 12: installs what is
# missing, builds, then shows famrt at work on emulated devices (files on
# /dev/shm standing in for device-dax). Options: --no-deps, -j N.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
deps=1 jobs=$(nproc)
while [ $# -gt 0 ]; do
  case "$1" in
    --no-deps) deps=0 ;;
    -j) jobs=$2; shift ;;
    -h|--help) sed -n '2,5p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "demo.sh: unknown option '$1' (try --help)" >&2; exit 2 ;;
  esac
  shift
done
[ $deps = 1 ] && "$top/tools/deps.sh"

build="$top/out/default"
cmake -S "$top" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j "$jobs" >/dev/null
famrt="$build/tools/famrt/famrt"
work=$(mktemp -d /tmp/famrt-demo.XXXXXX)
trap 'rm -rf "$work"' EXIT

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
run() { printf '$ %s\n' "$*"; "$@"; }

say "An fmap: where each byte of a file lives (the famfs GET_FMAP message)"
run cat "$top/docs/examples/interleaved.txt"
run "$famrt" fmap encode -o "$work/ilv.fmap" "$top/docs/examples/interleaved.txt"
run "$famrt" fmap inspect "$work/ilv.fmap" --resolve 15M:1M --resolve 0:5M

say "A malformed fmap is refused with the rule it breaks"
run "$famrt" fmap inspect "$top/docs/examples/bad-nbytes.fmap" || true

say "Resolution speed (ns per lookup; targets: < 3 ns one extent, < 10 ns 32x32)"
mkdir -p "$top/out/demo"
"$build/bench/bench_resolve" --quick --json "$top/out/demo/resolve.json" --only resolve/ 2>&1 |
  sed 's/^/  /'

echo
echo "demo: done; benchmark figures (JSON) are in out/demo/"
