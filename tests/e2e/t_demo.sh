#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# End to end: `make demo`'s pipeline (simulated kernel on the VM channel,
# kdcom-shim, TCP, kdcom-client) verifies every step and leaves nothing.
. "$(dirname "$0")/lib.sh"

before=$(ls -d "${TMPDIR:-/tmp}"/kdcom-demo.* 2>/dev/null | wc -l)
sh "$(dirname "$0")/../../examples/demo/demo.sh" "$BIN" >"$T/demo.out" 2>&1 ||
    fail "demo exited $?"
grep -q "demo: every step verified" "$T/demo.out" || fail "no verdict"
grep -q "verify: 1048576 bytes" "$T/demo.out" || fail "no 1 MiB verify"
grep -q "dbgprint: simkernel: running (resume 1)" "$T/demo.out" ||
    fail "no DbgPrint after the break-in"
after=$(ls -d "${TMPDIR:-/tmp}"/kdcom-demo.* 2>/dev/null | wc -l)
[ "$before" = "$after" ] || fail "the demo left a temp directory behind"
pass "$(grep -o '[0-9.]* MB/s' "$T/demo.out")"
