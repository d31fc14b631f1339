# SPDX-License-Identifier: Apache-2.0
# Scenario "one" (sourced by /init): one guest, one real /dev/dax0.0.
# Discovery through libdaxctl; what the raw device refuses and famrt's own
# checks; mkfs, famrtd, files simple and interleaved; data in and out with
# famrt cp; reads through libfamrt (pread and mmap); unmodified programs
# under the preload shim; fsck. Each check fails the scenario at once.
export FAMRT_HOST_ID=vm-one
export FAMRT_FS=$VM_DEV

say "before the devdax device: libdaxctl finds none, which is no error"
wait_namespace
famrt devices --json >/tmp/devices.json || fail "famrt devices --json with no device"
tr -d ' \n' </tmp/devices.json | grep -q '^{"devices":\[\]}$' ||
	fail "famrt devices --json with no device: $(cat /tmp/devices.json)"

say "make the devdax device"
make_devdax
sys_size=$(cat /sys/bus/dax/devices/$VM_DAXNAME/size)
sys_align=$(cat /sys/bus/dax/devices/$VM_DAXNAME/align)
info "dev_size=$sys_size"
eq "sysfs alignment" "$sys_align" 2097152
# The namespace is the 1 GiB backing file less the labels and the devdax
# info block: a little under 1 GiB (about 1006 MiB).
[ "$sys_size" -gt $((1000 * 1048576)) ] && [ "$sys_size" -lt $((1024 * 1048576)) ] ||
	fail "dax0.0 has $sys_size bytes: expected a little under 1 GiB"

say "famrt devices: discovery through libdaxctl"
run "famrt devices" famrt devices
famrt devices --json >/tmp/devices.json || fail "famrt devices --json failed"
cat /tmp/devices.json
eq "devices: devname" "$(json_str /tmp/devices.json devname)" "$VM_DAXNAME"
eq "devices: path" "$(json_str /tmp/devices.json path)" "$VM_DEV"
eq "devices: mode" "$(json_str /tmp/devices.json mode)" devdax
eq "devices: driver" "$(json_str /tmp/devices.json driver)" device_dax
eq "devices: size (sysfs)" "$(json_num /tmp/devices.json size)" "$sys_size"
eq "devices: align" "$(json_num /tmp/devices.json align)" 2097152
[ "$(grep -c '"devname"' /tmp/devices.json)" -eq 1 ] ||
	fail "famrt devices lists $(grep -c '"devname"' /tmp/devices.json) devices, expected 1"
# daxctl's own view must agree (it is the same library, read independently).
daxctl list -u >/tmp/daxctl.json || fail "daxctl list failed"
grep -q '"chardev":"dax0.0"' /tmp/daxctl.json ||
	fail "daxctl list does not show dax0.0: $(cat /tmp/daxctl.json)"

say "the raw device and famrt's device checks"
run "vm_devdax" vm_devdax $VM_DEV --expect-flush "${VM_EXPECT_FLUSH:-clflush}"

say "mkfs: refusals that come from the device's 2 MiB alignment"
expect_fail 4 "at least every device's alignment" "mkfs with a 4 KiB unit" \
	famrt mkfs --unit 4K --name vm $VM_DEV
famrt mkfs --name vm --json $VM_DEV >/tmp/mkfs.json || {
	cat /tmp/mkfs.json
	fail "famrt mkfs $VM_DEV failed"
}
cat /tmp/mkfs.json
eq "mkfs: master" "$(json_str /tmp/mkfs.json master)" vm-one
sed -n '/"devices"/,$p' /tmp/mkfs.json >/tmp/mkfs-devices.json
eq "mkfs: device size" "$(json_num /tmp/mkfs-devices.json size)" "$sys_size"
eq "mkfs: device align" "$(json_num /tmp/mkfs.json align)" 2097152
expect_fail 4 "holds famrt file system" "mkfs over a file system" \
	famrt mkfs --name again $VM_DEV

