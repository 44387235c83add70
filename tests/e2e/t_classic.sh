#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# End to end, the classic path: the simulated kernel on guest/'s 16550
# back end (KDCOM in the guest) and the client on a pty, then on TCP with
# two debuggers one after the other (QEMU `-serial tcp:...,server` style).
. "$(dirname "$0")/lib.sh"

start uart "$BIN/kdcom-simkernel-uart" -q --pull-file "\\SystemRoot\\system32\\drivers\\kdtest.sys" pty
pty=$(wait_value "$T/uart.out" KDCOM_SIM_PTY) || fail "no pty"
"$BIN/kdcom-client" --timeout 5000 "tty:$pty" wait-stop 10000 version \
    verify 0xfffff80000000000 128K write 0xfffff80000200000 0badcafe \
    expect 0xfffff80000200000 0badcafe control 3 8 go \
    wait-print "resume 0" 5000 break go stats >"$T/c1.out" 2>&1 ||
    fail "pty session failed"
grep -q "CreateFile(.*kdtest.sys) -> 0xc000000f" "$T/c1.out" ||
    fail "FILE_IO CreateFile not answered STATUS_NO_SUCH_FILE"
grep -q "file_io answered=1" "$T/c1.out" || fail "FILE_IO not counted"
stop "$LAST"

start uart2 "$BIN/kdcom-simkernel-uart" -q --trace decode tcp-listen:127.0.0.1:0
port=$(wait_value "$T/uart2.out" KDCOM_SIM_PORT) || fail "no port"
"$BIN/kdcom-client" "tcp:127.0.0.1:$port" wait-stop 10000 version go \
    >"$T/c2.out" 2>&1 || fail "first TCP session failed"
"$BIN/kdcom-client" "tcp:127.0.0.1:$port" break version \
    verify 0xfffff80000100000 64K go >"$T/c3.out" 2>&1 ||
    fail "second TCP session failed"
out=$("$BIN/kdcom-client" -q --bench-read 256K "tcp:127.0.0.1:$port" go) ||
    fail "--bench-read failed"
echo "$out" | grep -q "^bench-read bytes=262144 reads=67 seconds=[0-9.]* reads_per_s=[0-9.]* MB_per_s=[0-9.]*$" ||
    fail "bench-read line malformed: $out"
grep -q "D>T RESET" "$T/uart2.err" || fail "no decoded trace"
grep -q "DbgKdReadVirtualMemoryApi" "$T/uart2.err" || fail "trace lacks KD names"
pass
