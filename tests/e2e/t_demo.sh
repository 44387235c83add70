#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# End to end: `make demo`'s pipeline (simulated kernel on the VM channel,
# kdcom-shim, TCP, kdcom-client) verifies every step and leaves nothing.
. "$(dirname "$0")/lib.sh"

mkdir "$T/tmp" || fail "mkdir"
TMPDIR="$T/tmp" sh "$(dirname "$0")/../../examples/demo/demo.sh" "$BIN" \
    >"$T/demo.out" 2>&1 || fail "demo exited $?"
grep -q "demo: every step verified" "$T/demo.out" || fail "no verdict"
grep -q "verify: 1048576 bytes" "$T/demo.out" || fail "no 1 MiB verify"
grep -q "dbgprint: simkernel: running (resume 1)" "$T/demo.out" ||
    fail "no DbgPrint after the break-in"
[ -z "$(ls -A "$T/tmp")" ] || fail "the demo left files behind"

# Interrupted (Ctrl-C's SIGINT, and SIGTERM), wherever the signal lands:
# nothing of it may stay, neither processes nor files.
left_behind() {
    for f in /proc/[0-9]*/cmdline; do
        { tr '\0' ' ' <"$f"; } 2>/dev/null | grep -q -F "$1" &&
            echo "${f%/cmdline}"
    done
}
mkdir "$T/int" "$T/term" || fail "mkdir"
TMPDIR="$T/int" timeout -s INT 0.2 sh "$(dirname "$0")/../../examples/demo/demo.sh" \
    "$BIN" >"$T/int.out" 2>&1
start term env TMPDIR="$T/term" sh "$(dirname "$0")/../../examples/demo/demo.sh" "$BIN"
wait_line "$T/term.out" "libkdcom demo" 5 || fail "demo did not start"
kill -TERM "$LAST"
wait_exit "$LAST" 10 || fail "demo ignored SIGTERM"
sleep 0.2
for d in int term; do
    [ -z "$(left_behind "$T/$d/")" ] || fail "processes left after SIG$d"
    [ -z "$(ls -A "$T/$d")" ] || fail "files left after SIG$d"
done
pass "$(grep -o '[0-9.]* MB/s' "$T/demo.out")"
