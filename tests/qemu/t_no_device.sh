#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# QEMU, the bare-metal kernel's refusals: no ivshmem device, a region
# smaller than the VM channel's minimum, no 16550 at COM1.  Each is named
# on the console and QEMU exits with status 65 (never a hang, never a
# crash).
. "$(dirname "$0")/lib.sh"

# The vm kernel in a VM with only a serial port.
qemu_up nodev vm uart-unix "$T/unused.sock" ""
qemu_wait_exit 60 || fail "vm kernel without ivshmem did not exit"
[ "$RC" = 65 ] || fail "no ivshmem: QEMU exit status $RC, expected 65"
grep -q "no ivshmem device (PCI 1af4:1110)" "$T/nodev.console" || fail "no ivshmem: no message"

# An 8 KiB region (the channel needs 12 KiB).
: >"$T/small.shm"
start small timeout -k 5 "$QEMU_TIMEOUT" sh "$QEMU_KD" run vm-plain \
    "$T/small.shm" "$BM/kdcom-bm-vm.elf" --size 8K \
    --console "$T/small.console" --pidfile "$T/small.pid"
QEMU_WRAP=$LAST
QEMU_PIDFILES="$QEMU_PIDFILES $T/small.pid"
qemu_wait_exit 60 || fail "vm kernel with a small region did not exit"
[ "$RC" = 65 ] || fail "small region: QEMU exit status $RC, expected 65"
grep -q "smaller than the VM channel's minimum" "$T/small.console" || fail "small region: no message"

# The uart kernel in a VM without a serial port.
qemu_up nocom uart vm-plain "$T/kd.shm" ""
qemu_wait_exit 60 || fail "uart kernel without COM1 did not exit"
[ "$RC" = 65 ] || fail "no COM1: QEMU exit status $RC, expected 65"
grep -q "no 16550 at COM1" "$T/nocom.console" || fail "no COM1: no message"

show_console nodev
show_console small
show_console nocom
pass "missing and small devices refused with status 65"
