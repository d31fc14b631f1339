# SPDX-License-Identifier: Apache-2.0
# Scenario "follower" (sourced by /init): host B of the two-host test (see
# scenario-master.sh for the exchange). B waits for A's file system in the
# shared memory, runs famrtd as a follower, checks every byte A wrote
# against the pattern it computes itself (through libfamrt, famrt cp and an
# unmodified program under the shim), and is refused every change with
# EROFS naming the master.
export FAMRT_HOST_ID=hostB
export FAMRT_FS=$VM_DEV
REPLY=/reply.bin

wait_until 60 "$VM_DEV (made by the preparatory boot)" test -c $VM_DEV

say "waiting for A's file system on $VM_DEV"
wait_until 150 "a famrt file system on $VM_DEV" famrt df --json
famrt df --json >/tmp/df.json || fail "famrt df"
eq "master" "$(json_str /tmp/df.json master)" hostA
grep -q '"is_master": false' /tmp/df.json || fail "B thinks it is the master"
grep -q '"noncoherent": true' /tmp/df.json || fail "the file system is not marked non-coherent"

say "famrtd as a follower"
start_famrtd hostB
grep -q "hostA" $FAMRTD_LOG || fail "famrtd does not name the master hostA: $(cat $FAMRTD_LOG)"
wait_until 150 "A's mailbox $REPLY" env FAMRT_CLI_BACKEND=service famrt stat $REPLY
run "tell A we follow" vm_rt poke $REPLY 0 "B-FOLLOWING hostB"

say "waiting for A's ready marker"
wait_until 150 "/shared/ready" env FAMRT_CLI_BACKEND=service famrt stat /shared/ready
run "ls" env FAMRT_CLI_BACKEND=service famrt ls -l /shared
run "cp ready out" famrt cp -q :/shared/ready /tmp/ready
cat /tmp/ready
shim $GNU/cat /famrt/shared/ready >/tmp/ready2 || fail "cat of /shared/ready under the shim"
run "ready through the shim" cmp /tmp/ready /tmp/ready2
[ "$(wc -l </tmp/ready)" -eq 4 ] || fail "/shared/ready lists $(wc -l </tmp/ready) files, expected 4"

say "every byte A wrote"
verdict="B-DONE"
while read -r name seed size s; do
	own=$(vm_rt pattern $seed $size | sha256sum | cut -d' ' -f1)
	eq "$name: the pattern B computes" "$own" "$s"
	run "verify $name" vm_rt verify --align 2097152 /shared/$name --seed $seed
	rm -f /tmp/out.bin
	run "cp out $name" famrt cp -q :/shared/$name /tmp/out.bin
	eq "$name copied out" "$(sha /tmp/out.bin)" "$own"
	eq "$name under the shim" \
		"$(shim $GNU/sha256sum /famrt/shared/$name | cut -d' ' -f1)" "$own"
	verdict="$verdict $name=$own"
done </tmp/ready

say "changes are refused on a follower, naming the master"
expect_fail 4 "hostA" "famrt creat on a follower" \
	famrt creat /shared/b.bin --size 2M
expect_fail 4 "hostA" "famrt mkdir on a follower (through famrtd)" \
	famrt mkdir /bdir
expect_fail 4 "hostA" "famrt mkdir on a follower (direct)" \
	env FAMRT_CLI_BACKEND=direct famrt mkdir /bdir
expect_fail 4 "hostA" "famrt cp in on a follower" \
	famrt cp /tmp/ready :/shared/b2.bin
run "famrt_create and famrt_mkdir on a follower" vm_rt erofs /shared/b3.bin hostA
expect_fail 1 "Read-only file system" "dd creating a file under the shim" \
	shim $GNU/dd if=/tmp/ready of=/famrt/shared/b4.bin status=none

say "verdict to A"
run "tell A" vm_rt poke $REPLY 4096 "$verdict"
stop_famrtd
