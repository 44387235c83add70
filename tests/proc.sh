# SPDX-License-Identifier: BSD-2-Clause
#
# proc.sh - the process helpers the test and bench scripts share: a
# private temp directory ($T), background programs whose output goes to
# $T/NAME.out and .err and that are always stopped and reaped, bounded
# waits, and PASS/FAIL lines.  Source it (tests/e2e/lib.sh,
# tests/dump/lib.sh and tests/bench/*.sh do); TMP_NAME names the temp
# directory (kdcom-test.XXXXXX by default), LOG_LINES how much of each log
# `fail` shows (30).  A script that shows only some logs defines
# log_shown FILE after sourcing (every log by default).

set -u
T=$(mktemp -d "${TMPDIR:-/tmp}/${TMP_NAME:-kdcom-test}.XXXXXX") || exit 1
PIDS=
NAME=$(basename "$0" .sh)
LOG_LINES=${LOG_LINES:-30}

# forget PID: drops PID from $PIDS.
forget() {
    rest=
    for p in $PIDS; do [ "$p" = "$1" ] || rest="$rest $p"; done
    PIDS=$rest
}

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
    forget "$1"
}

# After every process is gone (a stopped one is continued first): a
# sanitizer report in any log fails the script, even one from a
# background program that exited on its own.
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

log_shown() {
    return 0
}

# fail MESSAGE: the FAIL line, the end of every log shown, exit 1.
fail() {
    echo "FAIL $NAME: $*"
    for f in "$T"/*.out "$T"/*.err; do
        log_shown "$f" || continue
        [ -s "$f" ] && tail -n "$LOG_LINES" "$f" | sed "s|^|  $(basename "$f"): |"
    done
    exit 1
}

pass() {
    echo "PASS $NAME${1:+: $1}"
    exit 0
}

# wait_value FILE NAME [SECONDS]: waits up to SECONDS (5) for a line
# NAME=VALUE in FILE, prints VALUE.
wait_value() {
    i=0
    while [ $i -lt $((${3:-5} * 20)) ]; do
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
    forget "$1"
    return 0
}
