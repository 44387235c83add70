#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# End to end: the channel file is truncated under the shim's mapping (the
# lost pages raise SIGBUS) and then extended again; the shim survives,
# waits, and serves a kernel on the file afterwards.
. "$(dirname "$0")/lib.sh"

shim_up
kernel_up sim1
client_session c1 "first session failed"
stop "$SIM"
truncate -s 0 "$T/kd.shm" || fail "truncate"
wait_line "$T/shim.err" "shrank under the mapping" 5 ||
    fail "shim did not notice the truncation"
kill -0 "$SHIM" 2>/dev/null || fail "shim died of SIGBUS"
truncate -s 1M "$T/kd.shm" || fail "truncate"
wait_line "$T/shim.err" "whole again" 5 || fail "shim did not recover"
kernel_up sim2
client_session c2 "session after the truncation failed"
pass
