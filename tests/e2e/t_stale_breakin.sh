#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# End to end: a debugger sends a break-in while the stopped kernel's reply
# to its GetVersion waits for an ACK, and is killed.  The break-in was
# that debugger's: the next one attaches, continues the kernel and the
# kernel keeps running (docs/protocol.md 5.6, "What a new debugger
# inherits").  The next debugger here resynchronises like kdcom-client,
# so the test does not depend on t_dead_debugger's fix.  On the VM path,
# the uart path and the serial simulated kernel.  A break-in the new
# debugger sends itself still stops the kernel.
. "$(dirname "$0")/lib.sh"

P=${E2E_KDPEER:?E2E_KDPEER must point at the kdpeer test program}

# two_debuggers NAME PORT: the killed one, then the one that continues.
two_debuggers() {
    "$P" 127.0.0.1 "$2" stop 10000 die break >"$T/$1-a.out" 2>&1
    grep -q "die: killed" "$T/$1-a.out" ||
        fail "$1: the first debugger did not get as far as the reply"
    "$P" 127.0.0.1 "$2" stop-resync 10000 go no-stop 3000 \
        >"$T/$1-b.out" 2>&1 ||
        fail "$1: the kernel stopped again after the next debugger's go"
    "$BIN/kdcom-client" -q "tcp:127.0.0.1:$2" break version go \
        >"$T/$1-c.out" 2>&1 || fail "$1: a break-in of its own failed"
}

each_path two_debuggers -q
pass
