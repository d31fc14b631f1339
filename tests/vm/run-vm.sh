#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# run-vm.sh SCENARIO [BIN_DIR]
#
# Boot qemu guests (TCG) with a real /dev/dax0.0 on an emulated NVDIMM
# backed by a 1 GiB file, run a famrt scenario in them, and check the
# outcome. SCENARIO is
#   one   one guest: discovery, raw-device refusals, mkfs, famrtd, files
#         simple and interleaved, cp, libfamrt pread/mmap, the preload shim,
#         fsck (guest/scenario-one.sh)
#   two   two guests at once on one backing file (share=on): A, the master
#         (-cpu max: clwb), makes the file system and writes files; B, a
#         follower (default CPU: clflush), reads them and is refused changes
#         (guest/scenario-master.sh, scenario-follower.sh), after a
#         preparatory boot that makes the devdax namespace
#   bench one guest: bench_io --quick --devices /dev/dax0.0, its arms
#         compared byte for byte, the kernel arm on a tmpfs copy
#         (guest/scenario-bench.sh); needs a build with the benchmarks
# BIN_DIR is a famrt build tree (default $FAMRT_BIN_DIR). The guest is built
# or taken from the cache by build-guest.sh. Afterwards the host itself
# reads the device out of the backing file (byte 0 of /dev/dax0.0 is at
# 18 MiB) and checks it with its own famrt: fsck clean, the files' bytes.
#
# Every guest must print "FAMRT-VM-RESULT: PASS"; a FAIL line, no line at
# all (hang, panic, qemu error) or a qemu exit status other than 0 is a
# failure, shown with the guest's console. Exit status: 0 pass, 1 failure,
# 2 usage. Timings go to stdout as "run-vm: time ..." lines.
#
# Environment: VM_TIMEOUT (seconds per boot, default 240), VM_WORK (work
# directory, default BIN_DIR/tests/vm/work/SCENARIO), VM_CACHE (cache
# directory of build-guest.sh), VM_KEEP=1 (keep the backing file).
set -uo pipefail

src_dir=$(cd "$(dirname "$0")" && pwd)
scenario=${1:-}
bin_dir=${2:-${FAMRT_BIN_DIR:-}}
case "$scenario" in one|two|bench) ;; *)
	sed -n '3,33p' "$0" | sed 's/^# \{0,1\}//' >&2
	exit 2 ;;
esac
[ -n "$bin_dir" ] && [ -d "$bin_dir" ] || {
	echo "run-vm: no build directory (give BIN_DIR or set FAMRT_BIN_DIR)" >&2
	exit 2
}
bin_dir=$(cd "$bin_dir" && pwd)
work=${VM_WORK:-$bin_dir/tests/vm/work/$scenario}
boot_timeout=${VM_TIMEOUT:-240}
famrt=$bin_dir/tools/famrt/famrt
vm_rt=$bin_dir/tests/vm/vm_rt

failed=0
pids=() names=()
cleanup() {
	local i n q
	# Guests still running (the script was interrupted): qemu by its
	# pidfile, then the subshell waiting for it.
	for i in "${!names[@]}"; do
		n=${names[$i]}
		[ -f "$work/$n.end" ] && continue
		q=$(cat "$work/$n.pid" 2>/dev/null) && [ -n "$q" ] && kill "$q" 2>/dev/null
		kill "${pids[$i]}" 2>/dev/null
	done
	if [ "${VM_KEEP:-0}" != 1 ]; then
		rm -f "$work/backing.img" "$work/dev0.img"
	fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM

now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }
bad() {
	echo "run-vm: FAIL: $*"
	failed=1
}

t_all=$(now)
echo "run-vm: scenario $scenario, work directory $work"
command -v qemu-system-x86_64 >/dev/null || {
	echo "run-vm: FAIL: qemu-system-x86_64 is not installed (tools/deps.sh installs qemu-system-x86); the VM tests cannot run"
	exit 1
}

