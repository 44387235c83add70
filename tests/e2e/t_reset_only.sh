#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# End to end: a "debugger" that only ever sends RESET.  The shim answers
# every one, the kernel (stopped in its state-change send) is not wedged:
# once a real debugger attaches, the session works.
. "$(dirname "$0")/lib.sh"

shim_up --ack-timeout 100
kernel_up
"$E2E_RESETBOMB" 127.0.0.1 "$PORT" 2000 >"$T/bomb.out" 2>&1 ||
    fail "reset-only peer: $(cat "$T/bomb.out")"
kill -0 "$SHIM" 2>/dev/null || fail "shim died"
"$BIN/kdcom-client" "tcp:127.0.0.1:$PORT" wait-stop 10000 version go \
    wait-print "resume 0" 5000 >"$T/c.out" 2>&1 ||
    fail "kernel stuck after the RESET storm"
pass "$(cat "$T/bomb.out")"
