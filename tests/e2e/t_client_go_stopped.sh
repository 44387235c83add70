#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# End to end: kdcom-client attaches to a kernel that is already stopped
# and runs `version go`; the kernel must run afterwards.  On the VM path
# the shim answers the client's RESET itself and the kernel re-sends its
# state change a moment later.  Here the kernel is frozen (SIGSTOP) until
# the client has synchronised, so that state change always comes after
# the sync: a client that decides "running" and breaks in before it
# arrives sends a break-in the stopped kernel keeps, and the kernel
# stops again right after the continue.  Three times over, each time
# checking that the client sent no break-in and the kernel runs.
. "$(dirname "$0")/lib.sh"

C=$BIN/kdcom-client
shim_up
# Not -q: the kernel notes every break-in it takes.
start sim "$BIN/kdcom-simkernel-vm" "$T/kd.shm"
SIM=$LAST
"$C" -q "tcp:127.0.0.1:$PORT" wait-stop 10000 >"$T/boot.out" 2>&1 ||
    fail "the kernel did not stop at its initial breakpoint"

breakins() { grep -c "break-in" "$T/sim.err"; }

run=1
while [ $run -le 3 ]; do
    taken=$(breakins)
    kill -STOP "$SIM"
    start c$run "$C" "tcp:127.0.0.1:$PORT" version go
    client=$LAST
    wait_line "$T/c$run.out" "link synchronised" 10
    synced=$?
    kill -CONT "$SIM"
    [ $synced = 0 ] || fail "run $run: the client did not synchronise"
    wait_exit "$client" 30 || fail "run $run: the client hung"
    [ "$RC" = 0 ] || fail "run $run: the client exited $RC"
    grep -q "version: free kernel build 19041" "$T/c$run.out" ||
        fail "run $run: no version"
    # A kept break-in stops the kernel at its next clock tick.
    sleep 0.5
    [ "$(breakins)" = "$taken" ] ||
        fail "run $run: the kernel took a break-in and stopped after go"
    "$C" -q "tcp:127.0.0.1:$PORT" wait-stop 1000 >"$T/check$run.out" 2>&1
    [ $? = 1 ] || fail "run $run: the kernel is not running after go"
    grep -q "breaking in" "$T/c$run.out" &&
        fail "run $run: the client broke in to a kernel that was stopped"
    # Stop it again for the next run.
    "$C" -q "tcp:127.0.0.1:$PORT" break >"$T/break$run.out" 2>&1 ||
        fail "run $run: could not break in"
    run=$((run + 1))
done
pass "3 attaches to a stopped kernel, no break-in, running after go"
