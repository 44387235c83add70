#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# End to end over a damaged line: a proxy (tests/e2e/faultproxy) between
# kdcom-client and the target flips one bit in the packet type of 3 % of
# the packets of every kind, both ways (an ACK becomes a RESEND, a RESET
# or nothing).  A request whose type becomes another data type is
# acknowledged by the target and dropped (docs/protocol.md 5.3),
# a reply likewise by the client: the client must send the request again
# after its reply timeout, as a new packet, and the 1 MiB verified read
# completes.  On the serial simulated kernel, then on the VM path
# (kdcom-simkernel-vm behind kdcom-shim).  A client that waits for the
# lost answer fails after --timeout.
. "$(dirname "$0")/lib.sh"
TOOLS=${E2E_TOOLS:-$BIN/../tests/e2e}

# lossy NAME PORT SEED FRAMES: the client through a proxy to PORT that
# damages FRAMES (data or all).
lossy() {
    start "proxy-$1" "$TOOLS/faultproxy" --seed "$3" --rate 3 --damage type \
        --frames "$4" 127.0.0.1 "$2"
    proxy=$LAST
    pport=$(wait_value "$T/proxy-$1.out" FAULTPROXY_PORT) ||
        fail "$1: proxy did not start"
    "$BIN/kdcom-client" --timeout 20000 "tcp:127.0.0.1:$pport" \
        wait-stop 10000 verify 0xfffff80000000000 1M stats \
        >"$T/client-$1.out" 2>&1 || fail "$1: the verified read failed"
    wait_exit "$proxy" 5 || fail "$1: proxy still running"
    grep -q "damaged=[1-9]" "$T/proxy-$1.err" ||
        fail "$1: the proxy damaged nothing"
    resent=$(grep -c "sending it again" "$T/client-$1.out")
    [ "$resent" -gt 0 ] || fail "$1: no request was lost (seed too kind)"
}

start sim "$BIN/kdcom-simkernel" -q tcp-listen:127.0.0.1:0
port=$(wait_value "$T/sim.out" KDCOM_SIM_PORT) || fail "simulated kernel did not start"
lossy serial "$port" 1 all
serial=$resent

shim_up
kernel_up
lossy vm "$PORT" 2 all
pass "1 MiB verified through 3 % damaged packets: $serial requests re-sent on the serial path, $resent on the VM path"
