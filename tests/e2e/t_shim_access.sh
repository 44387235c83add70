#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# End to end: who may attach a debugger to kdcom-shim, i.e. read and write
# the guest kernel's memory (docs/SECURITY.md section 7).  Unix sockets
# are owner-only whatever the umask (--mode and --ivshmem-mode widen
# them); --allow admits only its prefixes, IPv4 and IPv6, and logs the
# others with their address; --takeover refuse keeps a live debugger
# attached while --takeover replace (the default) lets the newcomer in
# and logs both; a listener on a non-loopback address is warned about.
# Only loopback addresses are used; the wildcard listener lives for an
# instant, behind --allow.
. "$(dirname "$0")/lib.sh"

C=$BIN/kdcom-client
umask 022 # what the shim must not inherit for its sockets

# Socket modes: the debugger socket and the ivshmem server's.
mode_of() { stat -c %a "$1"; }
# unix_shim WHAT KD_MODE IVS_MODE [OPTION...]: kdcom-shim with OPTIONs on
# $T/kd.sock, its ivshmem server on $T/ivs.sock; the sockets must have
# the modes KD_MODE and IVS_MODE.
unix_shim() {
    what=$1 kd=$2 ivs=$3
    shift 3
    start shim "$BIN/kdcom-shim" --shm "$T/kd.shm" "$@" \
        --ivshmem-server "$T/ivs.sock" "unix-listen:$T/kd.sock"
    SHIM=$LAST
    wait_line "$T/shim.err" "served on unix socket" 5 ||
        fail "no unix socket ($what)"
    [ "$(mode_of "$T/kd.sock")" = "$kd" ] ||
        fail "$what: debugger socket has mode $(mode_of "$T/kd.sock"), want $kd"
    [ "$(mode_of "$T/ivs.sock")" = "$ivs" ] ||
        fail "$what: ivshmem socket has mode $(mode_of "$T/ivs.sock"), want $ivs"
}
unix_shim "default modes" 600 600
stop "$SHIM"
unix_shim "--mode 0660 --ivshmem-mode=0640" 660 640 --mode 0660 \
    --ivshmem-mode=0640
kernel_up
"$C" "unix:$T/kd.sock" wait-stop 10000 version go >"$T/u.out" 2>&1 ||
    fail "session on the 0660 socket failed"
stop "$SIM"
stop "$SHIM"
[ ! -e "$T/kd.sock" ] && [ ! -e "$T/ivs.sock" ] || fail "sockets left behind"

# --allow: a prefix the client's address is not in is refused and logged.
shim_up --allow 127.0.0.2/32 --allow ::1
kernel_up
"$C" --sync-timeout 2000 "tcp:127.0.0.1:$PORT" version >"$T/a1.out" 2>&1 &&
    fail "a client outside --allow got a session"
wait_line "$T/shim.err" \
    "refused a debugger connection from 127.0.0.1:[0-9]*: not in --allow" 5 ||
    fail "the refused connection was not logged with its address"
grep -q "debugger connected" "$T/shim.err" && fail "refused peer attached"
# A peer inside the prefix: 127.0.0.2 as the source address.
if command -v python3 >/dev/null 2>&1; then
    python3 - "$PORT" >"$T/py.out" 2>&1 <<'EOF' || fail "127.0.0.2: $(cat "$T/py.out")"
import socket, sys
s = socket.socket()
s.bind(("127.0.0.2", 0))
s.connect(("127.0.0.1", int(sys.argv[1])))
s.settimeout(5)
s.sendall(b"\x69\x69\x69\x69\x06\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00")
# The shim answers with its echo of the RESET (among other frames).
got = b""
while b"iiii\x06\x00" not in got:
    b = s.recv(4096)
    if not b:
        sys.exit("closed: %r" % got)
    got += b
EOF
    wait_line "$T/shim.err" "debugger connected (127.0.0.2:" 5 ||
        fail "127.0.0.2 inside --allow 127.0.0.2/32 was not accepted"
fi
stop "$SHIM"
grep -q "debuggers: accepted=[01] replaced=0 refused allow/takeover=1/0" \
    "$T/shim.err" || fail "counters: $(grep 'debuggers:' "$T/shim.err")"

shim_up --allow 127.0.0.0/8
"$C" "tcp:127.0.0.1:$PORT" wait-stop 10000 version go >"$T/a2.out" 2>&1 ||
    fail "a client inside --allow 127.0.0.0/8 was refused"
stop "$SHIM"

# IPv6, where the host has ::1: a v4 rule does not admit it, a v6 one does.
start shim6 "$BIN/kdcom-shim" --shm "$T/kd.shm" --allow 10.0.0.0/8 \
    "tcp-listen:[::1]:0"
