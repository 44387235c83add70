#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# End to end: a request too short for the message header the stopped
# kernel receives into (4 bytes where DBGKD_MANIPULATE_STATE64 has 56) is
# answered RESEND, not acknowledged, and the expected id stays: the next
# whole request under the same id is served (docs/protocol.md 5.8).  On
# the VM path (the host service sets the minimum from the guest's
# RECEIVE), the uart path (the same service inside the guest) and the
# serial simulated kernel.
. "$(dirname "$0")/lib.sh"

P=${E2E_KDPEER:?E2E_KDPEER must point at the kdpeer test program}

check() {
    "$P" 127.0.0.1 "$2" stop 10000 short version short version go \
        >"$T/$1.out" 2>&1 || fail "$1: short request not refused"
}

shim_up
kernel_up
check vm "$PORT"
stop "$SIM"
stop "$SHIM"

start uart "$BIN/kdcom-simkernel-uart" -q tcp-listen:127.0.0.1:0
port=$(wait_value "$T/uart.out" KDCOM_SIM_PORT) || fail "uart: no port"
check uart "$port"
stop "$LAST"

start fd "$BIN/kdcom-simkernel" -q tcp-listen:127.0.0.1:0
port=$(wait_value "$T/fd.out" KDCOM_SIM_PORT) || fail "fd: no port"
check fd "$port"
pass
