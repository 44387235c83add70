# SPDX-License-Identifier: BSD-2-Clause
#
# lib.sh - shared by the QEMU tests: the end-to-end helpers
# (tests/e2e/lib.sh) plus booting the bare-metal test kernel through
# examples/qemu/qemu-kd.sh, the same command lines the docs give.  Every
# QEMU runs under `timeout` and writes a pidfile; cleanup kills it by that
# pid, so nothing outlives a test.  QEMU_BM must name the directory with
# the kernels.

HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../e2e/lib.sh"
BM=${QEMU_BM:?QEMU_BM must point at the bare-metal kernels}
QEMU_KD="$HERE/../../examples/qemu/qemu-kd.sh"
QEMU_TIMEOUT=${QEMU_TIMEOUT:-240}

if ! command -v "${QEMU:-qemu-system-x86_64}" >/dev/null 2>&1; then
    echo "SKIP: qemu-system-x86_64 not installed ($NAME; make deps installs qemu-system-x86)"
    trap - EXIT
    rm -rf "$T"
    exit 0
fi

QEMU_PIDFILES=
# Kills every QEMU this test started, by the pid QEMU wrote, then runs the
# e2e cleanup.
qemu_cleanup() {
    status=$?
    for f in $QEMU_PIDFILES; do
        p=$(cat "$f" 2>/dev/null) || continue
        [ -n "$p" ] && kill -KILL "$p" 2>/dev/null
    done
    (exit $status)
    cleanup
}
trap qemu_cleanup EXIT

# qemu_up LOGNAME KERNEL MODE ARG [APPEND]: boots KERNEL (vm or uart) in
# the background; console in $T/LOGNAME.console, pid in $QEMU_PID (the
# timeout wrapper's in $LAST).  Waits until QEMU wrote its pidfile.
qemu_up() {
    n=$1 k=$2 mode=$3 arg=$4 app=${5:-}
    rm -f "$T/$n.pid"
    : >"$T/$n.console"
    QEMU_PIDFILES="$QEMU_PIDFILES $T/$n.pid"
    start "$n" timeout -k 5 "$QEMU_TIMEOUT" sh "$QEMU_KD" run "$mode" "$arg" \
        "$BM/kdcom-bm-$k.elf" --append "$app" --console "$T/$n.console" \
        --pidfile "$T/$n.pid"
    QEMU_WRAP=$LAST
    i=0
    while [ ! -s "$T/$n.pid" ] && [ $i -lt 200 ]; do
        kill -0 "$QEMU_WRAP" 2>/dev/null || fail "QEMU did not start"
        sleep 0.05
        i=$((i + 1))
    done
    QEMU_PID=$(cat "$T/$n.pid" 2>/dev/null) || fail "QEMU wrote no pidfile"
}

# qemu_wait_exit SECONDS: waits for the QEMU of the last qemu_up to exit
# by itself; its status (the kernel's isa-debug-exit code) in $RC.
qemu_wait_exit() {
    wait_exit "$QEMU_WRAP" "$1"
}

# wait_count FILE PATTERN N SECONDS: waits until N lines match PATTERN.
wait_count() {
    i=0
    while [ $i -lt $(($4 * 20)) ]; do
        [ "$(grep -c -e "$2" "$1" 2>/dev/null)" -ge "$3" ] && return 0
        sleep 0.05
        i=$((i + 1))
    done
    return 1
}

# show_console LOGNAME: the kernel's log, indented, into the test log.
show_console() {
    sed "s|^|    $1 console: |" "$T/$1.console"
}
