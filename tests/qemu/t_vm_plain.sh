#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# QEMU, VM channel on ivshmem-plain: the bare-metal kernel runs guest/'s
# vm back end in ring 0 behind a real PCI device; kdcom-shim serves its
# region as KDCOM on TCP; kdcom-client debugs it: sync, version, 1 MiB
# verified read, write read back, continue, break-in, continue; then a
# debugger killed mid-read and a new one attaching; then .reboot, which
# the kernel turns into QEMU's exit status 33.
. "$(dirname "$0")/lib.sh"

shim_up
qemu_up vm vm vm-plain "$T/kd.shm" "print=500"
wait_line "$T/vm.console" "region validated" 60 || fail "kernel did not find its region"
grep -q "ivshmem found at PCI" "$T/vm.console" || fail "no PCI line"
grep -q "ivshmem-plain: no doorbell" "$T/vm.console" || fail "plain device not recognised"

"$BIN/kdcom-client" "tcp:127.0.0.1:$PORT" wait-stop 60000 version \
    verify 0xfffff80000000000 1M \
    write 0xfffff80000002000 c0ffee expect 0xfffff80000002000 c0ffee \
    go wait-print "resume 0" 30000 break go wait-print "resume 1" 30000 \
    >"$T/c1.out" 2>&1 || fail "first session failed"
grep -q "version: .*build 19041" "$T/c1.out" || fail "no version line"
grep -q "verify: 1048576 bytes .* match the pattern" "$T/c1.out" || fail "1 MiB read not verified"

# A debugger killed in the middle of a bulk read (once its break-in has
# stopped the kernel, the kernel's second); the next one takes over.
# (16-byte reads: the 4 MiB image takes far longer than the second the
# debugger lives.)
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
kill -0 "$SHIM" 2>/dev/null || fail "shim died"
show_console vm
sed 's|^|    c1: |' "$T/c1.out"
sed 's|^|    c3: |' "$T/c3.out"
pass "ivshmem-plain session verified, QEMU exit status $RC"
