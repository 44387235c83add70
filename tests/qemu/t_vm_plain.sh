#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# QEMU, VM channel on ivshmem-plain: the bare-metal kernel runs guest/'s
# vm back end in ring 0 behind a real PCI device; kdcom-shim serves its
# region as KDCOM on TCP; kdcom-client debugs it: sync, version, 1 MiB
# verified read, write read back, continue, break-in, continue; then a
# debugger killed mid-read and a new one attaching; then .reboot, which
# the kernel turns into QEMU's exit status 33.
. "$(dirname "$0")/lib.sh"

shim_up
qemu_up vm vm vm-plain "$T/kd.shm" "print=500"
wait_line "$T/vm.console" "region validated" 60 || fail "kernel did not find its region"
grep -q "ivshmem found at PCI" "$T/vm.console" || fail "no PCI line"
grep -q "ivshmem-plain: no doorbell" "$T/vm.console" || fail "plain device not recognised"

debug_session "tcp:127.0.0.1:$PORT" vm 256K
kill -0 "$SHIM" 2>/dev/null || fail "shim died"
show_session vm
pass "ivshmem-plain session verified, QEMU exit status $RC"
