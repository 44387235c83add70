#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# End to end: kdcom-client -i takes commands from stdin (the serial
# simulated kernel as target), survives a bad line, and ends at "quit".
. "$(dirname "$0")/lib.sh"

start sim "$BIN/kdcom-simkernel" -q tcp-listen:127.0.0.1:0
port=$(wait_value "$T/sim.out" KDCOM_SIM_PORT) || fail "no port"
printf '%s\n' 'version' 'frobnicate' 'write 0xfffff80000200000 "00ff"' \
    'write 0xfffff80000200000 00ff' 'expect 0xfffff80000200000 00ff' \
    'go' 'wait-print "resume 0" 5000' 'break' 'quit' 'version' |
    "$BIN/kdcom-client" -i "tcp:127.0.0.1:$port" wait-stop 10000 \
        >"$T/c.out" 2>"$T/c.err" || fail "client exited $?"
grep -q "version: free kernel build" "$T/c.out" || fail "no version"
grep -q "unknown command 'frobnicate'" "$T/c.err" || fail "bad line not reported"
grep -q "expect: 2 bytes" "$T/c.out" || fail "write/expect failed"
grep -q "break: sending break-in" "$T/c.out" || fail "no break"
[ "$(grep -c "version: free" "$T/c.out")" = 1 ] || fail "ran past quit"
pass
