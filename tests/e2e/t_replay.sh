#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# A recorded debugger session replayed against the simulated kernel:
# tests/vectors/kdcom-client_simkernel-session.txt holds every DbgKd API
# kdcom-client sends, valid and invalid; tests/e2e/kdreplay sends the
# recorded requests to a fresh kernel and checks the status, size and
# returned count of every answer and every stop against the recording.
# On the serial simulated kernel and on the VM path behind the shim.
. "$(dirname "$0")/lib.sh"
TOOLS=${E2E_TOOLS:-$BIN/../tests/e2e}
VECTOR=$(dirname "$0")/../vectors/kdcom-client_simkernel-session.txt

start sim "$BIN/kdcom-simkernel" -q --unload-after 300 \
    --pull-file "\\SystemRoot\\system32\\drivers\\kdtest.sys" \
    tcp-listen:127.0.0.1:0
port=$(wait_value "$T/sim.out" KDCOM_SIM_PORT) || fail "simulated kernel did not start"
"$TOOLS/kdreplay" "$VECTOR" 127.0.0.1 "$port" >"$T/replay-serial.out" 2>&1 ||
    fail "serial: $(grep -e FAIL -e kdreplay: "$T/replay-serial.out" | head -n 20)"

shim_up
kernel_up sim-vm --unload-after 300 \
    --pull-file "\\SystemRoot\\system32\\drivers\\kdtest.sys"
"$TOOLS/kdreplay" "$VECTOR" 127.0.0.1 "$PORT" >"$T/replay-vm.out" 2>&1 ||
    fail "vm: $(grep -e FAIL -e kdreplay: "$T/replay-vm.out" | head -n 20)"
pass "$(tail -n 1 "$T/replay-serial.out" | sed 's/^PASS kdreplay: //'), on both paths"
