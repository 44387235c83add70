#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# QEMU, the classic path: the bare-metal kernel speaks KDCOM itself
# (guest/'s uart back end, libkdcom's TARGET role in ring 0) through
# QEMU's emulated 16550 on COM1, whose chardev is a socket kdcom-client
# connects to, as WinDbg would: sync, version, 1 MiB verified read, write
# read back, continue, break-in, continue; a debugger killed mid-read and
# a new one attaching; .reboot ends QEMU with status 33.
. "$(dirname "$0")/lib.sh"

SOCK="$T/com1.sock"
qemu_up uart uart uart-unix "$SOCK" "print=500"
wait_line "$T/uart.console" "16550 at COM1" 60 || fail "kernel did not find COM1"
i=0
while [ ! -S "$SOCK" ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i + 1)); done

debug_session "unix:$SOCK" uart 64K
show_session uart
pass "16550 session verified, QEMU exit status $RC"
