#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
#
# demo.sh - `make demo`: the whole VMKD pipeline on one machine.
#
#   kdcom-simkernel-vm --(shared-memory file)--> kdcom-shim --(TCP, a free
#   loopback port)--> kdcom-client
#
# The simulated kernel runs guest/'s vm back end over the VM channel; the
# shim serves it as KDCOM on 127.0.0.1; the client syncs, reads the
# version, reads and verifies 1 MiB, writes and reads back, breaks in,
# continues and waits for DbgPrint output.  Every step is checked by the
# client (a failed step makes it exit non-zero).  Exits 0 only if all
# passed; every process and file it made is gone when it ends, also after
# Ctrl-C.
#
# usage: demo.sh BINDIR   (BINDIR holds kdcom-shim, kdcom-simkernel-vm,
#                          kdcom-client)

set -u
BIN=${1:?usage: demo.sh BINDIR}
tmp=
pids=

# Our children, from /proc: a signal can land between `prog &` and the
# line that records $!, and such a child must not outlive the demo either.
children() {
    for s in /proc/[0-9]*/stat; do
        ppid=$(sed -n 's/.*) . \([0-9]*\) .*/\1/p' "$s" 2>/dev/null)
        [ "$ppid" = "$$" ] || continue
        s=${s#/proc/}
        echo "${s%/stat}"
    done
}

cleanup() {
    # A second Ctrl-C must not cut the clean-up short.
    trap '' INT TERM HUP
    all="$pids $(children)"
    for p in $all; do kill "$p" 2>/dev/null; done
    for p in $all; do wait "$p" 2>/dev/null; done
    pids=
    [ -z "$tmp" ] || rm -rf "$tmp"
}
# Traps first, then the temporary directory: an early Ctrl-C leaves
# nothing behind either.
trap cleanup EXIT
trap 'echo "demo: interrupted" >&2; exit 130' INT TERM HUP
tmp=$(mktemp -d "${TMPDIR:-/tmp}/kdcom-demo.XXXXXX") || exit 1

fail() {
    echo "demo: FAILED: $*" >&2
    for f in shim.err sim.err; do
        [ -s "$tmp/$f" ] && sed "s/^/  $f: /" "$tmp/$f" >&2
    done
    exit 1
}

# Waits (at most 5 s) for NAME=VALUE on a program's stdout, prints VALUE.
wait_value() {
    i=0
    while [ $i -lt 100 ]; do
        v=$(sed -n "s/^$2=//p" "$1" 2>/dev/null)
        [ -n "$v" ] && { echo "$v"; return 0; }
        sleep 0.05
        i=$((i + 1))
    done
    return 1
}

echo "== libkdcom demo: simulated kernel -> VM channel -> kdcom-shim -> TCP -> kdcom-client"
"$BIN/kdcom-shim" --shm "$tmp/kd.shm" tcp-listen:127.0.0.1:0 \
    >"$tmp/shim.out" 2>"$tmp/shim.err" &
pids="$pids $!"
port=$(wait_value "$tmp/shim.out" KDCOM_SHIM_PORT) ||
    fail "kdcom-shim did not start"
echo "   shim: channel $tmp/kd.shm served on 127.0.0.1:$port" \
     "(WinDbg: windbg -k com:ipport=$port,port=127.0.0.1)"
"$BIN/kdcom-simkernel-vm" -q "$tmp/kd.shm" 2>"$tmp/sim.err" &
pids="$pids $!"
echo "   kernel: kdcom-simkernel-vm booting on the channel"
echo "== debugger session"
mark=6b64636f6d2064656d6f21   # "kdcom demo!"
"$BIN/kdcom-client" "tcp:127.0.0.1:$port" \
    wait-stop 10000 \
    version \
    verify 0xfffff80000000000 1M \
    write 0xfffff80000200000 $mark \
    expect 0xfffff80000200000 $mark \
    context \
    go \
    wait-print "running (resume 0)" 5000 \
    break \
    go \
    wait-print "running (resume 1)" 5000 \
    stats || fail "a session step did not verify (see above)"
echo "== shim counters"
kill -TERM $pids 2>/dev/null
for p in $pids; do wait "$p" 2>/dev/null; done
pids=
grep -E '^kdcom-shim: (channel|link):' "$tmp/shim.err" | sed 's/^kdcom-shim: /   /'
grep -q 'errors=0 ' "$tmp/shim.err" || fail "the shim counted channel errors"
echo "== demo: every step verified"
exit 0
