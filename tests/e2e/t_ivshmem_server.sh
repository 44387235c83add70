#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# End to end: kdcom-shim --ivshmem-server against clients that play QEMU's
# ivshmem-doorbell device and its guest (ivshmem_client.c), no QEMU
# needed.  Every handshake message is checked; the guest posts with
# GUEST_FLAGS.DOORBELL and no futex wake, then rings the shim's eventfd.
# The shim runs with --idle-poll 60000: nothing but the ring makes it look
# at the mailbox within the client's bound of 5 s per answer, so answers
# within that bound are the eventfd's doing (no time is measured; the
# bound is only the failure condition).  Then the bad cases: a second
# client, one that closes at once, one that leaves mid-handshake, one that
# sends bytes and a descriptor, a channel file that is no power of two; a
# reconnect after each; and the futex doorbell of a Linux-process guest
# still working in this mode.
. "$(dirname "$0")/lib.sh"

IVSC=${E2E_IVSCLIENT:-$BIN/../tests/e2e/ivshmem_client}
[ -x "$IVSC" ] || fail "no $IVSC (make check-e2e builds it)"
S=$T/ivs.sock
WAIT=5000

# Refused at start-up: the file behind --shm, or the one --shm-size would
# create, is no power of two (a file it created is removed again).
truncate -s 12K "$T/odd.shm" || fail "truncate"
timeout 10 "$BIN/kdcom-shim" --shm "$T/odd.shm" --ivshmem-server "$S" \
    tcp-listen:127.0.0.1:0 >"$T/odd.out" 2>&1
[ $? = 1 ] || fail "a 12 KiB file with --ivshmem-server: want exit 1"
grep -q "not a power of two" "$T/odd.out" || fail "no size rule named"
[ -e "$T/odd.shm" ] || fail "an existing file was removed"
timeout 10 "$BIN/kdcom-shim" --shm "$T/new.shm" --shm-size 48K \
    --ivshmem-server "$S" tcp-listen:127.0.0.1:0 >"$T/odd.out" 2>&1
[ $? = 1 ] || fail "--shm-size 48K with --ivshmem-server: want exit 1"
grep -q "not a power of two" "$T/odd.out" || fail "no size rule named (48K)"
[ -e "$T/new.shm" ] && fail "a file made for nothing was left behind"
[ -e "$S" ] && fail "socket left behind by a refused start"

shim_up --ivshmem-server "$S" --idle-poll 60000
wait_line "$T/shim.err" "ivshmem server on $S" 5 || fail "no ivshmem server"

# A client that stays: handshake, three rings answered, then it holds on.
start a "$IVSC" serve "$S" "$T/kd.shm" 1 3 $WAIT 60
A=$LAST
wait_line "$T/a.out" HOLDING 20 || fail "first client"
grep -q "peer 1 connected (pid $A)" "$T/shim.err" || fail "not logged"

# A second client is refused (version -1, then end of file); the first
# is still served: three more rounds.
"$IVSC" refused "$S" $WAIT >"$T/b.out" 2>&1 || fail "second client: $(cat "$T/b.out")"
grep -q "refused a second client" "$T/shim.err" || fail "refusal not logged"
kill -USR1 "$A"
wait_line "$T/a.out" "rounds ok 6" 20 || fail "first client not served after the refusal"
stop "$A"
wait_line "$T/shim.err" "peer 1 disconnected (pid $A)" 5 ||
    fail "disconnect not noticed"

# Clients that connect and close, leave after the version message, or
# send bytes and a descriptor: each is logged and cleaned up.
bad_client() { # MODE
    "$IVSC" "$1" "$S" ${2:-} >"$T/$1.out" 2>&1 &
    p=$!
    wait "$p" || fail "$1 client: $(cat "$T/$1.out")"
    wait_line "$T/shim.err" \
        "\(disconnected (pid $p)\|(pid $p) failed\|(pid $p) sent\)" 5 ||
        fail "$1 client (pid $p) not cleaned up"
}
bad_client close
bad_client half
bad_client garbage $WAIT
grep -q "sent 16 bytes and descriptors.*dropped" "$T/shim.err" ||
    fail "garbage not named"
kill -0 "$SHIM" || fail "shim died"

# A new VM (any free id; a new guest epoch): served.
"$IVSC" serve "$S" "$T/kd.shm" - 3 $WAIT >"$T/c.out" 2>&1 ||
    fail "reconnect: $(cat "$T/c.out")"
grep -q "guest restarted" "$T/shim.err" || fail "new guest not noticed"

# The channel file resized under the shim (which follows it when a client
# connects): to no power of two, clients are refused (QEMU would abort on
# it), naming the rule; back to a power of two, they are served again.
truncate -s 12K "$T/kd.shm"
"$IVSC" refused "$S" $WAIT >"$T/d.out" 2>&1 || fail "odd size: $(cat "$T/d.out")"
grep -q "12288 bytes, not a power of two" "$T/shim.err" || fail "odd size not named"
truncate -s 64K "$T/kd.shm"
"$IVSC" serve "$S" "$T/kd.shm" - 1 $WAIT >"$T/e.out" 2>&1 ||
    fail "after the resize back: $(cat "$T/e.out")"

# The futex doorbell of a Linux-process guest is intact in this mode.
kernel_up sim
"$BIN/kdcom-client" "tcp:127.0.0.1:$PORT" wait-stop 20000 version \
    verify 0xfffff80000000000 64K go >"$T/kd.out" 2>&1 ||
    fail "debugger session over the futex doorbell"
stop "$SIM"

stop "$SHIM"
grep -q "ivshmem: clients=.* refused=2 dropped=.* rings=10$" "$T/shim.err" ||
    fail "counters: $(grep 'ivshmem: clients' "$T/shim.err")"
[ -e "$S" ] && fail "socket file left behind"
pass "handshake, rings, refusals, bad clients, reconnects"
