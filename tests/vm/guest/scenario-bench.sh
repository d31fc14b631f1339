# SPDX-License-Identifier: Apache-2.0
# Scenario "bench" (sourced by /init): bench_io on a real /dev/dax0.0
# (--devices), the way bench/run.sh --devices runs it on a machine with
# device-dax: mkfs on the device, famrtd, files simple and interleaved on
# it, and every read case's three arms (famrt_pread, memcpy from the device
# mapping, kernel pread) compared byte for byte with each other and with
# the pattern before they are timed. Device-dax cannot be read(2), so the
# kernel arm must read a tmpfs copy: the report has to say so. The times
# (TCG, one emulated CPU) mean nothing and are not looked at.
export FAMRT_HOST_ID=vm-bench

say "make the devdax device"
make_devdax
info "dev_size=$(cat /sys/bus/dax/devices/$VM_DAXNAME/size)"
[ -x /famrt-vm/bin/bench_io ] ||
	fail "bench_io is not in the guest (configure with -DFAMRT_BENCH=ON)"
# The kernel arm's tmpfs copy and the open baseline live in /dev/shm, as
# on any Debian system.
mkdir -p /dev/shm && mount -t tmpfs -o mode=1777 tmpfs /dev/shm ||
	fail "cannot mount tmpfs on /dev/shm"
# bench_io finds famrtd as \$FAMRT_BIN_DIR/tools/famrtd/famrtd.
mkdir -p /tmp/bt/tools/famrtd
ln -s /famrt-vm/bin/famrtd /tmp/bt/tools/famrtd/famrtd

say "bench_io --quick on $VM_DEV: 4 KiB and 64 KiB reads, every layout and pattern"
FAMRT_BIN_DIR=/tmp/bt run "bench_io on $VM_DEV" \
	bench_io --quick --cpu -1 --devices $VM_DEV --only K --json /tmp/bench.json
# Every read case ran on the device, with the kernel arm on a tmpfs copy.
n=$(grep -c '"name": *"read/' /tmp/bench.json)
[ "$n" -ge 8 ] || fail "bench_io reported $n read cases, expected at least 8"
n=$(grep -c '"name": *"read-vs-kernel/' /tmp/bench.json)
[ "$n" -ge 8 ] || fail "bench_io reported $n kernel-arm cases, expected at least 8"
grep -q "\"devices\": *\"$VM_DEV (1 of them cannot be read(2): the kernel arm reads a tmpfs copy)\"" /tmp/bench.json ||
	fail "the report does not say the kernel arm read a tmpfs copy of $VM_DEV: $(grep -m1 '"devices"' /tmp/bench.json)"
say "bench_io ran on $VM_DEV: $(grep -c '"name"' /tmp/bench.json) cases"
# What bench_io left on the device is a clean file system.
fsck_clean
