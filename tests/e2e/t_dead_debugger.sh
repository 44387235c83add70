#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# End to end: a debugger sends GetVersion and is killed before it
# acknowledges the reply.  The next debugger synchronises once (as WinDbg
# does, without a Ctrl+R) and must get the stopped kernel's state change:
# the RESET that reaches the kernel while its reply waits for an ACK makes
# it send the state change again once the reply is through
# (docs/protocol.md 6.2).  On the VM path (kdcom-simkernel-vm behind
# kdcom-shim), the uart path (guest/'s 16550 back end) and the serial
# simulated kernel (kdcom-simkernel).  The shim and the simulated kernels
# report the killed debugger as a disconnect, not as a failure.
. "$(dirname "$0")/lib.sh"

P=${E2E_KDPEER:?E2E_KDPEER must point at the kdpeer test program}

# two_debuggers NAME PORT LOG: the killed one, then the one that waits.
# LOG (the shim's or the simulated kernel's) reports the killed one as a
# disconnect, not as a failure, before the next one connects (a new
# connection would replace it first).
two_debuggers() {
    "$P" 127.0.0.1 "$2" stop 10000 die >"$T/$1-a.out" 2>&1
    grep -q "die: killed" "$T/$1-a.out" ||
        fail "$1: the first debugger did not get as far as the reply"
    wait_line "$3" "debugger disconnected (connection reset)" 5 ||
        fail "$1: the reset connection was not reported as a disconnect"
    grep -q "connection failed" "$3" &&
        fail "$1: the killed debugger was reported as a failure"
    "$P" 127.0.0.1 "$2" stop 5000 version go >"$T/$1-b.out" 2>&1 ||
        fail "$1: the next debugger got no state change"
}

each_path two_debuggers
pass
