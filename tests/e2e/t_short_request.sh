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

each_path check -q
pass