# ---- the guest ----
t0=$(now)
guest_env=$(bash "$src_dir/build-guest.sh" "$bin_dir" ${VM_CACHE:+"$VM_CACHE"}) || {
	echo "run-vm: FAIL: building the guest failed (above)"
	exit 1
}
kernel=$(sed -n 's/^KERNEL=//p' <<<"$guest_env")
initrd=$(sed -n 's/^INITRD=//p' <<<"$guest_env")
echo "run-vm: time guest_build=$(since "$t0") s"

mkdir -p "$work"
rm -f "$work"/*.log "$work"/*.pid "$work"/*.start "$work"/*.end \
	"$work/backing.img" "$work/dev0.img"
truncate -s 1G "$work/backing.img" || { echo "run-vm: FAIL: cannot make $work/backing.img"; exit 1; }

# boot NAME MODE CPU: start a guest in the background; its console goes to
# $work/NAME.log, the time it ends to $work/NAME.end. Sets boot_pid.
boot() {
	local name=$1 mode=$2 cpu=$3 cpuopt=()
	[ "$cpu" = max ] && cpuopt=(-cpu max)
	echo "run-vm: boot $name (famrt_mode=$mode, cpu ${cpu})"
	now >"$work/$name.start"
	(
		timeout -k 10 "$boot_timeout" qemu-system-x86_64 -accel tcg \
			"${cpuopt[@]}" -machine pc,nvdimm=on \
			-m 1G,slots=2,maxmem=4G \
			-nographic -no-reboot -kernel "$kernel" -initrd "$initrd" \
			-append "console=ttyS0 quiet panic=1 famrt_mode=$mode famrt_cpu=$cpu" \
			-object memory-backend-file,id=mem1,share=on,mem-path="$work/backing.img",size=1G,align=2M \
			-device nvdimm,memdev=mem1,id=nv1 \
			-pidfile "$work/$name.pid"
		rc=$?
		now >"$work/$name.end"
		exit $rc
	) </dev/null >"$work/$name.log" 2>&1 &
	boot_pid=$!
	pids+=("$boot_pid")
	names+=("$name")
}

# finish NAME MODE PID: wait for the guest, then judge its console.
finish() {
	local name=$1 mode=$2 pid=$3 rc line why
	wait "$pid"
	rc=$?
	echo "run-vm: time boot_$name=$(awk -v a="$(cat "$work/$name.start")" \
		-v b="$(cat "$work/$name.end" 2>/dev/null || now)" \
		'BEGIN { printf "%.1f", b - a }') s"
	line=$(tr -d '\r' <"$work/$name.log" | grep -a '^FAMRT-VM-RESULT:' | tail -n 1)
	if [ "$line" = "" ] || [ "${line#FAMRT-VM-RESULT: PASS scenario=$mode }" = "$line" ] ||
	   [ $rc -ne 0 ] || [ "$(grep -ac '^FAMRT-VM-RESULT:' "$work/$name.log")" -ne 1 ]; then
		case $rc in
		124|137) why="timed out after $boot_timeout s (hang?)" ;;
		0) why="qemu exited 0" ;;
		*) why="qemu exited $rc" ;;
		esac
		[ -n "$line" ] || why="$why, no result line (panic, hang or qemu error)"
		bad "guest $name: $why: ${line:-no FAMRT-VM-RESULT line}"
		echo "---- console of guest $name ($work/$name.log) ----"
		tr -d '\r' <"$work/$name.log" | sed 's/\x1b[[][0-9;?]*[a-zA-Z]//g; s/\x1bc//g'
		echo "---- end of the console of guest $name ----"
		return 1
	fi
	echo "run-vm: guest $name: $line"
	return 0
}

# info NAME KEY: a FAMRT-VM-INFO value a guest printed.
info() {
	tr -d '\r' <"$work/$1.log" | sed -n "s/^FAMRT-VM-INFO: $2=//p" | tail -n 1
}

# The device as the host sees it in the backing file: bytes from 18 MiB on
# (devdax-facts.md). Checked with the host's own famrt, as an emulated
# device: fsck clean, then "path seed size" or "path sha256" pairs.
host_image() {
	local size=$1
	[ -n "$size" ] || { bad "host check: the guest did not say the device size"; return 1; }
	dd if="$work/backing.img" of="$work/dev0.img" bs=2M skip=9 \
		count=$((size / 2097152)) status=none ||
		{ bad "host check: cannot read the device out of the backing file"; return 1; }
	if ! FAMRT_HOST_ID=host-check "$famrt" fsck "$work/dev0.img"; then
		bad "host check: famrt fsck of the device image is not clean"
		return 1
	fi
	FAMRT_HOST_ID=host-check "$famrt" ls -l --fs "$work/dev0.img" /
}

# host_file PATH WANT_SHA: copy a file out of the image, compare.
host_file() {
	local got
	rm -f "$work/host.out"
	FAMRT_HOST_ID=host-check "$famrt" cp -q --fs "$work/dev0.img" ":$1" "$work/host.out" ||
		{ bad "host check: famrt cp :$1 out of the device image failed"; return 1; }
	got=$(sha256sum "$work/host.out" | cut -d' ' -f1)
	if [ "$got" != "$2" ]; then
		bad "host check: $1 read by the host has sha256 $got, expected $2"
		return 1
	fi
	echo "run-vm: host check: $1 ok (sha256 $got)"
	rm -f "$work/host.out"
}

pattern_sha() {
	"$vm_rt" pattern "$1" "$2" | sha256sum | cut -d' ' -f1
}

case $scenario in
one)
	t0=$(now)
	boot one one default
	finish one one "$boot_pid" || true
	if [ $failed = 0 ]; then
		host_image "$(info one dev_size)" &&
		host_file /data/in.bin "$(info one in_sha256)" &&
		host_file /data/in-il.bin "$(info one in_sha256)" &&
		host_file /data/dd.bin "$(info one in_sha256)" &&
		host_file /data/mw.bin "$(info one mw_sha256)" &&
		host_file /data/rt-il.bin "$(pattern_sha 11 7340033)"
	fi
	echo "run-vm: time scenario_one=$(since "$t0") s"
	;;
bench)
	t0=$(now)
	boot bench bench default
	finish bench bench "$boot_pid" || true
	[ $failed = 0 ] && host_image "$(info bench dev_size)"
	echo "run-vm: time scenario_bench=$(since "$t0") s"
	;;
two)
	t0=$(now)
	boot prep prep default
	finish prep prep "$boot_pid" || true
	if [ $failed = 0 ]; then
		# A first (it makes the file system), B right after: both run
		# at once on the same backing file.
		boot A master max
		pid_a=$boot_pid
		boot B follower default
		pid_b=$boot_pid
		finish A master "$pid_a" || true
		finish B follower "$pid_b" || true
	fi
	if [ $failed = 0 ]; then
		host_image "$(info A dev_size)" &&
		while read -r path seed size; do
			host_file "$path" "$(pattern_sha "$seed" "$size")" || break
		done < <(tr -d '\r' <"$work/A.log" | sed -n 's/^FAMRT-VM-INFO: file=//p')
		[ "$(tr -d '\r' <"$work/A.log" | grep -c '^FAMRT-VM-INFO: file=')" -ge 3 ] ||
			bad "host check: guest A listed fewer than 3 files"
	fi
	echo "run-vm: time scenario_two=$(since "$t0") s"
	;;
esac

echo "run-vm: time total=$(since "$t_all") s"
if [ $failed = 0 ]; then
	echo "run-vm: PASS scenario=$scenario"
	exit 0
fi
echo "run-vm: FAIL scenario=$scenario (consoles and images in $work; VM_KEEP=1 keeps the backing file)"
exit 1
