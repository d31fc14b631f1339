# SPDX-License-Identifier: Apache-2.0
# Scenario "prep" (sourced by /init): the preparatory boot of the two-host
# test. Makes /dev/dax0.0 on a fresh backing file; its info block stays in
# the NVDIMM, so both hosts booted next on the same file find /dev/dax0.0
# at once.
make_devdax
eq "alignment of $VM_DAXNAME" "$(cat /sys/bus/dax/devices/$VM_DAXNAME/align)" 2097152
info "dev_size=$(cat /sys/bus/dax/devices/$VM_DAXNAME/size)"
