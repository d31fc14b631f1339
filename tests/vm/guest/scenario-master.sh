# SPDX-License-Identifier: Apache-2.0
# Scenario "master" (sourced by /init): host A of the two-host test, run at
# the same time as host B (scenario-follower.sh) on the same backing file,
# after the preparatory boot made /dev/dax0.0. A makes the file system
# (non-coherent: readers invalidate), runs famrtd as the master and writes
# files through libfamrt and the shim. The hosts talk only through the
# shared memory:
#   1. A makes /reply.bin (B's mailbox: B writes its data, never metadata)
#      and waits until B, following the log, writes "B-FOLLOWING" at its
#      offset 0 (so everything after is followed live, not replayed);
#   2. A writes the files, flushes them, and last copies in /shared/ready
#      (name, seed, size, sha256 of each file);
#   3. B checks every byte and writes its verdict at offset 4096 of
#      /reply.bin; A compares it with its own list.
export FAMRT_HOST_ID=hostA
export FAMRT_FS=$VM_DEV
REPLY=/reply.bin

wait_until 60 "$VM_DEV (made by the preparatory boot)" test -c $VM_DEV
info "dev_size=$(cat /sys/bus/dax/devices/$VM_DAXNAME/size)"

say "flush instructions on this CPU model (before mkfs: writes the first 2 MiB)"
run "vm_devdax" vm_devdax $VM_DEV --expect-flush "$VM_EXPECT_FLUSH"

say "mkfs (non-coherent) and famrtd as the master"
run "mkfs" famrt mkfs --name shared --noncoherent --master hostA $VM_DEV
start_famrtd hostA
run "mailbox for B" famrt creat $REPLY --size 2M --mode 0666

say "waiting for B to follow"
msg=$(vm_rt await $REPLY 0 150) || fail "B never said it follows ($msg)"
eq "B's first message" "$msg" "B-FOLLOWING hostB"
say "B says: $msg"

say "files, written through libfamrt and the shim, flushed"
run "mkdir" famrt mkdir /shared
# name seed size [vm_rt create options]
cat >/tmp/files <<END
simple.bin 21 9437187
inter.bin 22 12582917 --interleave 3 --chunk 2097152
mapped.bin 23 3145731 --mmap
END
while read -r name seed size opts; do
	run "create $name" vm_rt create $opts /shared/$name $size $seed </dev/null
done </tmp/files
vm_rt pattern 24 5000000 >/tmp/p24 || fail "vm_rt pattern"
run "dd into a new famrt file" shim $GNU/dd if=/tmp/p24 of=/famrt/shared/grown.bin bs=1M status=none
echo "grown.bin 24 5000000" >>/tmp/files
: >/tmp/ready
while read -r name seed size opts; do
	s=$(vm_rt pattern $seed $size | sha256sum | cut -d' ' -f1)
	echo "$name $seed $size $s" >>/tmp/ready
	info "file=/shared/$name $seed $size"
done </tmp/files
cat /tmp/ready
run "ready marker" famrt cp -q /tmp/ready :/shared/ready

say "waiting for B's verdict"
msg=$(vm_rt await $REPLY 4096 150) || fail "B never gave its verdict ($msg)"
say "B says: $msg"
want="B-DONE"
while read -r name seed size s; do
	want="$want $name=$s"
done </tmp/ready
eq "B's verdict" "$msg" "$want"

say "A's files are intact"
while read -r name seed size s; do
	run "verify $name" vm_rt verify --align 2097152 /shared/$name --seed $seed
done </tmp/ready
stop_famrtd
fsck_clean
# mkdir, 5 files and the mailbox: B's refused changes left nothing.
eq "log entries" "$(json_num /tmp/fsck.json entries)" 7
