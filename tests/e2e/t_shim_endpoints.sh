#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# End to end: kdcom-shim on its other endpoints.  A Unix socket it listens
# on (removed again on SIGTERM, like the file with --unlink), a pty, and
# the reverse direction: a debugger that listens and a shim that connects
# to it (retrying until it is there).
. "$(dirname "$0")/lib.sh"

kernel_and_shim() { # ENDPOINT...
    start shim "$BIN/kdcom-shim" --unlink --shm "$T/kd.shm" \
        --shm-size 64K "$@"
    SHIM=$LAST
    wait_line "$T/shim.err" "created" 5 || fail "shim made no channel file"
}

# Unix socket, shim listening.
kernel_and_shim "unix-listen:$T/kd.sock"
wait_line "$T/shim.err" "served on unix socket" 5 || fail "no unix socket"
kernel_up
"$BIN/kdcom-client" "unix:$T/kd.sock" wait-stop 10000 version \
    verify 0xfffff80000000000 64K go >"$T/c1.out" 2>&1 ||
    fail "unix socket session failed"
stop "$SIM"
stop "$SHIM"
[ ! -e "$T/kd.sock" ] || fail "socket file left behind"
[ ! -e "$T/kd.shm" ] || fail "--unlink did not remove the channel file"
grep -q "kdcom-shim: channel: .* requests=" "$T/shim.err" ||
    fail "no counters on SIGTERM"

# pty.
kernel_and_shim pty
pty=$(wait_value "$T/shim.out" KDCOM_SHIM_PTY) || fail "no pty"
kernel_up
"$BIN/kdcom-client" "tty:$pty" wait-stop 10000 version go \
    >"$T/c2.out" 2>&1 || fail "pty session failed"
stop "$SIM"
stop "$SHIM"

# Reverse: the debugger listens, the shim connects (started first, so it
# has to retry).
start dbg "$BIN/kdcom-client" --connect-timeout 20000 \
    tcp-listen:127.0.0.1:0 wait-stop 10000 version go
DBG=$LAST
port=$(wait_line "$T/dbg.out" "listening on" 5 &&
       sed -n 's/^listening on 127.0.0.1:\([0-9]*\)$/\1/p' "$T/dbg.out")
[ -n "$port" ] || fail "listening client printed no port"
kernel_and_shim "tcp:127.0.0.1:$port"
kernel_up
wait_exit "$DBG" 30 || fail "listening client hung"
[ "$RC" = 0 ] || fail "listening client exited $RC"
pass
