# SPDX-License-Identifier: BSD-2-Clause
#
# lib.sh - shared by the end-to-end tests: a private temp directory, child
# processes that are always stopped and reaped, and bounded waits.  Source
# it; E2E_BIN must name the directory with the example programs.

set -u
BIN=${E2E_BIN:?E2E_BIN must point at the example programs}
T=$(mktemp -d "${TMPDIR:-/tmp}/kdcom-e2e.XXXXXX") || exit 1
PIDS=
NAME=$(basename "$0" .sh)

# Stops a process: TERM, up to 2 s of grace, then KILL; always reaped.
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

# After every process is gone: a sanitizer report in any log fails the
# test, even one from a background program that exited on its own.
cleanup() {
    status=$?
    for p in $PIDS; do kill -CONT "$p" 2>/dev/null; stop "$p"; done
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

# start LOGNAME CMD...: runs CMD in the background, stdout to
# $T/LOGNAME.out, stderr to $T/LOGNAME.err; its pid in $LAST.
start() {
    n=$1
    shift
    # Emptied here, not by the background job's redirection, which may run
    # later: a wait on the log must never see an earlier run's lines.
    : >"$T/$n.out"
    : >"$T/$n.err"
    "$@" >>"$T/$n.out" 2>>"$T/$n.err" &
    LAST=$!
    PIDS="$PIDS $LAST"
}

fail() {
    echo "FAIL $NAME: $*"
    for f in "$T"/*.out "$T"/*.err; do
        [ -s "$f" ] && tail -n 30 "$f" | sed "s|^|  $(basename "$f"): |"
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

# wait_line FILE PATTERN SECONDS: waits for a line matching PATTERN.
wait_line() {
    i=0
    while [ $i -lt $(($3 * 20)) ]; do
        grep -q -e "$2" "$1" 2>/dev/null && return 0
        sleep 0.05
        i=$((i + 1))
    done
    return 1
}

# wait_exit PID SECONDS: waits for a background process to end by itself;
# its status in $RC (124 if it had to be stopped).
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

# shim_up: starts kdcom-shim on $T/kd.shm and a free port; sets $PORT.
shim_up() {
    start shim "$BIN/kdcom-shim" --shm "$T/kd.shm" "$@" tcp-listen:127.0.0.1:0
    SHIM=$LAST
    PORT=$(wait_value "$T/shim.out" KDCOM_SHIM_PORT) || fail "shim did not start"
}

# kernel_up [LOGNAME] [OPTIONS]: starts kdcom-simkernel-vm on $T/kd.shm.
kernel_up() {
    n=${1:-sim}
    [ $# -gt 0 ] && shift
    start "$n" "$BIN/kdcom-simkernel-vm" -q "$@" "$T/kd.shm"
    SIM=$LAST
}
