#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Run every famrt benchmark and write one Markdown report with plots.
#
#   bench/run.sh [--quick] [--devices LIST] [--out DIR] [--build DIR]
#                [--only NAME] [-j N]
#
#   --quick       each benchmark's quick mode (about a minute in all):
#                 small data sets and few repeats, to see that the whole
#                 chain works; figures from it are not worth quoting
#   --devices LIST  run the benchmarks that use devices (bench_io,
#                 bench_shim, bench_heap, bench_famrtd) on these real
#                 device-dax devices, comma-separated (/dev/dax0.0,...),
#                 instead of emulated ones. THEIR CONTENTS ARE DESTROYED
#                 (a file system is made on them and left there). Without
#                 it, device-dax on the machine is only reported.
#   --out DIR     where the JSON reports, report.md, results.json and the
#                 plots go (default out/bench, or out/bench-quick)
#   --build DIR   build tree to use and (re)build (default out/bench-build,
#                 a Release build with the benchmarks on and tests off)
#   --only NAME   run just this benchmark binary (e.g. bench_io); may repeat
#   -j N          parallel build jobs (default: number of CPUs)
#
# Needs what tools/deps.sh installs (gnuplot-nox for the PNG plots; without
# it the report has tables and no plots). Placement: bench_io binds to the
# CPUs near the device's NUMA node (hwloc) when the device has one, the
# others pin to one CPU (--cpu of each binary); each case says where.
# Every benchmark starts its own famrtd (on emulated devices in /dev/shm,
# removed when done), so nothing needs to be running. Run it on an idle
# machine: the ratios are side by side in one run and hold under load, the
# absolute times do not.
# Benchmarks never fail on a time: the exit status is non-zero only if a
# binary failed to run or the report could not be written.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
quick=0 out="" build="$top/out/bench-build" jobs=$(nproc) only=() devices=
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) quick=1 ;;
    --devices) devices=$2; shift ;;
    --out) out=$2; shift ;;
    --build) build=$2; shift ;;
    --only) only+=("$2"); shift ;;
    -j) jobs=$2; shift ;;
    -h|--help) sed -n '3,32p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "run.sh: unknown option '$1' (try --help)" >&2; exit 2 ;;
  esac
  shift
done
if [ -z "$out" ]; then
  if [ $quick = 1 ]; then out="$top/out/bench-quick"; else out="$top/out/bench"; fi
fi

all=(bench_resolve bench_meta bench_io bench_famrtd bench_shim bench_heap)
[ ${#only[@]} -gt 0 ] || only=("${all[@]}")
for b in "${only[@]}"; do
  case " ${all[*]} " in
    *" $b "*) ;;
    *) echo "run.sh: no benchmark '$b' (have: ${all[*]})" >&2; exit 2 ;;
  esac
done

uses_devices=" bench_io bench_shim bench_heap bench_famrtd "
if [ -n "$devices" ]; then
  IFS=, read -ra devs <<<"$devices"
  for d in "${devs[@]}"; do
    [ -e "$d" ] || { echo "run.sh: --devices: no such device '$d'" >&2; exit 2; }
  done
  echo "run.sh: benchmarks that use devices run on $devices; their contents are destroyed"
elif [ -d /sys/bus/dax/devices ] && [ -n "$(ls /sys/bus/dax/devices 2>/dev/null)" ]; then
  echo "run.sh: note: this machine has device-dax ($(ls /sys/bus/dax/devices | tr '\n' ' ')); the" \
       "benchmarks run on emulated devices unless --devices names them" >&2
fi

echo "run.sh: building in $build"
cmake -S "$top" -B "$build" -DCMAKE_BUILD_TYPE=Release -DFAMRT_BENCH=ON \
  -DFAMRT_TESTS=OFF >/dev/null
cmake --build "$build" -j "$jobs" >/dev/null

mkdir -p "$out"
rm -f "$out"/bench_*.json
load=$(cut -d' ' -f1 /proc/loadavg)
if awk -v l="$load" 'BEGIN { exit !(l > 0.5) }'; then
  echo "run.sh: warning: load average is $load; absolute times will be" \
       "noisy (ratios still hold)" >&2
fi

args=()
[ $quick = 1 ] && args+=(--quick)
failed=()
start=$(date +%s)
for b in "${only[@]}"; do
  a=("${args[@]}")
  [ -n "$devices" ] && [[ $uses_devices == *" $b "* ]] && a+=(--devices "$devices")
  echo "run.sh: $b ${a[*]}"
  # The binaries find famrtd and the shim through FAMRT_BIN_DIR.
  if ! FAMRT_BIN_DIR="$build" "$build/bench/$b" "${a[@]}" \
       --json "$out/$b.json"; then
    echo "run.sh: $b failed" >&2
    failed+=("$b")
  fi
done
echo "run.sh: benchmarks took $(( $(date +%s) - start ))s"

cmd="bench/run.sh"
[ $quick = 1 ] && cmd+=" --quick"
[ -n "$devices" ] && cmd+=" --devices $devices"
for b in "${only[@]}"; do
  [ ${#only[@]} = ${#all[@]} ] || cmd+=" --only $b"
done
python3 "$top/bench/report.py" "$out" --command "$cmd"
if [ ${#failed[@]} -gt 0 ]; then
  echo "run.sh: failed to run: ${failed[*]}" >&2
  exit 1
fi
