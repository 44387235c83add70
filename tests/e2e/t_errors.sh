#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# End to end: bad command lines and dead peers get clear errors and
# defined exit statuses, within bounded time.
. "$(dirname "$0")/lib.sh"

expect_rc() { # RC MESSAGE-PATTERN CMD...
    want=$1 pat=$2
    shift 2
    "$@" >"$T/x.out" 2>&1
    got=$?
    [ "$got" = "$want" ] || fail "'$*' exited $got, want $want"
    grep -q -e "$pat" "$T/x.out" || fail "'$*' did not say '$pat'"
}

C=$BIN/kdcom-client
expect_rc 2 "missing ENDPOINT" "$C"
expect_rc 2 "unknown endpoint" "$C" bogus:1
expect_rc 2 "bad TCP port" "$C" tcp:127.0.0.1:99999
expect_rc 2 "unknown command" "$C" "unix:$T/none" frobnicate
expect_rc 2 "needs 2 arguments" "$C" "unix:$T/none" read 0x1000
expect_rc 2 "bad argument" "$C" --timeout x "unix:$T/none"
expect_rc 3 "connect to" "$C" "unix:$T/none" version
expect_rc 0 "usage" "$C" --help
expect_rc 2 "need --shm" "$BIN/kdcom-shim" tcp-listen:0
expect_rc 2 "unknown endpoint" "$BIN/kdcom-shim" --shm "$T/s" nowhere
: >"$T/small"
printf 'x' >"$T/small"
expect_rc 1 "size" "$BIN/kdcom-shim" --shm "$T/small" tcp-listen:0
expect_rc 1 "No such file" "$BIN/kdcom-simkernel-vm" "$T/absent"
expect_rc 2 "missing" "$BIN/kdcom-simkernel-vm"

# A peer that accepts but never answers: the sync times out.
start sim "$BIN/kdcom-simkernel" -q tcp-listen:127.0.0.1:0
SIM=$LAST
port=$(wait_value "$T/sim.out" KDCOM_SIM_PORT) || fail "no port"
kill -STOP "$SIM"
expect_rc 3 "no RESET answer" "$C" --sync-timeout 500 "tcp:127.0.0.1:$port" version
kill -CONT "$SIM"

# A target that stops answering in the middle: the request times out.
start c "$C" --timeout 500 "tcp:127.0.0.1:$port" wait-stop 5000 sleep 1500 \
    version
wait_line "$T/c.out" "stopped, exception" 10 || fail "could not attach"
kill -STOP "$SIM"
wait_exit "$LAST" 15 || fail "client hung on a frozen target"
[ "$RC" = 1 ] || fail "frozen target: client exited $RC, want 1"
grep -q "timed out" "$T/c.err" || fail "frozen target: no timeout message"
kill -CONT "$SIM"

# A target that goes away: "connection lost", exit status 3.
start c2 "$C" "tcp:127.0.0.1:$port" wait-stop 5000 sleep 3000 version
C2=$LAST
wait_line "$T/c2.out" "stopped, exception" 10 || fail "could not attach again"
stop "$SIM"
wait_exit "$C2" 10 || fail "client hung on a closed connection"
[ "$RC" = 3 ] || fail "closed connection: client exited $RC, want 3"
grep -q "connection to the target lost" "$T/c2.err" ||
    fail "closed connection: no message"
pass
