#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# End to end: the simulated kernel is killed and started again (a new
# epoch in the same shared memory) under a debugger that stays connected
# to the shim; the debugger sees the new boot and works with the new
# kernel.
. "$(dirname "$0")/lib.sh"

shim_up
kernel_up sim1
start c "$BIN/kdcom-client" "tcp:127.0.0.1:$PORT" wait-stop 10000 version go \
    wait-print "resume 0" 5000 wait-print booting 20000 wait-stop 20000 \
    version verify 0xfffff80000000000 128K go wait-print "resume 0" 5000
client=$LAST
wait_line "$T/c.out" "resume 0" 10 || fail "first kernel never ran"
stop "$SIM"
kernel_up sim2
wait_exit "$client" 40 || fail "client hung"
[ "$RC" = 0 ] || fail "client exited $RC"
grep -q "guest restarted" "$T/shim.err" || fail "shim did not notice"
pass
