#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# /init of the VM tests' guest (busybox sh, PID 1). Mounts the kernel file
# systems, loads the nvdimm/dax modules, runs the scenario named by
# famrt_mode= on the kernel command line (/famrt-vm/scenario-MODE.sh), and
# ends with exactly one line
#     FAMRT-VM-RESULT: PASS scenario=MODE ...
#     FAMRT-VM-RESULT: FAIL scenario=MODE reason=...
# then powers off. If this script dies, the kernel panics (panic=1 and
# qemu's -no-reboot turn that into an exit) and the host sees no result
# line: a failure too.
PATH=/famrt-vm/bin:/usr/sbin:/usr/bin:/sbin:/bin
export PATH
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
ln -s /proc/self/fd /dev/fd
ln -s /proc/self/fd/0 /dev/stdin
ln -s /proc/self/fd/1 /dev/stdout
ln -s /proc/self/fd/2 /dev/stderr
mount -t tmpfs -o mode=0755 tmpfs /run
mount -t tmpfs -o mode=1777 tmpfs /tmp
. /famrt-vm/lib.sh
vm_main
# Not reached: vm_main powers off.
poweroff -f
