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

"$BIN/kdcom-client" "tcp:127.0.0.1:$PORT" wait-stop 60000 version \
    verify 0xfffff80000000000 1M \
    write 0xfffff80000002000 c0ffee expect 0xfffff80000002000 c0ffee \
    go wait-print "resume 0" 30000 break go wait-print "resume 1" 30000 \
    >"$T/c1.out" 2>&1 || fail "first session failed"
grep -q "verify: 1048576 bytes .* match the pattern" "$T/c1.out" || fail "1 MiB read not verified"

start c2 "$BIN/kdcom-client" -q --chunk 16 "tcp:127.0.0.1:$PORT" break \
    bench-read 0xfffff80000000000 4M
c2=$LAST
wait_count "$T/vm.console" "sim: break-in" 2 60 || fail "second debugger did not break in"
sleep 1
kill -KILL "$c2" 2>/dev/null
wait_exit "$c2" 5
"$BIN/kdcom-client" "tcp:127.0.0.1:$PORT" wait-stop 30000 version \
    verify 0xfffff80000010000 256K expect 0xfffff80000002000 c0ffee \
    reboot >"$T/c3.out" 2>&1 || fail "second debugger could not take over"

qemu_wait_exit 60 || fail "QEMU did not exit after .reboot"
[ "$RC" = 33 ] || fail "QEMU exit status $RC, expected 33 (reboot)"
wait_line "$T/shim.err" "peer 1 disconnected" 10 || fail "shim did not see QEMU go"
stop "$SHIM"
rings=$(sed -n 's/.*ivshmem: .*rings=\([0-9]*\).*/\1/p' "$T/shim.err" | tail -n 1)
[ -n "$rings" ] && [ "$rings" -gt 500 ] || fail "doorbell rings: '$rings', expected hundreds"
show_console vm
sed 's|^|    c1: |' "$T/c1.out"
sed 's|^|    c3: |' "$T/c3.out"
grep "ivshmem" "$T/shim.err" | sed 's|^|    shim: |'
pass "ivshmem-doorbell session verified, $rings rings, QEMU exit status $RC"
