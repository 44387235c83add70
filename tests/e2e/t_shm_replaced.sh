#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# End to end: the channel file is deleted and created again between two
# runs of the kernel (a VM restarted with a fresh memory-backend-file);
# the shim maps the new file by itself and serves the new kernel.
. "$(dirname "$0")/lib.sh"

shim_up
kernel_up sim1
client_session c1 "first session failed"
stop "$SIM"
rm -f "$T/kd.shm"
wait_line "$T/shim.err" "removed" 5 || fail "shim did not notice the removal"
truncate -s 256K "$T/kd.shm" || fail "truncate"
wait_line "$T/shim.err" "mapped again" 5 || fail "shim did not remap"
kernel_up sim2
client_session c2 "session with the new file failed" version \
    verify 0xfffff80000000000 64K go
pass
