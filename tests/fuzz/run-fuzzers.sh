#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# run-fuzzers.sh SECONDS BUILD_DIR [TARGET...]
#
# Fuzz every libFuzzer target of BUILD_DIR (configured with CC=clang
# -DFAMRT_FUZZ=ON) for SECONDS each, one after the other, over a COPY of its
# seed corpus in a temporary directory: the committed corpus never grows.
# The targets are the ones tests/fuzz/CMakeLists.txt lists with
# famrt_fuzz_target(X): binary fuzz_X, corpus tests/fuzz/corpus/X/, and an
# optional dictionary tests/fuzz/X.dict. Name targets (X or fuzz_X) to run
# only those.
#
# Prints one line per target (executions, rate, coverage, corpus growth).
# A crash, leak, sanitizer report (ASan, UBSan), timeout or out-of-memory
# fails the run: the input that did it is kept under $FUZZ_ARTIFACTS
# (default BUILD_DIR/fuzz-artifacts) and the end of the report is printed.
#
# Environment: FUZZ_MAX_LEN (default 32768), FUZZ_TIMEOUT (seconds one input
# may take, default 25), FUZZ_RSS_MB (default 2048), FUZZ_ARTIFACTS,
# FUZZ_KEEP=1 (keep the temporary directory: grown corpora and logs),
# FUZZ_FLAGS (more libFuzzer flags).
# Exit status: 0 all clean, 1 a target failed, 2 usage or setup error.
set -uo pipefail

usage() {
	sed -n '3,22p' "$0" | sed 's/^# \{0,1\}//' >&2
	exit 2
}

[ $# -ge 2 ] || usage
secs=$1
build=$2
shift 2
case "$secs" in
'' | *[!0-9]*)
	echo "run-fuzzers: SECONDS must be a number, not '$secs'" >&2
	exit 2
	;;
esac
manifest="$build/tests/fuzz/fuzz-targets.txt"
if [ ! -f "$manifest" ]; then
	echo "run-fuzzers: no $manifest: is $build a build configured with" \
		"CC=clang -DFAMRT_FUZZ=ON, and built?" >&2
	exit 2
fi
src=$(cd "$(dirname "$0")" && pwd)
max_len=${FUZZ_MAX_LEN:-32768}
timeout=${FUZZ_TIMEOUT:-25}
rss=${FUZZ_RSS_MB:-2048}
artifacts=${FUZZ_ARTIFACTS:-$build/fuzz-artifacts}
mkdir -p "$artifacts" || exit 2
artifacts=$(cd "$artifacts" && pwd)

# Sanitizers: leaks on, stop at the first report whatever the caller set.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=1"
ubsan="halt_on_error=1:print_stacktrace=1"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:+$UBSAN_OPTIONS:}$ubsan"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/famrt-fuzz.XXXXXX") || exit 2
if [ "${FUZZ_KEEP:-0}" = 1 ]; then
	echo "run-fuzzers: keeping $tmp"
else
	trap 'rm -rf "$tmp"' EXIT
fi

# wanted NAME [TARGET...]: no targets named means all of them.
wanted() {
	local name=$1 t
	shift
	[ $# -eq 0 ] && return 0
	for t in "$@"; do
		[ "$t" = "$name" ] || [ "$t" = "fuzz_$name" ] && return 0
	done
	return 1
}

# field LOG KEY: the value after "KEY" on the last libFuzzer status line.
field() {
	grep -E '^#[0-9]+' "$1" | tail -n 1 | sed -n "s/.* $2 \([^ ]*\).*/\1/p"
}

# final LOG NAME: a -print_final_stats=1 figure.
final() {
	sed -n "s/^stat::$2: *//p" "$1" | tail -n 1
}

failed=0
ran=0
while IFS=$'\t' read -r name bin corpus; do
	[ -n "$name" ] || continue
	wanted "$name" "$@" || continue
	ran=$((ran + 1))
	if [ ! -x "$bin" ]; then
		echo "fuzz_$name: FAILED: $bin is not built"
		failed=1
		continue
	fi
	work="$tmp/$name"
	mkdir -p "$work/corpus"
	if [ -d "$corpus" ]; then
		cp -R "$corpus/." "$work/corpus/"
	else
		echo "fuzz_$name: note: no seed corpus at $corpus"
	fi
	seeds=$(find "$work/corpus" -type f | wc -l)
	dict=()
	[ -f "$src/$name.dict" ] && dict=("-dict=$src/$name.dict")
	log="$work/log"
	# shellcheck disable=SC2086 # FUZZ_FLAGS is a list of flags
	"$bin" -max_total_time="$secs" -max_len="$max_len" \
		-timeout="$timeout" -rss_limit_mb="$rss" -print_final_stats=1 \
		-artifact_prefix="$artifacts/$name-" "${dict[@]}" \
		${FUZZ_FLAGS:-} "$work/corpus" >"$log" 2>&1
	rc=$?

	execs=$(final "$log" number_of_executed_units)
	rate=$(final "$log" average_exec_per_sec)
	rssmb=$(final "$log" peak_rss_mb)
	cov=$(field "$log" cov:)
	ft=$(field "$log" ft:)
	corp=$(find "$work/corpus" -type f | wc -l)
	if [ $rc -eq 0 ] && grep -q '^Done [0-9]* runs' "$log"; then
		echo "fuzz_$name: ok: ${execs:-?} execs in ${secs}s" \
			"(${rate:-?}/s), cov ${cov:-?}, ft ${ft:-?}," \
			"corpus $seeds -> $corp, peak rss ${rssmb:-?} MB"
		continue
	fi
	failed=1
	why="exit status $rc"
	if grep -q 'ERROR: LeakSanitizer' "$log"; then
		why="leak"
	elif grep -q 'runtime error:' "$log"; then
		why="undefined behaviour (UBSan)"
	elif grep -q 'ERROR: AddressSanitizer' "$log"; then
		why="memory error (ASan)"
	elif grep -q 'ERROR: libFuzzer: timeout' "$log"; then
		why="timeout (an input ran over ${timeout}s)"
	elif grep -q 'ERROR: libFuzzer: out-of-memory' "$log"; then
		why="out of memory (over ${rss} MB)"
	elif grep -q 'invariant broken' "$log"; then
		why="invariant broken"
	elif grep -q 'deadly signal' "$log"; then
		why="crash"
	fi
	cp "$log" "$artifacts/$name.log"
	input=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" |
		tail -n 1)
	echo "fuzz_$name: FAILED: $why after ${execs:-?} execs;" \
		"input: ${input:-none saved}; log: $artifacts/$name.log"
	echo "---- end of the fuzz_$name report ----"
	grep -v '^#[0-9]' "$log" | tail -n 40
	echo "----"
	if [ -n "$input" ]; then
		echo "replay: $bin $input"
	fi
done <"$manifest"

if [ $ran -eq 0 ]; then
	echo "run-fuzzers: no target matched: $*" >&2
	exit 2
fi
exit $failed
