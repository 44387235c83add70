#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# QEMU, VM channel on ivshmem-doorbell: kdcom-shim is the ivshmem server
# (--ivshmem-server), QEMU gets the region and an eventfd from it, and
# every request the bare-metal kernel posts rings the shim through BAR 0's
# Doorbell register.  The session: sync, version, 1 MiB verified read,
# write read back, continue, break-in, continue; a debugger killed
# mid-read and a new one attaching; .reboot ends QEMU with status 33.
# The shim's ring counter must have moved: the doorbell, not polling,
# carried the requests.
. "$(dirname "$0")/lib.sh"

start shim "$BIN/kdcom-shim" --shm "$T/kd.shm" --ivshmem-server "$T/ivs.sock" \
    tcp-listen:127.0.0.1:0
SHIM=$LAST
PORT=$(wait_value "$T/shim.out" KDCOM_SHIM_PORT) || fail "shim did not start"
i=0
while [ ! -S "$T/ivs.sock" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
qemu_up vm vm vm-doorbell "$T/ivs.sock" "print=500"
wait_line "$T/vm.console" "region validated" 60 || fail "kernel did not find its region"
grep -q "ivshmem-doorbell (MSI-X): we are peer 1, each request rings peer 0" \
    "$T/vm.console" || fail "doorbell device not recognised"
wait_line "$T/shim.err" "peer 1 connected" 10 || fail "shim did not see QEMU connect"

debug_session "tcp:127.0.0.1:$PORT" vm 256K
wait_line "$T/shim.err" "peer 1 disconnected" 10 || fail "shim did not see QEMU go"
stop "$SHIM"
rings=$(sed -n 's/.*ivshmem: .*rings=\([0-9]*\).*/\1/p' "$T/shim.err" | tail -n 1)
[ -n "$rings" ] && [ "$rings" -gt 500 ] || fail "doorbell rings: '$rings', expected hundreds"
show_session vm
grep "ivshmem" "$T/shim.err" | sed 's|^|    shim: |'
pass "ivshmem-doorbell session verified, $rings rings, QEMU exit status $RC"
