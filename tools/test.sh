#!/usr/bin/env bash
# The whole famrt test suite, from a fresh checkout on Debian 12:
#   1. install missing packages (tools/deps.sh; needs root or sudo),
#   2. build and run every ctest test                      (out/default)
#   3. build with ASan+UBSan and run the suite again        (out/asan)
#   4. build with TSan and run the threaded tests           (out/tsan)
#   5. build the libFuzzer targets with clang and fuzz each
#      for a bounded time over a copy of its corpus         (out/fuzz)
# Options:
#   --quick            step 2 only
#   --no-deps          skip step 1
#   --fuzz-seconds N   seconds per fuzz target (default 60)
#   -j N               parallel build jobs (default: number of CPUs)
# Exit status is 0 only if every step passed.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
quick=0 deps=1 fuzz_seconds=60 jobs=$(nproc)
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) quick=1 ;;
    --no-deps) deps=0 ;;
    --fuzz-seconds) fuzz_seconds=$2; shift ;;
    -j) jobs=$2; shift ;;
    -h|--help) sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "test.sh: unknown option '$1' (try --help)" >&2; exit 2 ;;
  esac
  shift
done

[ $deps = 1 ] && "$top/tools/deps.sh"

step() { printf '\n==== %s ====\n' "$*"; }

# build DIR [cmake args...]
build() {
  local dir=$1; shift
  cmake -S "$top" -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >/dev/null
  cmake --build "$dir" -j "$jobs"
}

# run_ctest DIR [ctest args...]: verbose, so every cmocka summary is shown.
run_ctest() {
  local dir=$1; shift
  ctest --test-dir "$dir" --output-on-failure -V "$@"
}

start=$(date +%s)
step "default build and full suite"
build "$top/out/default"
run_ctest "$top/out/default"
[ $quick = 1 ] && { echo "test.sh: quick suite passed"; exit 0; }

step "ASan+UBSan build and full suite"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:strict_string_checks=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
build "$top/out/asan" -DFAMRT_SANITIZE=ON -DFAMRT_BENCH=OFF
run_ctest "$top/out/asan" -LE 'vm|bench-smoke'

step "TSan build and threaded tests"
build "$top/out/tsan" -DFAMRT_TSAN=ON -DFAMRT_BENCH=OFF
if ctest --test-dir "$top/out/tsan" -N -L threads | grep -q 'Total Tests: [1-9]'; then
  TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 \
    run_ctest "$top/out/tsan" -L threads
else
  echo "test.sh: no threaded tests registered yet"
fi

step "libFuzzer targets, ${fuzz_seconds}s each"
CC=clang build "$top/out/fuzz" -DFAMRT_FUZZ=ON -DFAMRT_BENCH=OFF
"$top/tests/fuzz/run-fuzzers.sh" "$fuzz_seconds" "$top/out/fuzz"

echo "test.sh: every step passed in $(( $(date +%s) - start ))s"
