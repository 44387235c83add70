#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
#
# t_kd_client_exits.sh - docs/python.md promises that kd_client.py never
# waits forever.  With nothing but an endpoint and --go, against
# kdcom-shim serving a kdcom-simkernel-vm that runs and prints a
# heartbeat every 200 ms (so no silence ends it, and the peer never
# closes), it must end by itself after its default --max-time of 30 s,
# with exit status 3 and the reason.
#
# Environment: E2E_BIN (the example programs), KDCOM_PY_PATH (the built
# kdcom package), PYTHON.

. "$(dirname "$0")/../e2e/lib.sh"
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
PY=${PYTHON:-python3}

shim_up
kernel_up sim --print-interval 200
start client env PYTHONPATH="${KDCOM_PY_PATH:?}" \
    "$PY" "$ROOT/examples/python/kd_client.py" "127.0.0.1:$PORT" --go
CLIENT=$LAST
wait_exit "$CLIENT" 50 || fail "kd_client.py still running after 50 s"
[ "$RC" = 3 ] || fail "exit status $RC, not 3"
grep -q "error: still running after 30 s (--max-time" "$T/client.out" ||
    fail "no --max-time message"
grep -q "heartbeat" "$T/client.out" ||
    fail "the target never ran (no heartbeat seen)"
pass "ended by itself after its default --max-time, status 3"
