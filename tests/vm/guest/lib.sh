# SPDX-License-Identifier: Apache-2.0
# Helpers for the VM tests' guest scenarios (sourced by /init; busybox sh).
#
# Conventions: every step says what it does on the console ("famrt-vm:"
# lines); any failed check calls fail, which prints the one FAIL result
# line with the reason and powers off at once. Lines "FAMRT-VM-INFO: k=v"
# carry facts the host checks afterwards (run-vm.sh).

VM_DEV=/dev/dax0.0
VM_DAXNAME=dax0.0
SHIM=/lib/x86_64-linux-gnu/libfamrt_preload.so
GNU=/opt/gnu/bin

uptime_s() {
	cut -d' ' -f1 /proc/uptime
}

# say TEXT: a progress line, with the seconds of uptime.
say() {
	echo "famrt-vm[$VM_MODE] $(uptime_s): $*"
}

info() {
	echo "FAMRT-VM-INFO: $*"
}

# The end: one result line, then power off (qemu exits).
vm_end() {
	sync
	poweroff -f
	sleep 10
	exit 1
}

fail() {
	echo "famrt-vm[$VM_MODE]: FAILED: $*"
	if [ -n "${FAMRTD_LOG:-}" ] && [ -s "$FAMRTD_LOG" ]; then
		echo "---- famrtd log ($FAMRTD_LOG) ----"
		tail -n 40 "$FAMRTD_LOG"
	fi
	echo "---- dmesg (last 30 lines) ----"
	dmesg | tail -n 30
	echo "FAMRT-VM-RESULT: FAIL scenario=$VM_MODE reason=$(echo "$*" | tr '\n' ' ')"
	vm_end
}

pass() {
	local t
	t=$(uptime_s)
	echo "FAMRT-VM-RESULT: PASS scenario=$VM_MODE boot_s=$VM_T0 test_s=$(awk -v a="$VM_T0" -v b="$t" 'BEGIN { printf "%.1f", b - a }')"
	vm_end
}

# run DESC CMD...: run CMD (its output on the console); fail unless exit 0.
run() {
	local desc=$1 rc
	shift
	"$@"
	rc=$?
	[ $rc -eq 0 ] || fail "$desc: '$*' exited $rc"
}

# expect_fail CODE PATTERN DESC CMD...: CMD must exit CODE and say
# PATTERN (grep -E) on stderr or stdout.
expect_fail() {
	local code=$1 pat=$2 desc=$3 rc
	shift 3
	"$@" >/tmp/expect.out 2>&1
	rc=$?
	cat /tmp/expect.out
	[ $rc -eq "$code" ] ||
		fail "$desc: '$*' exited $rc, expected $code"
	grep -Eq "$pat" /tmp/expect.out ||
		fail "$desc: '$*' did not say '$pat'"
	say "as expected, exit $rc: $desc"
}

# wait_until SECONDS DESC CMD...: run CMD (quietly) every 0.2 s until it
# succeeds; fail after SECONDS.
wait_until() {
	local limit=$1 desc=$2 start now
	shift 2
	start=$(uptime_s)
	while ! "$@" >/tmp/wait.out 2>&1; do
		now=$(uptime_s)
		if awk -v a="$start" -v b="$now" -v l="$limit" \
			'BEGIN { exit !(b - a > l) }'; then
			cat /tmp/wait.out
			fail "timed out after $limit s waiting for $desc"
		fi
		usleep 200000
	done
}

# json_num FILE KEY: the first "KEY": NUMBER in FILE.
json_num() {
	sed -n "s/^ *\"$2\": *\([0-9][0-9]*\),\{0,1\}$/\1/p" "$1" | head -n 1
}

# json_str FILE KEY: the first "KEY": "STRING" in FILE.
json_str() {
	sed -n "s/^ *\"$2\": *\"\([^\"]*\)\",\{0,1\}$/\1/p" "$1" | head -n 1
}

# eq DESC GOT WANT
eq() {
	[ "$2" = "$3" ] || fail "$1: got '$2', expected '$3'"
}

sha() {
	sha256sum "$1" | cut -d' ' -f1
}

# shim CMD...: an unmodified dynamically linked program under the preload
# shim, with the famrt file system at /famrt.
shim() {
	LD_PRELOAD=$SHIM FAMRT_MOUNT=/famrt "$@"
}

