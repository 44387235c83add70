#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# End to end: a debugger killed (SIGKILL) in the middle of a bulk read; a
# new one attaches to the same shim and finds the kernel, stopped, and
# serviceable.  The shim is never restarted.
. "$(dirname "$0")/lib.sh"

shim_up
kernel_up
start c1 "$BIN/kdcom-client" -q "tcp:127.0.0.1:$PORT" wait-stop 10000 \
    bench-read 0xfffff80000000000 256M
c1=$LAST
sleep 0.5
kill -KILL "$c1" 2>/dev/null
wait_exit "$c1" 5
"$BIN/kdcom-client" "tcp:127.0.0.1:$PORT" wait-stop 10000 version \
    verify 0xfffff80000000000 256K go wait-print "resume 0" 5000 \
    >"$T/c2.out" 2>&1 || fail "second debugger could not take over"
kill -0 "$SHIM" 2>/dev/null || fail "shim died"
pass
