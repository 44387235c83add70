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

# debug_session ENDPOINT CONSOLE VERIFY_LEN: the session every QEMU test
# runs against the kernel whose console is $T/CONSOLE.console: sync,
# version, 1 MiB verified read, write read back, continue, break-in,
# continue; a debugger killed mid-read (once its break-in, the kernel's
# second, has stopped the kernel; 16-byte reads keep it reading far longer
# than the second it lives) and a new one taking over, verifying
# VERIFY_LEN bytes; .reboot, which must end QEMU with status 33 ($RC).
debug_session() {
    ep=$1 con="$T/$2.console"
    "$BIN/kdcom-client" "$ep" wait-stop 60000 version \
        verify 0xfffff80000000000 1M \
        write 0xfffff80000002000 c0ffee expect 0xfffff80000002000 c0ffee \
        go wait-print "resume 0" 30000 break go wait-print "resume 1" 30000 \
        >"$T/c1.out" 2>&1 || fail "first session failed"
    grep -q "version: .*build 19041" "$T/c1.out" || fail "no version line"
    grep -q "verify: 1048576 bytes .* match the pattern" "$T/c1.out" ||
        fail "1 MiB read not verified"
    start c2 "$BIN/kdcom-client" -q --chunk 16 "$ep" break \
        bench-read 0xfffff80000000000 4M
    c2=$LAST
    wait_count "$con" "sim: break-in" 2 60 || fail "second debugger did not break in"
    sleep 1
    kill -KILL "$c2" 2>/dev/null
    wait_exit "$c2" 5
    "$BIN/kdcom-client" "$ep" wait-stop 30000 version \
        verify 0xfffff80000010000 "$3" expect 0xfffff80000002000 c0ffee \
        reboot >"$T/c3.out" 2>&1 || fail "second debugger could not take over"
    qemu_wait_exit 60 || fail "QEMU did not exit after .reboot"
    [ "$RC" = 33 ] || fail "QEMU exit status $RC, expected 33 (reboot)"
}

# show_session CONSOLE: the kernel's log and both debuggers' transcripts.
show_session() {
    show_console "$1"
    sed 's|^|    c1: |' "$T/c1.out"
    sed 's|^|    c3: |' "$T/c3.out"
}

# show_console LOGNAME: the kernel's log, indented, into the test log.
show_console() {
    sed "s|^|    $1 console: |" "$T/$1.console"
}