say "famrtd and the namespace"
# Device descriptors: read-only for famrt-ro (alice), read-write for
# famrt-rw (carol), none for anyone else (bob); the node stays root-only.
start_famrtd vm-one --ro-group famrt-ro --group famrt-rw
run "mkdir" famrt mkdir /data
run "creat simple" famrt creat /data/simple.bin --size 10M
run "creat interleaved" famrt creat /data/il3.bin --size 12M --interleave 3 --chunk 2M
run "creat interleaved, 1 strip" famrt creat /data/il1.bin --size 6M --interleave 1
famrt getmap --json /data/il3.bin >/tmp/il3.json || fail "getmap il3"
eq "il3: ext_type" "$(json_str /tmp/il3.json ext_type)" interleaved
eq "il3: nstrips" "$(json_num /tmp/il3.json nstrips)" 3
eq "il3: chunk" "$(json_num /tmp/il3.json chunk_size)" 2097152
[ "$(grep -c '"devindex": 0' /tmp/il3.json)" -eq 3 ] ||
	fail "il3: expected 3 strips on device 0: $(cat /tmp/il3.json)"
expect_fail 4 "not a multiple of device 0's alignment 2MiB" \
	"an interleave chunk of 1 MiB on a 2 MiB device" \
	famrt creat /data/c1m.bin --size 4M --interleave 2 --chunk 1M
expect_fail 4 "not a multiple of device 0's alignment 2MiB" \
	"an interleave chunk of 64 KiB on a 2 MiB device" \
	famrt creat /data/c64k.bin --size 4M --interleave 2 --chunk 64K
run "ls" famrt ls -l /data

say "famrt cp: data in and out"
# 9 MiB + 12345 bytes of random data: not a multiple of any alignment.
dd if=/dev/urandom of=/tmp/in.bin bs=1048576 count=9 2>/dev/null
dd if=/dev/urandom bs=12345 count=1 2>/dev/null >>/tmp/in.bin
in_sha=$(sha /tmp/in.bin)
in_size=$(stat -c %s /tmp/in.bin)
info "in_sha256=$in_sha"
info "in_size=$in_size"
run "cp in (simple)" famrt cp -q -v /tmp/in.bin :/data/in.bin
run "cp in (interleaved 3 x 2 MiB)" famrt cp -q -v --interleave 3 --chunk 2M /tmp/in.bin :/data/in-il.bin
run "cp in (no io_uring)" famrt cp --no-uring /tmp/in.bin :/data/in-nu.bin
for f in in in-il in-nu; do
	run "cp out $f" famrt cp -q -v :/data/$f.bin /tmp/out-$f.bin
	eq "sha256 of $f.bin copied out" "$(sha /tmp/out-$f.bin)" "$in_sha"
done
run "cp out without io_uring" famrt cp --no-uring :/data/in-il.bin /tmp/out-nu2.bin
run "cmp" cmp /tmp/in.bin /tmp/out-nu2.bin
expect_fail 4 "immutable" "cp over an existing famrt file" \
	famrt cp /tmp/in.bin :/data/in.bin
run "famrt verify (read every byte)" famrt verify /data/in-il.bin
run "famrt verify --overwrite" famrt verify --overwrite --seed 7 /data/il3.bin
run "famrt verify --check" famrt verify --check --seed 7 /data/il3.bin
expect_fail 1 "mismatch at file offset 0" "famrt verify --check, another seed" \
	famrt verify --check --seed 8 /data/il3.bin
# The stored map, validated against the real device's size and alignment.
run "getmap --raw" famrt getmap --raw -o /tmp/il3.fmap /data/il3.bin
run "fmap inspect" famrt fmap inspect --align 2M --device-sizes "$sys_size" \
	-r 0:12M /tmp/il3.fmap
run "famrt log" famrt log