# as USER CMD...: run CMD as USER (with its groups), keeping the
# environment.
as() {
	local user=$1
	shift
	su -p -s /bin/sh "$user" -c '"$@"' -- sh "$@"
}

load_modules() {
	local dir m
	dir=/lib/modules/$(uname -r)
	[ -f "$dir/order" ] || fail "no modules for kernel $(uname -r) in the initramfs"
	for m in $(cat "$dir/order"); do
		insmod "$dir/$m.ko" || fail "insmod $m failed"
	done
	say "modules loaded: $(tr '\n' ' ' <"$dir/order")"
}

# The NVDIMM's region and its (label-less) namespace appear shortly after
# nfit is loaded.
wait_namespace() {
	wait_until 60 "namespace0.0 of the NVDIMM" \
		test -e /sys/bus/nd/devices/namespace0.0
}

# Turn namespace0.0 into a 2 MiB-aligned devdax device (its info block is
# written into the NVDIMM: it survives reboots on the same backing file).
make_devdax() {
	wait_namespace
	run "create-namespace" ndctl create-namespace -f -e namespace0.0 \
		-m devdax -a 2M
	wait_until 60 "$VM_DEV" test -c $VM_DEV
	say "$VM_DEV is there: $(ls -l $VM_DEV)"
}

# start_famrtd HOST [ARGS...]: famrtd for /dev/dax0.0 as host HOST, in the
# background; waits until its socket answers.
start_famrtd() {
	local host=$1
	shift
	FAMRTD_LOG=/tmp/famrtd.log
	famrtd --fs $VM_DEV --host-id "$host" "$@" 2>$FAMRTD_LOG &
	FAMRTD_PID=$!
	wait_until 60 "famrtd to answer" \
		env FAMRT_CLI_BACKEND=service famrt df --json
	kill -0 $FAMRTD_PID || fail "famrtd died"
	say "famrtd (pid $FAMRTD_PID) serves as host $host: $(head -n 3 $FAMRTD_LOG | tr '\n' ' ')"
}

stop_famrtd() {
	local rc
	kill -TERM $FAMRTD_PID
	wait $FAMRTD_PID
	rc=$?
	say "famrtd stopped (exit $rc): $(tail -n 1 $FAMRTD_LOG)"
	[ $rc -eq 0 ] || fail "famrtd exited $rc after SIGTERM"
}

# fsck must find the file system clean (exit 0, no errors, no warnings).
fsck_clean() {
	famrt fsck --json $VM_DEV >/tmp/fsck.json
	local rc=$?
	famrt fsck $VM_DEV
	[ $rc -eq 0 ] || fail "famrt fsck exited $rc"
	eq "fsck errors" "$(json_num /tmp/fsck.json errors)" 0
	eq "fsck warnings" "$(json_num /tmp/fsck.json warnings)" 0
}

vm_main() {
	VM_T0=$(uptime_s)
	VM_MODE=$(sed -n 's/.*famrt_mode=\([^ ]*\).*/\1/p' /proc/cmdline)
	VM_CPU=$(sed -n 's/.*famrt_cpu=\([^ ]*\).*/\1/p' /proc/cmdline)
	# qemu's default CPU model has only clflush; -cpu max adds
	# clflushopt and clwb (devdax-facts.md).
	case "$VM_CPU" in
	max) VM_EXPECT_FLUSH=clwb ;;
	*) VM_EXPECT_FLUSH=clflush ;;
	esac
	[ -n "$VM_MODE" ] || { VM_MODE=none; fail "no famrt_mode= on the kernel command line"; }
	[ -f "/famrt-vm/scenario-$VM_MODE.sh" ] ||
		fail "unknown scenario '$VM_MODE'"
	say "kernel $(uname -r), /init at $VM_T0 s of uptime, cpu model '${VM_CPU:-default}'"
	say "cpu cache flags: $(grep -m1 '^flags' /proc/cpuinfo | tr ' ' '\n' | grep -E '^(clflush|clflushopt|clwb)$' | tr '\n' ' ')"
	load_modules
	. "/famrt-vm/scenario-$VM_MODE.sh"
	pass
}
