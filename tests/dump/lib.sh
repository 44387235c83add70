# SPDX-License-Identifier: BSD-2-Clause
#
# lib.sh - shared by the capture tests (tests/dump/t_*.sh): a private temp
# directory, background programs that are always stopped and reaped,
# bounded waits, and the recorded sessions the tests decode.  Source it;
# DUMP_BIN names the directory with the example programs and kdcom-dump,
# DUMP_PROXY the recording proxy, DUMP_LUA the dissector.

set -u
BIN=${DUMP_BIN:?DUMP_BIN must point at the example programs}
PROXY=${DUMP_PROXY:?DUMP_PROXY must name tests/dump/kdproxy}
LUA=${DUMP_LUA:?DUMP_LUA must name examples/wireshark/kdcom.lua}
HERE=$(cd "$(dirname "$0")" && pwd)
CHECK="python3 $HERE/check.py"
MKPCAP="python3 $HERE/mkpcap.py"
DUMP="$BIN/kdcom-dump"
T=$(mktemp -d "${TMPDIR:-/tmp}/kdcom-dump.XXXXXX") || exit 1
PIDS=
NAME=$(basename "$0" .sh)

stop() {
    kill -TERM "$1" 2>/dev/null
    i=0
    while kill -0 "$1" 2>/dev/null && [ $i -lt 40 ]; do
        sleep 0.05
        i=$((i + 1))
    done
    kill -KILL "$1" 2>/dev/null
    wait "$1" 2>/dev/null
    rest=
    for p in $PIDS; do [ "$p" = "$1" ] || rest="$rest $p"; done
    PIDS=$rest
}

cleanup() {
    status=$?
    for p in $PIDS; do stop "$p"; done
    if grep -l -s -e "runtime error:" -e "ERROR: AddressSanitizer" \
            -e "ERROR: LeakSanitizer" "$T"/*.err "$T"/*.out >/dev/null; then
        echo "FAIL $NAME: sanitizer report"
        grep -h -s -A5 -e "runtime error:" -e "ERROR: AddressSanitizer" \
            -e "ERROR: LeakSanitizer" "$T"/*.err "$T"/*.out | head -n 40
        status=1
    fi
    rm -rf "$T"
    exit $status
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

# start LOGNAME CMD...: CMD in the background, output in $T/LOGNAME.out
# and .err, its pid in $LAST.
start() {
    n=$1
    shift
    : >"$T/$n.out"
    : >"$T/$n.err"
    "$@" >>"$T/$n.out" 2>>"$T/$n.err" &
    LAST=$!
    PIDS="$PIDS $LAST"
}

fail() {
    echo "FAIL $NAME: $*"
    for f in "$T"/*.out "$T"/*.err; do
        case $f in *.jsonl.out|*.pdml.out) continue;; esac
        [ -s "$f" ] && tail -n 15 "$f" | sed "s|^|  $(basename "$f"): |"
    done
    exit 1
}

pass() {
    echo "PASS $NAME${1:+: $1}"
    exit 0
}

# wait_value FILE NAME: waits up to 5 s for NAME=VALUE, prints VALUE.
wait_value() {
    i=0
    while [ $i -lt 100 ]; do
        v=$(sed -n "s/^$2=//p" "$1" 2>/dev/null | head -n 1)
        [ -n "$v" ] && { echo "$v"; return 0; }
        sleep 0.05
        i=$((i + 1))
    done
    return 1
}

# wait_exit PID SECONDS: waits for a background process to end; status
# in $RC (124 if it had to be stopped).
wait_exit() {
    i=0
    while kill -0 "$1" 2>/dev/null && [ $i -lt $(($2 * 20)) ]; do
        sleep 0.05
        i=$((i + 1))
    done
    if kill -0 "$1" 2>/dev/null; then
        stop "$1"
        RC=124
        return 1
    fi
    wait "$1"
    RC=$?
    rest=
    for p in $PIDS; do [ "$p" = "$1" ] || rest="$rest $p"; done
    PIDS=$rest
    return 0
}

# tshark with the dissector and nobody's personal configuration.
have_tshark() {
    command -v tshark >/dev/null 2>&1
}
tshark_kd() {
    mkdir -p "$T/home"
    HOME="$T/home" XDG_CONFIG_HOME="$T/home/.config" \
        tshark -X lua_script:"$LUA" "$@" 2>"$T/tshark.err"
}

# proxy NAME UPSTREAM_PORT [faults]: the recording proxy in front of a
# target on 127.0.0.1:UPSTREAM_PORT, writing $T/NAME.pcapng; sets
# $PPORT and $PROXYPID.
proxy() {
    pn=$1
    up=$2
    shift 2
    start "$pn" "$PROXY" --connect "127.0.0.1:$up" --pcap "$T/$pn.pcapng" "$@"
    PROXYPID=$LAST
    PPORT=$(wait_value "$T/$pn.out" KDPROXY_PORT) || fail "proxy did not start"
}
