#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# End to end: `go` on a kernel that has just booted.  The simulated
# kernel, like Windows asked for an initial break, reports its module
# load (LoadSymbols, which the client continues by itself) and stops at
# its initial breakpoint right after.  `go` must not call the kernel
# running between the two: it waits for the breakpoint, continues it,
# and the kernel runs afterwards.  Both ways of meeting a boot on the VM
# path: the client attached to the shim first and sees the boot's
# DbgPrint before its go, and the client attaching to a kernel that
# booted before it came.
. "$(dirname "$0")/lib.sh"

C=$BIN/kdcom-client

# running NAME: the kernel must not be stopped (a stopped kernel answers
# the RESET with its state change, and wait-stop returns 0 at once).
running() {
    "$C" -q "tcp:127.0.0.1:$PORT" wait-stop 1500 >"$T/$1-check.out" 2>&1
    [ $? = 1 ] || fail "$1: the kernel is stopped after go"
}

# The client first, then the kernel boots under it.
shim_up
start c1 "$C" "tcp:127.0.0.1:$PORT" wait-print booting 10000 go
client=$LAST
wait_line "$T/c1.out" "link synchronised" 10 || fail "attached: no sync"
kernel_up
wait_exit "$client" 30 || fail "attached: the client hung"
[ "$RC" = 0 ] || fail "attached: the client exited $RC"
grep -q "target: load symbols" "$T/c1.out" ||
    fail "attached: go returned before the module load"
grep -q "go: target resumed" "$T/c1.out" ||
    fail "attached: go did not continue the initial breakpoint"
running attached
stop "$SIM"
stop "$SHIM"
rm -f "$T/kd.shm"

# The kernel first: it booted and waits at its module load.
shim_up
start sim "$BIN/kdcom-simkernel-vm" "$T/kd.shm"
SIM=$LAST
wait_line "$T/sim.err" "booting" 10 || fail "booted: the kernel did not start"
sleep 0.2
"$C" "tcp:127.0.0.1:$PORT" go >"$T/c2.out" 2>&1 ||
    fail "booted: the client exited $?"
grep -q "go: target resumed" "$T/c2.out" ||
    fail "booted: go did not continue the initial breakpoint"
running booted
pass