say "libfamrt: famrt_pread and famrt_mmap on the real device"
run "vm_rt verify in.bin" vm_rt verify --align 2097152 /data/in.bin --ref /tmp/in.bin
run "vm_rt verify in-il.bin" vm_rt verify --align 2097152 /data/in-il.bin --ref /tmp/in.bin
run "vm_rt create (pwrite, interleaved)" vm_rt create --interleave 3 --chunk 2097152 /data/rt-il.bin 7340033 11
run "vm_rt create (mmap, simple)" vm_rt create --mmap /data/rt-map.bin 5242883 12
run "vm_rt create (pwrite, simple)" vm_rt create /data/rt.bin 4194304 13
run "vm_rt verify rt-il.bin" vm_rt verify --align 2097152 /data/rt-il.bin --seed 11
run "vm_rt verify rt-map.bin" vm_rt verify --align 2097152 /data/rt-map.bin --seed 12
run "vm_rt verify rt.bin" vm_rt verify --align 2097152 /data/rt.bin --seed 13
# NUMA: the node sysfs gives the device, and binding near it.
node=$(cat /sys/bus/dax/devices/dax0.0/numa_node 2>/dev/null)
[ -n "$node" ] && [ "$node" -ge 0 ] 2>/dev/null ||
	fail "dax0.0 has no NUMA node in sysfs ('$node')"
run "famrt_numa_node and famrt_bind_near" vm_rt numa /data/rt.bin "$node"
# What the runtime wrote is what the CLI copies out.
vm_rt pattern 11 7340033 >/tmp/pat11.bin || fail "vm_rt pattern"
run "cp out rt-il.bin" famrt cp :/data/rt-il.bin /tmp/rt-il.out
eq "rt-il.bin copied out" "$(sha /tmp/rt-il.out)" "$(sha /tmp/pat11.bin)"
info "rt_il_sha256=$(sha /tmp/pat11.bin)"

say "unmodified programs under the preload shim (GNU coreutils, dynamic)"
shim $GNU/cat /famrt/data/in.bin >/tmp/shim-cat.bin || fail "cat under the shim failed"
eq "cat /famrt/data/in.bin" "$(sha /tmp/shim-cat.bin)" "$in_sha"
eq "sha256sum /famrt/data/in-il.bin" \
	"$(shim $GNU/sha256sum /famrt/data/in-il.bin | cut -d' ' -f1)" "$in_sha"
run "cmp famrt file and local file" shim $GNU/cmp /famrt/data/in.bin /tmp/in.bin
run "cmp two famrt files" shim $GNU/cmp /famrt/data/in.bin /famrt/data/in-il.bin
# 3 blocks of 4 KiB straddling the first 2 MiB boundary (a chunk edge).
eq "dd across a chunk boundary" \
	"$(shim $GNU/dd if=/famrt/data/in-il.bin bs=4096 skip=511 count=3 2>/dev/null | sha256sum | cut -d' ' -f1)" \
	"$(dd if=/tmp/in.bin bs=4096 skip=511 count=3 2>/dev/null | sha256sum | cut -d' ' -f1)"
eq "dd of a file the runtime wrote" \
	"$(shim $GNU/dd if=/famrt/data/rt-il.bin bs=1M 2>/dev/null | sha256sum | cut -d' ' -f1)" \
	"$(sha /tmp/pat11.bin)"
# A file created by writing, through the shim.
run "dd into a new famrt file" shim $GNU/dd if=/tmp/in.bin of=/famrt/data/dd.bin bs=65536 status=none
run "cp out dd.bin" famrt cp :/data/dd.bin /tmp/dd.out
eq "file written by dd" "$(sha /tmp/dd.out)" "$in_sha"
run "cat of a file written by dd" shim $GNU/cmp /famrt/data/dd.bin /tmp/in.bin
# Writes through a shared mapping, msync of a part that does not start at
# the mapping (the kernel refuses MS_SYNC on device-dax: the shim must
# flush it itself); then read back through the shim and by the CLI.
run "a file to map" shim $GNU/dd if=/tmp/in.bin of=/famrt/data/mw.bin bs=65536 status=none
run "write through a mapping, msync part of it" \
	shim vm_mmapw write /famrt/data/mw.bin 12345 70000 7
run "read back what the mapping wrote" \
	shim vm_mmapw check /famrt/data/mw.bin 12345 70000 7
run "cp out the mapped-and-written file" famrt cp :/data/mw.bin /tmp/mw.out
run "what the mapping wrote, seen by the CLI" \
	vm_mmapw check /tmp/mw.out 12345 70000 7
info "mw_sha256=$(sha /tmp/mw.out)"
# The honest limit: busybox is static, so the shim cannot see its calls.
expect_fail 1 "No such file" "static busybox cat under the shim (cannot be interposed)" \
	shim /bin/cat /famrt/data/in.bin