S6=$LAST
if P6=$(wait_value "$T/shim6.out" KDCOM_SHIM_PORT); then
    "$C" --sync-timeout 2000 "tcp:[::1]:$P6" version >"$T/a3.out" 2>&1 &&
        fail "::1 got a session through --allow 10.0.0.0/8"
    wait_line "$T/shim6.err" "refused a debugger connection from ::1" 5 ||
        fail "the refused IPv6 peer was not logged"
    stop "$S6"
    start shim6 "$BIN/kdcom-shim" --shm "$T/kd.shm" --allow ::1/128 \
        "tcp-listen:[::1]:0"
    S6=$LAST
    P6=$(wait_value "$T/shim6.out" KDCOM_SHIM_PORT) || fail "no [::1] port"
    "$C" "tcp:[::1]:$P6" version go >"$T/a4.out" 2>&1 ||
        fail "::1 inside --allow ::1/128 was refused"
    stop "$S6"
    v6="IPv6 too"
else
    stop "$S6"
    v6="no ::1 here, IPv6 skipped"
fi
stop "$SIM"

# --takeover refuse: a second debugger is turned away while the first is
# attached; the first finishes its session undisturbed.  Once it has gone,
# the next one gets in.
shim_up --takeover=refuse
kernel_up
start d1 "$C" "tcp:127.0.0.1:$PORT" wait-stop 10000 sleep 2000 version go
D1=$LAST
wait_line "$T/d1.out" "stopped" 10 || fail "first debugger did not attach"
"$C" --sync-timeout 2000 "tcp:127.0.0.1:$PORT" version >"$T/d2.out" 2>&1 &&
    fail "--takeover refuse let a second debugger in"
wait_line "$T/shim.err" "refused a debugger connection from 127.0.0.1:[0-9]*: the debugger at 127.0.0.1:[0-9]* is still connected" 5 ||
    fail "the refusal was not logged with both addresses"
wait_exit "$D1" 20 || fail "first debugger hung"
[ "$RC" = 0 ] || fail "the first debugger was disturbed (exit $RC)"
"$C" "tcp:127.0.0.1:$PORT" version go >"$T/d3.out" 2>&1 ||
    fail "the next debugger was refused after the first had gone"
# A debugger killed (its socket closed by the system) is gone, not alive.
start d4 "$C" "tcp:127.0.0.1:$PORT" break sleep 20000
D4=$LAST
wait_line "$T/d4.out" "stopped" 10 || fail "fourth debugger did not attach"
kill -KILL "$D4"
wait_exit "$D4" 5
"$C" "tcp:127.0.0.1:$PORT" version go >"$T/d5.out" 2>&1 ||
    fail "a killed debugger still blocked the next one"
stop "$SHIM"
grep -q "refused allow/takeover=0/1" "$T/shim.err" ||
    fail "counters: $(grep 'debuggers:' "$T/shim.err")"

# --takeover replace, the default: the newcomer gets the kernel, and the
# replacement is logged with both addresses.
stop "$SIM"
shim_up
kernel_up
start r1 "$C" "tcp:127.0.0.1:$PORT" wait-stop 10000 sleep 20000 go
R1=$LAST
wait_line "$T/r1.out" "stopped" 10 || fail "first debugger did not attach (replace)"
"$C" "tcp:127.0.0.1:$PORT" version go >"$T/r2.out" 2>&1 ||
    fail "the second debugger did not take over"
grep -q "debugger 127.0.0.1:[0-9]* replaced by a new connection from 127.0.0.1:[0-9]*" \
    "$T/shim.err" || fail "the replacement was not logged with both addresses"
wait_exit "$R1" 10 || fail "the replaced debugger hung"
[ "$RC" = 0 ] && fail "the replaced debugger did not notice"
stop "$SHIM"
stop "$SIM"

# A listener other hosts can reach is warned about, naming the risk; a
# loopback one is not.  (The wildcard listener admits only 127.0.0.1.)
grep -q "WARNING" "$T/shim.err" && fail "a loopback listener was warned about"
start wild "$BIN/kdcom-shim" -q --shm "$T/kd.shm" --allow 127.0.0.1 \
    tcp-listen:0.0.0.0:0
W=$LAST
wait_value "$T/wild.out" KDCOM_SHIM_PORT >/dev/null || fail "no wildcard port"
stop "$W"
grep -q "WARNING: tcp 0.0.0.0:[0-9]* is not a loopback address: whoever can reach it can read and write the guest kernel's memory" \
    "$T/wild.err" || fail "no warning for 0.0.0.0: $(cat "$T/wild.err")"
pass "socket modes, --allow ($v6), --takeover refuse and replace, the 0.0.0.0 warning"
