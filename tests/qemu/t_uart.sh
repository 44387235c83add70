#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# QEMU, the classic path: the bare-metal kernel speaks KDCOM itself
# (guest/'s uart back end, libkdcom's TARGET role in ring 0) through
# QEMU's emulated 16550 on COM1, whose chardev is a socket kdcom-client
# connects to, as WinDbg would: sync, version, 1 MiB verified read, write
# read back, continue, break-in, continue; a debugger killed mid-read and
# a new one attaching; .reboot ends QEMU with status 33.
. "$(dirname "$0")/lib.sh"

SOCK="$T/com1.sock"
qemu_up uart uart uart-unix "$SOCK" "print=500"
wait_line "$T/uart.console" "16550 at COM1" 60 || fail "kernel did not find COM1"
i=0
while [ ! -S "$SOCK" ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i + 1)); done

"$BIN/kdcom-client" "unix:$SOCK" wait-stop 60000 version \
    verify 0xfffff80000000000 1M \
    write 0xfffff80000002000 c0ffee expect 0xfffff80000002000 c0ffee \
    go wait-print "resume 0" 30000 break go wait-print "resume 1" 30000 \
    >"$T/c1.out" 2>&1 || fail "first session failed"
grep -q "version: .*build 19041" "$T/c1.out" || fail "no version line"
grep -q "verify: 1048576 bytes .* match the pattern" "$T/c1.out" || fail "1 MiB read not verified"

# A debugger killed in the middle of a bulk read (once its break-in has
# stopped the kernel, the kernel's second); the next one takes over.
start c2 "$BIN/kdcom-client" -q --chunk 16 "unix:$SOCK" break \
    bench-read 0xfffff80000000000 4M
c2=$LAST
wait_count "$T/uart.console" "sim: break-in" 2 60 || fail "second debugger did not break in"
sleep 1
kill -KILL "$c2" 2>/dev/null
wait_exit "$c2" 5
"$BIN/kdcom-client" "unix:$SOCK" wait-stop 30000 version \
    verify 0xfffff80000010000 64K expect 0xfffff80000002000 c0ffee \
    reboot >"$T/c3.out" 2>&1 || fail "second debugger could not take over"

qemu_wait_exit 60 || fail "QEMU did not exit after .reboot"
[ "$RC" = 33 ] || fail "QEMU exit status $RC, expected 33 (reboot)"
show_console uart
sed 's|^|    c1: |' "$T/c1.out"
sed 's|^|    c3: |' "$T/c3.out"
pass "16550 session verified, QEMU exit status $RC"
