#!/usr/bin/env bash
# The famrt demo, from a fresh checkout on Debian 12: installs what is
# missing, builds, then shows famrt at work on emulated devices (files on
# /dev/shm standing in for device-dax): a file system, its service, files
# copied in, unmodified programs reading them through the LD_PRELOAD shim,
# and a short benchmark. Everything it starts is stopped and removed at the
# end. Options: --no-deps, -j N.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
deps=1 jobs=$(nproc)
while [ $# -gt 0 ]; do
  case "$1" in
    --no-deps) deps=0 ;;
    -j) jobs=$2; shift ;;
    -h|--help) sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "demo.sh: unknown option '$1' (try --help)" >&2; exit 2 ;;
  esac
  shift
done
[ $deps = 1 ] && "$top/tools/deps.sh"

build="$top/out/default"
echo "demo: building famrt in $build ..."
cmake -S "$top" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j "$jobs" >/dev/null
famrt="$build/tools/famrt/famrt"
famrtd="$build/tools/famrtd/famrtd"
shim="$build/runtime/libfamrt_preload.so"

work=$(mktemp -d /tmp/famrt-demo.XXXXXX)
dev0=/dev/shm/famrt-demo-$$-0
dev1=/dev/shm/famrt-demo-$$-1
pid=
cleanup() {
  [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
  rm -rf "$work" "$dev0" "$dev1"
}
trap cleanup EXIT

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
run() { printf '$ %s\n' "$*"; "$@"; }

export FAMRT_FS="$dev0,$dev1"    # the file system, named by its devices
export FAMRT_RUN_DIR="$work/run" # where famrtd puts its socket
export FAMRT_HOST_ID=demo-host

say "Two emulated devices and a file system on them"
run "$famrt" mkfs --create 512M --name demo "$dev0" "$dev1"

say "The metadata service for this host"
"$famrtd" >"$work/famrtd.log" 2>&1 &
pid=$!
for _ in $(seq 100); do ls "$FAMRT_RUN_DIR"/*.sock >/dev/null 2>&1 && break; sleep 0.05; done
cat "$work/famrtd.log"

say "Files: copied in (simple layout), and one interleaved over both devices"
head -c 24M /dev/urandom >"$work/data.bin"
seq 1 200000 >"$work/numbers.txt"
run "$famrt" mkdir /demo
run "$famrt" cp "$work/data.bin" :/demo/data.bin
run "$famrt" creat --size 8M --interleave 0 --chunk 2M /demo/striped
run "$famrt" cp "$work/numbers.txt" :/demo/numbers.txt
run "$famrt" ls -l /demo
run "$famrt" getmap /demo/striped

say "Unmodified programs on famrt files, through LD_PRELOAD"
export FAMRT_MOUNT=/famrt        # the shim serves paths under /famrt
printf '$ LD_PRELOAD=libfamrt_preload.so sha256sum /famrt/demo/data.bin\n'
LD_PRELOAD="$shim" sha256sum /famrt/demo/data.bin
printf '$ sha256sum %s   # the original, for comparison\n' "$work/data.bin"
sha256sum "$work/data.bin"
printf '$ LD_PRELOAD=libfamrt_preload.so grep -c 7 /famrt/demo/numbers.txt\n'
LD_PRELOAD="$shim" grep -c 7 /famrt/demo/numbers.txt
printf '$ LD_PRELOAD=libfamrt_preload.so cp /etc/services /famrt/demo/ && ls -l /famrt/demo\n'
LD_PRELOAD="$shim" cp /etc/services /famrt/demo/
LD_PRELOAD="$shim" ls -l /famrt/demo
if command -v python3 >/dev/null; then
  printf '$ LD_PRELOAD=libfamrt_preload.so python3 -c "...mmap a famrt file..."\n'
  LD_PRELOAD="$shim" python3 -c '
import mmap, os
with open("/famrt/demo/numbers.txt", "rb") as f:
    m = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
    print("python: %d bytes mapped, last line %r" % (len(m), m[-7:]))
print("python: /famrt/demo has", sorted(os.listdir("/famrt/demo")))'
fi
run "$famrt" fsck

say "How fast: a program reading 4 KiB blocks, famrt through the shim vs tmpfs"
mkdir -p "$top/out/demo"
"$build/bench/bench_shim" --quick --json "$top/out/demo/shim.json" 2>&1 |
  grep -E 'shim/(read4k|pread4k|no-famrt)' | sed 's/^bench_shim: /  /'
say "Resolving a file offset to a device address (ns per lookup)"
"$build/bench/bench_resolve" --quick --json "$top/out/demo/resolve.json" \
  --only resolve/ 2>&1 | grep -E 'resolve/(one|ilv32x32-pow2) ' |
  sed 's/^bench_resolve: /  /'

echo
echo "demo: done; benchmark figures (JSON) are in out/demo/"