say "users: the root-only device node, descriptors passed by famrtd"
ls -l $VM_DEV
# Users cannot read the superblock to learn the uuid that names the
# service's socket; famrtd also publishes it under a name derived from the
# device node (dev-MAJ-MIN.sock), which FAMRT_FS leads them to.
ls -l /run/famrt
ls /run/famrt/dev-*-*.sock >/dev/null 2>&1 ||
	fail "famrtd did not publish the device-named socket"
expect_fail 3 "Permission denied" "alice opening $VM_DEV herself" \
	as alice env FAMRT_CLI_BACKEND=direct famrt df
run "alice lists through famrtd" as alice famrt ls -l /data
run "alice reads (read-only descriptor)" \
	as alice vm_rt verify --align 2097152 /data/in-il.bin --ref /tmp/in.bin
eq "alice's sha256sum under the shim" \
	"$(as alice env LD_PRELOAD=$SHIM FAMRT_MOUNT=/famrt $GNU/sha256sum /famrt/data/in.bin | cut -d' ' -f1)" \
	"$in_sha"
run "mailbox" famrt creat /data/box.bin --size 2M --mode 0666
expect_fail 1 "may only read" "alice writing with a read-only descriptor" \
	as alice vm_rt poke /data/box.bin 0 alice-was-here
run "carol writes (read-write descriptor)" \
	as carol vm_rt poke /data/box.bin 0 carol-was-here
eq "carol's bytes, read by alice" "$(as alice vm_rt await /data/box.bin 0 5)" carol-was-here
expect_fail 1 "does not let this user map" "bob reading without a descriptor" \
	as bob vm_rt verify /data/in.bin --ref /tmp/in.bin


say "fsck on the quiet file system"
stop_famrtd
run "famrt ls" famrt ls -l /data
fsck_clean
famrt df

say "device states famrt must refuse: disabled, system-ram (kmem)"
run "disable dax0.0" daxctl disable-device $VM_DAXNAME
famrt devices --json >/tmp/devices.json || fail "famrt devices --json (disabled)"
eq "devices: mode of a disabled device" "$(json_str /tmp/devices.json mode)" disabled
eq "devices: driver of a disabled device" "$(json_str /tmp/devices.json driver)" ""
expect_fail 8 "no driver bound \(disabled\).*daxctl reconfigure-device --mode=devdax $VM_DAXNAME" \
	"fsck of a disabled device" famrt fsck $VM_DEV
expect_fail 3 "no driver bound" "cp out of a disabled device" \
	famrt cp :/data/in.bin /tmp/x.bin
expect_fail 1 "no driver bound" "famrtd on a disabled device" \
	famrtd --fs $VM_DEV --host-id vm-one
run "enable dax0.0" daxctl enable-device $VM_DAXNAME
# Hot-added as memory blocks left offline: the kernel does not use (or
# write) the memory, so the file system must survive the round trip.
run "dax0.0 to system-ram" daxctl reconfigure-device --mode=system-ram --no-online $VM_DAXNAME
famrt devices --json >/tmp/devices.json || fail "famrt devices --json (system-ram)"
eq "devices: mode in system-ram" "$(json_str /tmp/devices.json mode)" system-ram
eq "devices: driver in system-ram" "$(json_str /tmp/devices.json driver)" kmem
expect_fail 8 "bound to driver 'kmem'.*needs plain devdax mode" \
	"fsck of a device in system-ram mode" famrt fsck $VM_DEV
expect_fail 3 "bound to driver 'kmem'" "mkfs --force over system-ram memory" \
	famrt mkfs --force --name no $VM_DEV
run "dax0.0 back to devdax" daxctl reconfigure-device --mode=devdax -f $VM_DAXNAME
test -c $VM_DEV || fail "$VM_DEV is gone after the round trip"
fsck_clean
rm -f /tmp/x.bin
run "cp out after the round trip" famrt cp -q :/data/in.bin /tmp/x.bin
eq "in.bin after the round trip" "$(sha /tmp/x.bin)" "$in_sha"
