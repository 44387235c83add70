# SPDX-License-Identifier: BSD-2-Clause
#
# lib.sh - shared by the end-to-end tests: the process helpers of
# tests/proc.sh (a private temp directory, child processes that are always
# stopped and reaped, bounded waits) and the programs most tests start.
# Source it from a script one directory below tests/; E2E_BIN must name
# the directory with the example programs.

BIN=${E2E_BIN:?E2E_BIN must point at the example programs}
TMP_NAME=kdcom-e2e
. "$(dirname "$0")/../proc.sh"

# shim_up: starts kdcom-shim on $T/kd.shm and a free port; sets $PORT.
shim_up() {
    start shim "$BIN/kdcom-shim" --shm "$T/kd.shm" "$@" tcp-listen:127.0.0.1:0
    SHIM=$LAST
    PORT=$(wait_value "$T/shim.out" KDCOM_SHIM_PORT) || fail "shim did not start"
}

# kernel_up [LOGNAME] [OPTIONS]: starts kdcom-simkernel-vm on $T/kd.shm.
kernel_up() {
    n=${1:-sim}
    [ $# -gt 0 ] && shift
    start "$n" "$BIN/kdcom-simkernel-vm" -q "$@" "$T/kd.shm"
    SIM=$LAST
}
