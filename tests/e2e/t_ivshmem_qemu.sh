#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# End to end with a real QEMU and no guest kernel: kdcom-shim
# --ivshmem-server is the ivshmem server of QEMU's ivshmem-doorbell.
#   1. A paused QEMU (-S: no guest code runs) completes the handshake
#      while it realises the device; the shim logs the client with QEMU's
#      pid and QEMU stays up.  A second QEMU is refused and exits with
#      QEMU's own error ("server sent version -1"), the first stays.
#      QEMU killed by its pid: the shim notices the disconnect.
#   2. The device driven as a guest kernel would, through QEMU's qtest
#      protocol (ivshmem_client qtest): BARs programmed, IVPosition is the
#      peer id, BAR 2 is the channel file, mailbox requests posted through
#      BAR 2 and rung through BAR 0's Doorbell ((0 << 16) | 0) are
#      answered (the shim runs with --idle-poll 60000, so within the
#      client's bound only the ring explains an answer).
# Every QEMU runs under `timeout` and is stopped by the pid it writes.
. "$(dirname "$0")/lib.sh"

QEMU=qemu-system-x86_64
if ! command -v "$QEMU" >/dev/null 2>&1; then
    echo "SKIP: qemu-system-x86_64 not installed"
    exit 0
fi
IVSC=${E2E_IVSCLIENT:-$BIN/../tests/e2e/ivshmem_client}
[ -x "$IVSC" ] || fail "no $IVSC (make check-e2e builds it)"
S=$T/ivs.sock

# qemu_up NAME [QEMU-ARGS...]: a paused QEMU with an ivshmem-doorbell on
# the shim's socket, under timeout; its pid (from -pidfile) in $QPID.
qemu_up() {
    n=$1
    shift
    rm -f "$T/$n.pid"
    start "$n" timeout 120 "$QEMU" -nodefaults -display none -machine q35 \
        -pidfile "$T/$n.pid" -chardev "socket,path=$S,id=ivs" \
        -device ivshmem-doorbell,chardev=ivs,vectors=1 -S "$@"
    QWRAP=$LAST
}

qemu_pid() { # NAME: waits for the pidfile
    i=0
    while [ $i -lt 200 ]; do
        QPID=$(cat "$T/$1.pid" 2>/dev/null)
        [ -n "$QPID" ] && return 0
        kill -0 "$QWRAP" 2>/dev/null || return 1
        sleep 0.05
        i=$((i + 1))
    done
    return 1
}

shim_up --ivshmem-server "$S" --idle-poll 60000
wait_line "$T/shim.err" "ivshmem server on $S" 5 || fail "no ivshmem server"

# 1. Handshake with a paused QEMU.
qemu_up q1
qemu_pid q1 || fail "QEMU did not start"
Q1=$QPID
Q1WRAP=$QWRAP
wait_line "$T/shim.err" "peer 1 connected (pid $Q1)" 20 ||
    fail "QEMU $Q1 not logged as peer 1"
sleep 1
kill -0 "$Q1" 2>/dev/null || fail "QEMU did not stay up after the handshake"

# A second QEMU is refused; it exits by itself with QEMU's error.
qemu_up q2
wait_exit "$QWRAP" 30 || fail "second QEMU neither started nor exited"
[ "$RC" = 1 ] || fail "second QEMU exited $RC, want 1"
grep -q "server sent version -1, expecting 0" "$T/q2.err" ||
    fail "second QEMU's message"
grep -q "refused a second client (pid [0-9]*): peer 1 (pid $Q1)" "$T/shim.err" ||
    fail "refusal not logged"
kill -0 "$Q1" 2>/dev/null || fail "first QEMU went down with the second"

kill -KILL "$Q1"
wait_line "$T/shim.err" "peer 1 disconnected (pid $Q1)" 10 ||
    fail "the shim did not notice QEMU's end"
wait_exit "$Q1WRAP" 10

# 2. The device driven through qtest: rings through the Doorbell register.
start qt "$IVSC" qtest "$T/qt.sock" "$T/kd.shm" 2 3 5000
QT=$LAST
wait_line "$T/qt.out" QTEST_LISTENING 10 || fail "qtest client"
qemu_up q3 -qtest "unix:$T/qt.sock" -qtest-log /dev/null
qemu_pid q3 || fail "QEMU with qtest did not start"
Q3=$QPID
wait_exit "$QT" 60 || fail "qtest client hung"
[ "$RC" = 0 ] || fail "qtest client exited $RC"
grep -q "device ok: slot [0-9]*, IVPosition 2" "$T/qt.out" || fail "device"
grep -q "rounds ok 3" "$T/qt.out" || fail "rounds"
grep -q "peer 2 connected (pid $Q3)" "$T/shim.err" || fail "QEMU 3 not logged"
kill -KILL "$Q3"
wait_line "$T/shim.err" "peer 2 disconnected (pid $Q3)" 10 ||
    fail "the shim did not notice the second QEMU's end"
wait_exit "$QWRAP" 10

stop "$SHIM"
grep -q "ivshmem: clients=2 refused=1 dropped=0 rings=3$" "$T/shim.err" ||
    fail "counters: $(grep 'ivshmem: clients' "$T/shim.err")"
pass "QEMU handshake, refusal, disconnect; 3 rings through the Doorbell"
